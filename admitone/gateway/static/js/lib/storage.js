// What this browser keeps between pages: sessionStorage (this tab) and localStorage (this
// device), each read through a helper that answers null rather than throwing when storage is
// off (private mode, a full disk, a sandboxed frame).
//
// The access token the queue page receives on admission is kept per show in this tab's
// sessionStorage as `access_token:<showId>` (and its expiry as `access_expires_at:<showId>`).
// The seat, checkout and booking pages send it as `Authorization: Bearer`; it is never put in a
// URL or a cookie.

const ACCESS_TOKEN = "access_token:";
const ACCESS_EXPIRES_AT = "access_expires_at:";

/** This tab's sessionStorage, or null when the browser refuses it. */
export function sessionStore() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** This device's localStorage, or null when the browser refuses it. */
export function localStore() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

/** The text kept under `key` (null when absent or storage is off). */
export function readItem(key, store = sessionStore()) {
  try {
    return store?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** Keep `text` under `key`; null removes it. Storage full or off: nothing is kept. */
export function writeItem(key, text, store = sessionStore()) {
  try {
    if (text === null) {
      store?.removeItem(key);
    } else {
      store?.setItem(key, text);
    }
  } catch {
    // Storage full or off: the page still works, it only forgets across reloads.
  }
}

/** The JSON value kept under `key` (null when absent, unreadable or storage is off). */
export function readJSON(key, store = sessionStore()) {
  try {
    const text = readItem(key, store);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/** Keep `value` as JSON under `key`; null removes it. */
export function writeJSON(key, value, store = sessionStore()) {
  writeItem(key, value === null ? null : JSON.stringify(value), store);
}

/** Keep the access token the queue handed out for `showId` (with its expiry, when known). */
export function rememberAccess(showId, token, expiresAt) {
  // Without sessionStorage the seat page cannot see the token; nothing else can be done.
  writeItem(`${ACCESS_TOKEN}${showId}`, token);
  if (expiresAt) {
    writeItem(`${ACCESS_EXPIRES_AT}${showId}`, expiresAt);
  }
}

/** The access token this tab holds for `showId`, or null. */
export function accessToken(showId) {
  return readItem(`${ACCESS_TOKEN}${showId}`) || null;
}

/** Every access token this tab holds, for any show, skipping those known to be expired. */
export function heldAccessTokens() {
  const store = sessionStore();
  if (!store) {
    return [];
  }
  const found = [];
  for (let i = 0; i < store.length; i += 1) {
    const key = store.key(i);
    if (!key || !key.startsWith(ACCESS_TOKEN)) {
      continue;
    }
    const showId = key.slice(ACCESS_TOKEN.length);
    const expires = Date.parse(readItem(`${ACCESS_EXPIRES_AT}${showId}`, store) || "");
    if (Number.isFinite(expires) && expires <= Date.now()) {
      continue;
    }
    const token = readItem(key, store);
    if (token) {
      found.push(token);
    }
  }
  return found;
}
