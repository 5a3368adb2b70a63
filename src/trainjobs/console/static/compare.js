// Compare: one chart with the picked series of every compared version overlaid.
import { lineChart, timeAxis } from "./charts.js";

const holder = document.getElementById("compare-data");
if (holder) {
  const data = JSON.parse(holder.textContent);
  const box = document.getElementById("compare-chart");
  const pick = document.getElementById("series-pick");
  let chart = null;

  function draw() {
    const key = pick.value;
    // Versions sampled at different intervals share one axis in minutes: each is
    // placed on the finest interval among them.
    const step = Math.min(...data.series.map((s) => s.interval));
    const longest = Math.max(...data.series.map((s) => (s[key].length * s.interval) / step), 0);
    const axis = timeAxis(Math.ceil(longest), step);
    const scale = axis.unit === "seconds" ? 60 : 1;
    const lines = data.series.map((s, i) => {
      const values = axis.x.map((t) => {
        const at = Math.floor(t / scale / s.interval + 1e-9);
        return at < s[key].length ? s[key][at] : null;
      });
      return { label: data.names[i], values };
    });
    if (chart) {
      window.tjCharts = window.tjCharts.filter((c) => c !== chart);
      chart.destroy();
      box.textContent = "";
    }
    const [title, unit] = data.labels[key];
    chart = lineChart(box, `${title} (${unit})`, unit, axis, lines);
    chart.tjSeries = key;
  }
  pick.addEventListener("change", draw);
  draw();
}
