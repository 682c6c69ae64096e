// The booking routes the confirmation and my-booking pages call, and the tokens this browser
// holds for them. Every failure is an ApiError (lib/api.js).

import { ApiError, failure, fetchJson, send } from "./lib/api.js";
import { heldAccessTokens, readItem, readJSON, writeItem, writeJSON } from "./lib/storage.js";

function bookingUrl(bookingId, suffix = "") {
  return `/api/v1/bookings/${encodeURIComponent(bookingId)}${suffix}`;
}

/** GET /api/v1/bookings/{id} */
export function getBooking(bookingId, token) {
  return fetchJson(bookingUrl(bookingId), { token });
}

/** GET /api/v1/bookings/{id}/ticket: the e-ticket with its signed QR payload. */
export function getTicket(bookingId, token) {
  return fetchJson(bookingUrl(bookingId, "/ticket"), { token });
}

/** GET /api/v1/bookings/{id}/cancellation: the refund cancelling now would give. */
export function getCancellation(bookingId, token) {
  return fetchJson(bookingUrl(bookingId, "/cancellation"), { token });
}

/** DELETE /api/v1/bookings/{id}: cancel by the policy. */
export function cancelBooking(bookingId, token) {
  return fetchJson(bookingUrl(bookingId), { token, method: "DELETE" });
}

/** POST /api/v1/bookings/lookup {reference, email} → {bookingId, bookingToken, expiresIn}. */
export function lookupBooking(reference, email) {
  return fetchJson("/api/v1/bookings/lookup", { method: "POST", body: { reference, email } });
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

const LAST_LOOKED_UP = "my_booking:last";
const bookingTokenKey = (bookingId) => `booking_token:${bookingId}`;

/** Keep the booking token from lookup for this tab (`booking_token:<bookingId>`). */
export function rememberBookingToken(bookingId, token, expiresInSeconds) {
  const expiresAt = Date.now() + Math.max(0, Number(expiresInSeconds) || 0) * 1000;
  // Storage full or off: the token lives as long as this page.
  writeJSON(bookingTokenKey(bookingId), { token, expiresAt });
  writeItem(LAST_LOOKED_UP, bookingId);
}

export function forgetBookingToken(bookingId) {
  writeJSON(bookingTokenKey(bookingId), null);
}

function bookingToken(bookingId) {
  const saved = readJSON(bookingTokenKey(bookingId));
  if (saved && typeof saved.token === "string" && saved.expiresAt > Date.now()) {
    return saved.token;
  }
  return null; // none, expired or malformed
}

/** The booking id the fan looked up last in this tab, if its token is still good. */
export function lastLookedUp() {
  const bookingId = readItem(LAST_LOOKED_UP);
  if (!bookingId) {
    return null;
  }
  const token = bookingToken(bookingId);
  return token ? { bookingId, token } : null;
}

/**
 * Tokens that may open this booking, best first: a booking token from lookup, then the access
 * tokens the queue page stored (lib/storage.js, skipping those known to be expired).
 */
export function candidateTokens(bookingId) {
  const own = bookingToken(bookingId);
  return [...(own ? [own] : []), ...heldAccessTokens()];
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
