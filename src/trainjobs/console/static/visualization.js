// Visualization jobs: statuses refresh in place; "Open" appears once TensorBoard runs.
import { every, getJSON, setStatus } from "./common.js";

const table = document.getElementById("viz");
if (table) {
  every(1500, async () => {
    const feed = await getJSON(`/console/visualization.json?page=${table.dataset.page}`);
    for (const item of feed.items) {
      const row = table.querySelector(`tr[data-viz="${item.id}"]`);
      if (!row) continue;
      setStatus(row.querySelector(".status"), item);
      row.querySelector(".dur").textContent = item.duration;
      const open = row.querySelector("a.open");
      open.classList.toggle("hidden", !item.open);
      if (item.open) open.href = item.open;
    }
    return true;
  });
}
