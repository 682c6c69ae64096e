// The operator console: confirmation dialogs for every change, the live view's 2-second
// refresh (figures, latencies and the server-made SVG charts from …/live), the time-zone
// default on sign-in, and "add a row" on the screen form. Every form works without it too:
// the server then asks for confirmation on a page of its own.

const REFRESH_MS = 2000;

// Must match view.stepped_rate (gateway/operator/view.py).
export function steppedRate(rate, step) {
  const factor = { "-10%": 0.9, "+10%": 1.1, x2: 2, "/2": 0.5 }[step];
  if (factor === undefined) return rate;
  let stepped = Math.round(rate * factor);
  if (stepped === rate && (step === "+10%" || step === "x2")) stepped += 1;
  return Math.max(1, stepped);
}

function question(form, submitter) {
  const template = form.dataset.question || "";
  const old = form.dataset.old || "";
  let fresh = "";
  const step = submitter && submitter.name === "step" ? submitter.value : "";
  if (form.dataset.control === "rate") {
    fresh = step ? String(steppedRate(Number(old), step))
      : form.elements.releaseRatePerMinute.value;
  } else if (form.dataset.control === "maxActive") {
    fresh = form.elements.maxActive.value;
  }
  return template.replaceAll("{old}", old).replaceAll("{new}", fresh);
}

function hidden(form, name, value) {
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  form.append(input);
}

function setUpConfirmations() {
  const dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const text = document.getElementById("confirm-dialog-text");
  let pending = null;
  document.querySelectorAll("form[data-question]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.confirmed === "yes") return;
      event.preventDefault();
      if (!form.reportValidity()) return;
      pending = { form, submitter: event.submitter };
      text.textContent = question(form, event.submitter);
      dialog.showModal();
    });
  });
  dialog.querySelector("[data-confirm]").addEventListener("click", () => {
    if (!pending) return;
    const { form, submitter } = pending;
    if (submitter && submitter.name) hidden(form, submitter.name, submitter.value);
    hidden(form, "confirmed", "yes");
    form.dataset.confirmed = "yes";
    dialog.close();
    form.submit();
  });
  dialog.querySelector("[data-cancel]").addEventListener("click", () => {
    pending = null;
    dialog.close();
  });
}

function applyLive(root, live) {
  for (const [name, value] of Object.entries(live.metrics)) {
    root.querySelectorAll(`[data-metric="${name}"]`).forEach((el) => {
      if (el.textContent !== value) el.textContent = value;
    });
  }
  for (const [name, values] of Object.entries(live.latency)) {
    for (const [q, value] of Object.entries(values)) {
      const el = root.querySelector(`[data-latency="${name}-${q}"]`);
      if (el) el.textContent = value;
    }
  }
  for (const [kind, svg] of Object.entries(live.charts)) {
    const box = root.querySelector(`[data-chart-box="${kind}"]`);
    if (box) box.innerHTML = svg; // server-made SVG, escaped there
  }
  const phase = root.querySelector("[data-live-phase]");
  if (phase && live.phaseLabel) {
    phase.textContent = live.phaseLabel;
    phase.className = `op-badge op-badge--${live.phase.toLowerCase()}`;
  }
  root.dataset.paused = String(live.paused);
  const pause = root.querySelector('[data-control="pause"]');
  const resume = root.querySelector('[data-control="resume"]');
  if (pause) pause.hidden = live.paused;
  if (resume) resume.hidden = !live.paused;
  for (const [name, field] of [["releaseRatePerMinute", "rate"], ["maxActive", "maxActive"]]) {
    const form = root.querySelector(`form[data-control="${field}"]`);
    if (form) form.dataset.old = live.metrics[name];
  }
}

function startLiveRefresh() {
  const root = document.getElementById("live");
  if (!root || !root.dataset.liveUrl) return;
  let busy = false;
  const tick = async () => {
    if (busy || document.hidden) return;
    busy = true;
    try {
      const response = await fetch(root.dataset.liveUrl, {
        headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store",
      });
      const type = response.headers.get("content-type") || "";
      if (response.redirected || !type.includes("json")) {
        window.location.reload(); // signed out or expired: the page goes to sign-in
        return;
      }
      if (response.ok) {
        const live = await response.json();
        if (String(live.degraded) !== root.dataset.degraded) {
          window.location.reload(); // Redis went away or came back: the page says which
          return;
        }
        applyLive(root, live);
        root.dataset.updated = String(Date.now());
      }
    } catch {
      // offline for a moment: the next tick tries again
    } finally {
      busy = false;
    }
  };
  window.setInterval(tick, REFRESH_MS);
}

function defaultTimeZone() {
  const select = document.querySelector("select[data-default-zone]");
  if (!select) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && [...select.options].some((option) => option.value === zone)) select.value = zone;
}

function setUpRowAdder() {
  const button = document.querySelector("[data-add-row]");
  const body = document.querySelector("[data-rows] tbody");
  if (!button || !body) return;
  button.addEventListener("click", () => {
    const last = body.querySelector("tr[data-row]:last-child");
    if (!last) return;
    const row = last.cloneNode(true);
    row.querySelectorAll("input").forEach((input) => {
      input.value = input.name === "rowType" ? "REGULAR"
        : input.name === "rowMultiplier" ? "1.00" : "";
    });
    body.append(row);
    row.querySelector("input").focus();
  });
}

setUpConfirmations();
startLiveRefresh();
defaultTimeZone();
setUpRowAdder();
