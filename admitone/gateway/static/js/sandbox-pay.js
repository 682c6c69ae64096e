// The sandbox payment page: put the fan's own token into the form, so that only the tab that
// made the booking can pay or fail it. The token is the access token the queue page left for
// the show (lib/storage.js), or the booking token booking lookup left for the booking
// (booking-api.js); it goes in the POST body, never in a URL.

import { accessToken, readJSON } from "./lib/storage.js";

function bookingToken(bookingId) {
  const saved = readJSON(`booking_token:${bookingId}`);
  // booking-api.js keeps {token, expiresAt} with expiresAt in epoch milliseconds.
  return saved && typeof saved.token === "string" && saved.expiresAt > Date.now()
    ? saved.token : null;
}

function start() {
  const form = document.getElementById("sandbox-pay");
  if (!form) return;
  const { showId, bookingId } = form.dataset;
  const token = (showId && accessToken(showId)) || (bookingId && bookingToken(bookingId));
  if (!token) {
    // Enabled already: the no-JS checkout left its cookie, which the form's post carries.
    if (form.querySelector("button:disabled")) {
      document.getElementById("sandbox-no-token").hidden = false;
    }
    return;
  }
  form.elements.namedItem("token").value = token;
  for (const button of form.querySelectorAll("button")) button.disabled = false;
}

start();
