// The versions table: statuses, durations and metrics refresh in place while any
// version on the page is active; new versions are announced on the first page.
import { every, getJSON, setStatus } from "./common.js";

const table = document.getElementById("versions");
if (table) {
  const job = table.dataset.job;
  const pageNo = table.dataset.page;
  const count = document.getElementById("version-count");
  const known = Number(count.textContent);
  const banner = document.getElementById("new-versions");

  every(1500, async () => {
    const feed = await getJSON(`/console/jobs/${job}/versions.json?page=${pageNo}`);
    let active = false;
    for (const item of feed.versions) {
      const row = table.querySelector(`tr[data-version="${item.id}"]`);
      if (!row) continue;
      setStatus(row.querySelector(".status"), item);
      row.querySelector(".dur").textContent = item.duration;
      for (const cell of row.querySelectorAll("td[data-metric]")) {
        const value = item.metrics[cell.dataset.metric];
        if (value !== undefined) cell.textContent = value;
      }
      active = active || item.active;
    }
    if (feed.version_count !== known) {
      count.textContent = feed.version_count;
      if (pageNo === "1" && feed.version_count > known) banner.classList.remove("hidden");
    }
    table.dataset.live = active ? "1" : "0";
    // Keep watching while something runs; the first page also waits, more calmly,
    // for new versions.
    if (active) return true;
    return pageNo === "1" ? 5000 : false;
  });

  // Compare needs two versions: say so instead of sending an empty comparison.
  const form = document.getElementById("compare-form");
  form.addEventListener("submit", (event) => {
    if (form.querySelectorAll('input[name="v"]:checked').length < 2) {
      event.preventDefault();
      form.querySelector(".hint").textContent = "Tick at least two versions to compare.";
      form.querySelector(".hint").classList.add("warn-text");
    }
  });
}
