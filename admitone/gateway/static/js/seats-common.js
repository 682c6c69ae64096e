// What the seat page (seatmap.js) and the checkout page (hold.js) share: the page config, strings,
// money formatting, the access token and the hold kept in sessionStorage, and JSON API calls.
//
// The access token is the one the queue page stored as `access_token:<showId>` when the fan was
// admitted. It lives only in this tab's sessionStorage and goes to the API as
// `Authorization: Bearer`; it is never put in a URL or a cookie.

/** The page's JSON config (`<script type="application/json" id=...>`). */
export function readConfig(id) {
  const element = document.getElementById(id);
  return JSON.parse(element ? element.textContent : "{}");
}

/** A string of the page's language with `{name}` placeholders filled. */
export function makeTranslator(config) {
  const strings = config.strings || {};
  const t = (key, params = {}) => {
    const template = strings[key];
    if (typeof template !== "string") return key;
    return template.replace(/\{([a-z_]+)\}/g, (whole, name) =>
      Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole);
  };
  const pluralRule = config.language === "hi"
    ? (n) => (n === 0 || n === 1 ? "one" : "other")
    : (n) => (n === 1 ? "one" : "other");
  t.plural = (key, count, params = {}) =>
    t(`${key}.${pluralRule(count)}`, { n: formatNumber(config.locale, count), ...params });
  return t;
}

export function formatNumber(locale, value) {
  try {
    return new Intl.NumberFormat(locale).format(value);
  } catch {
    return String(value);
  }
}

/** `₹1,200` or `₹1,200.50` for the page's locale (no paise when the sum is whole). */
export function formatMoney(locale, amount, currency) {
  const value = Number(amount);
  const whole = Number.isInteger(value);
  try {
    return new Intl.NumberFormat(locale, {
      style: "currency", currency, currencyDisplay: "narrowSymbol",
      minimumFractionDigits: whole ? 0 : 2, maximumFractionDigits: 2,
    }).format(value);
  } catch {
    return `${currency} ${amount}`;
  }
}

/** Show the elements whose `data-show-in` lists `state`, hide the others. */
export function showState(root, state) {
  root.dataset.state = state;
  for (const element of root.querySelectorAll("[data-show-in]")) {
    element.hidden = !element.dataset.showIn.split(/\s+/).includes(state);
  }
}

// Storage --------------------------------------------------------------------------------------

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function readJSON(key) {
  try {
    const text = storage()?.getItem(key);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

export function writeJSON(key, value) {
  try {
    if (value === null) storage()?.removeItem(key);
    else storage()?.setItem(key, JSON.stringify(value));
  } catch {
    // Storage full or off: the page still works, it only forgets across reloads.
  }
}

export function accessToken(showId) {
  try {
    return storage()?.getItem(`access_token:${showId}`) || null;
  } catch {
    return null;
  }
}

/** The seats this tab holds for the show: `{lockId, expiresAt, seats, totalAmount, currency}`. */
export const holdKey = (showId) => `hold:${showId}`;
/** The seats the fan last held (picked again on the seat page after a release or failure). */
export const lastSeatsKey = (showId) => `last_seats:${showId}`;

// API ------------------------------------------------------------------------------------------

/** Server time minus this device's time, learnt from the `Date` of API answers (ms). */
let clockOffsetMs = 0;

export function serverNow() {
  return Date.now() + clockOffsetMs;
}

function learnClock(response) {
  const header = response.headers.get("Date");
  const server = header ? Date.parse(header) : NaN;
  if (Number.isNaN(server)) return;
  // `Date` is cut to the second (the middle of that second is the best guess) and is a little
  // old when it arrives: only a difference of several seconds is a real clock skew.
  const offset = server + 500 - Date.now();
  clockOffsetMs = Math.abs(offset) > 3000 ? offset : 0;
}

/**
 * A JSON API call: `{status, body}`; status 0 when the network failed. Never throws.
 */
export async function callApi(path, { method = "GET", token = null, body = undefined,
  headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, cache: "no-store" };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { status: 0, body: null };
  }
  learnClock(response);
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  return { status: response.status, body: parsed };
}

/** A random id for `Idempotency-Key`. */
export function newKey() {
  if (window.crypto?.randomUUID) return window.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Put `text` in a live region so screen readers say it (even when it repeats). */
export function announce(region, text) {
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 50);
}

/** Seat ids in seat order: row letters, then number ("A2" before "A10" before "B1"). */
export function sortSeatIds(ids) {
  const parts = (id) => {
    const match = /^([A-Z]+)(\d+)$/.exec(id) || [id, id, "0"];
    return [match[1], Number(match[2])];
  };
  return [...ids].sort((a, b) => {
    const [rowA, numA] = parts(a);
    const [rowB, numB] = parts(b);
    if (rowA !== rowB) return rowA.length - rowB.length || (rowA < rowB ? -1 : 1);
    return numA - numB;
  });
}
