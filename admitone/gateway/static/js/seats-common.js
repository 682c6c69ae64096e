// What the seat page (seatmap.js) and the checkout page (hold.js) share: money formatting, the
// keys of the hold kept in sessionStorage, and JSON API calls that learn the server's clock.
// The page config, strings and the access token come from lib/ (i18n.js, storage.js).

import { send } from "./lib/api.js";
import { readItem } from "./lib/storage.js";

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

// What the seat pages keep in sessionStorage (read and written with lib/storage.js) ----------

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
  let response;
  try {
    response = await send(path, { method, token, body, headers });
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

// The admission window --------------------------------------------------------------------------

/**
 * When the fan's turn ends: the access token's expiry the queue page stored
 * (`access_expires_at:<showId>`), else the token's own `exp`; null when neither is readable.
 * Past it the booking routes refuse the token, whatever is still held.
 */
export function accessEndsAt(showId, token) {
  const stored = Date.parse(readItem(`access_expires_at:${showId}`) || "");
  if (Number.isFinite(stored)) return stored;
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = Number(JSON.parse(window.atob(payload)).exp);
    return Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** `m:ss` of a number of seconds. */
export function clock(seconds) {
  const left = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
}
