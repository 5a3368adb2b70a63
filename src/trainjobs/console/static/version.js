// One version: live status, logs (worker picker, follow, load earlier), resource
// charts and model metrics, refreshed while the version is active.
import { every, getJSON, setStatus } from "./common.js";
import { GROUPS, lineChart, timeAxis } from "./charts.js";

const data = JSON.parse(document.getElementById("version-data").textContent);
const base = `/console/jobs/${data.job}/versions/${data.version}`;

// -- status ------------------------------------------------------------------
const badge = document.getElementById("version-status");
const duration = document.getElementById("version-duration");
const reason = document.getElementById("failure-reason");
const stopForm = document.getElementById("stop-form");

// -- charts ------------------------------------------------------------------
const chartBox = document.getElementById("charts");
const empty = document.getElementById("usage-empty");
let charts = [];

function drawCharts(series) {
  const n = (series.cpuUsage || []).length;
  empty.hidden = n > 0;
  const axis = timeAxis(n, series.interval);
  if (charts.length && charts[0].unit !== axis.unit) {
    // A run that outgrew seconds: redraw in minutes.
    for (const { chart } of charts) {
      window.tjCharts = window.tjCharts.filter((c) => c !== chart);
      chart.destroy();
    }
    charts = [];
    chartBox.textContent = "";
  }
  if (!charts.length) {
    if (!n) return;
    for (const g of GROUPS) {
      const box = document.createElement("div");
      box.className = "chart";
      box.dataset.series = g.keys.join(",");
      chartBox.appendChild(box);
      const lines = g.keys.map((k) => ({ label: data.labels[k][0], values: series[k] }));
      const chart = lineChart(box, `${g.title} (${g.unit})`, g.unit, axis, lines);
      charts.push({ group: g, unit: axis.unit, chart });
    }
    return;
  }
  for (const { group, chart } of charts) chart.setData([axis.x, ...group.keys.map((k) => series[k])]);
}
drawCharts(data.series);

function showMetrics(metrics) {
  const box = document.getElementById("model-metrics");
  const total = Object.entries(metrics.total);
  if (!total.length && !metrics.per_class.length) return;
  // Rendered on the server for the first view; refreshed here as a run reports.
  const head = total.map(([k]) => `<th scope="col">${escape(k)}</th>`).join("");
  const cells = total.map(([, v]) => `<td class="num">${(+v).toPrecision(4)}</td>`).join("");
  let html = total.length ? `<table class="grid compact" id="total-metrics"><thead><tr>${head}</tr></thead><tbody><tr>${cells}</tr></tbody></table>` : "";
  if (metrics.per_class.length) {
    const keys = [...new Set(metrics.per_class.flatMap(([, v]) => Object.keys(v)))];
    html += `<table class="grid compact" id="class-metrics"><thead><tr><th scope="col">Class</th>${keys.map((k) => `<th scope="col">${escape(k)}</th>`).join("")}</tr></thead><tbody>`;
    for (const [name, values] of metrics.per_class) {
      html += `<tr><th scope="row">${escape(name)}</th>${keys.map((k) => `<td class="num">${k in values ? (+values[k]).toPrecision(4) : ""}</td>`).join("")}</tr>`;
    }
    html += "</tbody></table>";
  }
  box.innerHTML = html;
}

function escape(text) {
  const d = document.createElement("div");
  d.textContent = String(text);
  return d.innerHTML;
}

if (data.active) {
  every(1000, async () => {
    const s = await getJSON(`${base}/status.json`);
    setStatus(badge, s);
    duration.textContent = s.duration;
    reason.textContent = s.failure_reason;
    reason.classList.toggle("hidden", !s.failure_reason);
    stopForm.hidden = !s.active;
    document.getElementById("t-started").textContent = s.started;
    document.getElementById("t-ended").textContent = s.ended;
    drawCharts(s.series);
    showMetrics(s.metrics);
    return s.active;
  });
}

// -- logs --------------------------------------------------------------------
const log = document.getElementById("log");
const picker = document.getElementById("log-file");
const follow = document.getElementById("follow");
const earlier = document.getElementById("load-earlier");
const download = document.getElementById("download-log");
const state = document.getElementById("log-state");
let first = 0; // first line shown (1-based); 0: none yet
let last = 0; // last line shown
let generation = 0; // bumps when the picked file changes, so stale answers are dropped
let stopFollowing = null;

function atBottom() {
  return log.scrollHeight - log.scrollTop - log.clientHeight < 24;
}

async function fetchLog(params) {
  const q = new URLSearchParams({ file: picker.value, ...params });
  return getJSON(`${base}/log.json?${q}`);
}

function describe() {
  state.textContent = last ? `Lines ${first}–${last}` + (first > 1 ? " · earlier lines above" : " · from the start") : "No lines yet.";
  earlier.disabled = first <= 1;
}

async function loadNewest() {
  const mine = ++generation;
  const page = await fetchLog({ lines: 200 });
  if (mine !== generation) return;
  log.textContent = page.content;
  first = page.lines ? page.start_line : 0;
  last = page.lines ? page.end_line : page.end_line;
  describe();
  log.scrollTop = log.scrollHeight;
}

async function loadEarlier() {
  if (first <= 1) return;
  const mine = generation;
  const page = await fetchLog({ lines: 200, base_line: first, order: "asc" });
  if (mine !== generation || !page.lines) return;
  const before = log.scrollHeight;
  log.textContent = page.content + log.textContent;
  first = page.start_line;
  log.scrollTop += log.scrollHeight - before; // keep the reader's place
  describe();
}

async function followStep() {
  const mine = generation;
  const page = await fetchLog({ lines: 500, base_line: last, order: "desc" });
  if (mine !== generation) return follow.checked;
  if (page.lines) {
    const stick = atBottom();
    log.textContent += page.content;
    if (!first) first = page.start_line;
    last = page.end_line;
    if (stick) log.scrollTop = log.scrollHeight;
    describe();
  }
  if (!page.lines && !isActiveNow()) {
    // The run is over and everything is shown: nothing more will come.
    follow.checked = false;
    state.textContent += " · the run has ended";
    return false;
  }
  return follow.checked;
}

function isActiveNow() {
  return ["1", "7", "8", "9", "15"].includes(badge.dataset.status);
}

function startFollowing() {
  if (stopFollowing) stopFollowing();
  stopFollowing = follow.checked ? every(1000, followStep) : null;
}

picker.addEventListener("change", async () => {
  download.href = `${base}/log/${encodeURIComponent(picker.value)}`;
  await loadNewest();
  startFollowing();
});
follow.addEventListener("change", startFollowing);
earlier.addEventListener("click", loadEarlier);
loadNewest().then(startFollowing);
