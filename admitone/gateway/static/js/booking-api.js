// The booking routes (/api/v1/bookings…, in the OpenAPI document at /schema) the confirmation and
// my-booking pages call, and the tokens this browser holds for them. Every failure becomes an
// ApiError carrying the HTTP status (0 when the network failed), the problem's `error` code and its
// Retry-After.

export class ApiError extends Error {
  constructor(status, code, retryAfterSeconds, problem) {
    super(`${status} ${code}`);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
    this.problem = problem || {};
  }

  /** The network failed (offline, or the server could not be reached). */
  get offline() {
    return this.status === 0;
  }
}

async function send(url, { token, method = "GET", body, accept = "application/json" } = {}) {
  const headers = { Accept: accept };
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  try {
    return await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, "NETWORK_ERROR", null, { detail: String(err) });
  }
}

async function failure(response) {
  let problem = null;
  try {
    problem = await response.json();
  } catch {
    problem = null;
  }
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") || "", 10);
  const code = (problem && problem.error) || `HTTP_${response.status}`;
  return new ApiError(response.status, code, Number.isFinite(retryAfter) ? retryAfter : null, problem);
}

async function json(url, options) {
  const response = await send(url, options);
  if (!response.ok) {
    throw await failure(response);
  }
  try {
    return await response.json();
  } catch {
    throw new ApiError(response.status, "BAD_RESPONSE", null, null);
  }
}

function bookingUrl(bookingId, suffix = "") {
  return `/api/v1/bookings/${encodeURIComponent(bookingId)}${suffix}`;
}

/** GET /api/v1/bookings/{id} */
export function getBooking(bookingId, token) {
  return json(bookingUrl(bookingId), { token });
}

/** GET /api/v1/bookings/{id}/ticket: the e-ticket with its signed QR payload. */
export function getTicket(bookingId, token) {
  return json(bookingUrl(bookingId, "/ticket"), { token });
}

/** GET /api/v1/bookings/{id}/cancellation: the refund cancelling now would give. */
export function getCancellation(bookingId, token) {
  return json(bookingUrl(bookingId, "/cancellation"), { token });
}

/** DELETE /api/v1/bookings/{id}: cancel by the policy. */
export function cancelBooking(bookingId, token) {
  return json(bookingUrl(bookingId), { token, method: "DELETE" });
}

/** POST /api/v1/bookings/lookup {reference, email} → {bookingId, bookingToken, expiresIn}. */
export function lookupBooking(reference, email) {
  return json("/api/v1/bookings/lookup", { method: "POST", body: { reference, email } });
}

/**
 * The ticket's QR code as a `data:` URL (the page's CSP allows data: images, and a data URL
 * can be kept in IndexedDB and shown offline). The PNG route needs the Bearer header, so it
 * is fetched, not linked.
 */
export async function getQrDataUrl(bookingId, token) {
  const response = await send(bookingUrl(bookingId, "/ticket?format=png"), { token, accept: "image/png" });
  if (!response.ok) {
    throw await failure(response);
  }
  const blob = await response.blob();
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(new ApiError(0, "READ_ERROR", null, null));
    reader.readAsDataURL(blob);
  });
}

// -- tokens held by this browser (sessionStorage) -----------------------------------------

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

/** Keep the booking token from lookup for this tab (`booking_token:<bookingId>`). */
export function rememberBookingToken(bookingId, token, expiresInSeconds) {
  const store = storage();
  if (!store) {
    return;
  }
  const expiresAt = Date.now() + Math.max(0, Number(expiresInSeconds) || 0) * 1000;
  try {
    store.setItem(`booking_token:${bookingId}`, JSON.stringify({ token, expiresAt }));
    store.setItem("my_booking:last", bookingId);
  } catch {
    // Storage full or off: the token lives as long as this page.
  }
}

export function forgetBookingToken(bookingId) {
  const store = storage();
  if (store) {
    store.removeItem(`booking_token:${bookingId}`);
  }
}

function bookingToken(store, bookingId) {
  try {
    const saved = JSON.parse(store.getItem(`booking_token:${bookingId}`) || "null");
    if (saved && typeof saved.token === "string" && saved.expiresAt > Date.now()) {
      return saved.token;
    }
  } catch {
    // A malformed entry is no token.
  }
  return null;
}

/** The booking id the fan looked up last in this tab, if its token is still good. */
export function lastLookedUp() {
  const store = storage();
  const bookingId = store && store.getItem("my_booking:last");
  if (!bookingId) {
    return null;
  }
  const token = bookingToken(store, bookingId);
  return token ? { bookingId, token } : null;
}

/**
 * Tokens that may open this booking, best first: a booking token from lookup, then the access
 * tokens the queue page stored (`access_token:<showId>`, skipping those known to be expired).
 */
export function candidateTokens(bookingId) {
  const store = storage();
  if (!store) {
    return [];
  }
  const found = [];
  const own = bookingToken(store, bookingId);
  if (own) {
    found.push(own);
  }
  for (let i = 0; i < store.length; i += 1) {
    const key = store.key(i);
    if (!key || !key.startsWith("access_token:")) {
      continue;
    }
    const expires = Date.parse(store.getItem(`access_expires_at:${key.slice(13)}`) || "");
    if (Number.isFinite(expires) && expires <= Date.now()) {
      continue;
    }
    const token = store.getItem(key);
    if (token) {
      found.push(token);
    }
  }
  return found;
}

/**
 * Read the booking with the first token that may see it: {booking, token}. Throws the last
 * ApiError (404 when no token fits) and at once on a network failure.
 */
export async function openBooking(bookingId) {
  let last = new ApiError(404, "NO_TOKEN", null, null);
  for (const token of candidateTokens(bookingId)) {
    try {
      return { booking: await getBooking(bookingId, token), token };
    } catch (err) {
      if (!(err instanceof ApiError) || ![401, 403, 404].includes(err.status)) {
        throw err;
      }
      last = err;
    }
  }
  throw last;
}
