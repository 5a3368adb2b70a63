// Resource-usage charts on uPlot (vendored, see vendor/VERSIONS.md). Every chart
// drawn is kept in window.tjCharts so its data can be inspected.

const PALETTE = ["#2563eb", "#db2777", "#16a34a", "#d97706", "#7c3aed", "#0891b2"];

// The time axis of `count` points `interval` minutes apart: in seconds for short
// runs, in minutes for longer ones.
export function timeAxis(count, interval) {
  const seconds = count * interval < 3;
  const scale = seconds ? 60 : 1;
  const x = Array.from({ length: count }, (_, i) => +(i * interval * scale).toFixed(4));
  return { x, unit: seconds ? "seconds" : "minutes" };
}

function fmt(unit) {
  return (u, values) => values.map((v) => {
    if (v == null) return "";
    if (unit === "B/s") {
      const k = Math.abs(v);
      if (k >= 1 << 20) return (v / (1 << 20)).toFixed(1) + " MiB/s";
      if (k >= 1 << 10) return (v / (1 << 10)).toFixed(0) + " KiB/s";
      return v.toFixed(0) + " B/s";
    }
    if (unit === "GiB" && Math.abs(v) < 1) return (v * 1024).toFixed(v && Math.abs(v) < 0.01 ? 1 : 0) + " MiB";
    return (+v.toFixed(2)) + " " + unit;
  });
}

export function lineChart(target, title, unit, axis, lines) {
  const x = axis.x;
  const width = Math.max(260, target.clientWidth || 320);
  const opts = {
    title,
    width,
    height: 180,
    scales: { x: { time: false } },
    axes: [
      { label: axis.unit, labelSize: 20, stroke: "#64748b", grid: { stroke: "#eef1f5" } },
      { values: fmt(unit), size: 70, stroke: "#64748b", grid: { stroke: "#eef1f5" } },
    ],
    series: [{ label: axis.unit === "seconds" ? "s" : "min" }, ...lines.map((l, i) => ({
      label: l.label, stroke: PALETTE[i % PALETTE.length], width: 1.5,
      points: { show: x.length < 3 },
    }))],
    legend: { live: true },
  };
  const data = [x, ...lines.map((l) => l.values)];
  const chart = new window.uPlot(opts, data, target);
  chart.tjTitle = title;
  window.tjCharts = window.tjCharts || [];
  window.tjCharts.push(chart);
  const resize = () => chart.setSize({ width: Math.max(260, target.clientWidth), height: 180 });
  new ResizeObserver(resize).observe(target);
  return chart;
}

// The version page's charts: one per resource, paired series drawn together.
export const GROUPS = [
  { title: "CPU", unit: "%", keys: ["cpuUsage"] },
  { title: "Memory", unit: "GiB", keys: ["memUsage"] },
  { title: "GPU utilisation", unit: "%", keys: ["gpuUtil"] },
  { title: "GPU memory", unit: "GiB", keys: ["gpuMemUsage"] },
  { title: "Disk", unit: "B/s", keys: ["diskReadRate", "diskWriteRate"] },
  { title: "Network", unit: "B/s", keys: ["recvBytesRate", "sendBytesRate"] },
];
