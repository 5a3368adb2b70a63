// Shared by the console's pages: JSON fetches that notice an ended session, and
// confirmation for destructive forms.

export async function getJSON(url) {
  const response = await fetch(url, {
    headers: { "X-Requested-With": "fetch" },
    credentials: "same-origin",
    cache: "no-store",
  });
  if (response.status === 401) {
    // The session ended: back to sign-in, which brings the user back here.
    const here = location.pathname + location.search;
    location.assign("/console/sign-in?expired=1&next=" + encodeURIComponent(here));
    throw new Error("signed out");
  }
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

export function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

export function setStatus(badge, item) {
  badge.textContent = item.status_name;
  badge.className = "status " + item.tone;
  badge.dataset.status = String(item.status);
}

// A loop that runs `step` every `ms` while it returns true (or a number: the next
// delay in ms), four times slower while the tab is hidden.
export function every(ms, step) {
  let timer = null;
  const tick = async () => {
    timer = null;
    let again = true;
    try {
      again = await step();
    } catch (err) {
      console.warn(err);
    }
    const next = typeof again === "number" ? again : ms;
    if (again) timer = setTimeout(tick, document.hidden ? next * 4 : next);
  };
  timer = setTimeout(tick, ms);
  return () => timer && clearTimeout(timer);
}

for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
