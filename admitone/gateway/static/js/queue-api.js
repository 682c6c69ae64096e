// The queue's public JSON API as small async functions. Every failure is an ApiError
// (lib/api.js) whose `retryable` says whether waiting and trying again may help.

import { fetchJson } from "./lib/api.js";

function base(showId) {
  return `/api/v1/queue/${encodeURIComponent(showId)}`;
}

function tokenHeaders(token) {
  return token ? { "X-Queue-Token": token } : {};
}

/**
 * POST …/join: a new place, or the same place again when `token` is still valid.
 * `proof` ({challenge, nonce}) answers a room that asks for proof of work.
 */
export function joinQueue(showId, token, proof) {
  const headers = tokenHeaders(token);
  if (proof) {
    headers["X-PoW-Challenge"] = proof.challenge;
    headers["X-PoW-Nonce"] = proof.nonce;
  }
  return fetchJson(`${base(showId)}/join`, { method: "POST", headers });
}

/** GET …/challenge: a proof-of-work challenge ({challenge, difficultyBits, expiresAt}). */
export function fetchChallenge(showId) {
  return fetchJson(`${base(showId)}/challenge`);
}

/** GET …/status: keeps the place alive; answers WAITING with a position, or ADMITTED. */
export function queueStatus(showId, token) {
  return fetchJson(`${base(showId)}/status`, { headers: tokenHeaders(token) });
}

/** GET …/progress: the same answer for every fan (a CDN may serve it). */
export function queueProgress(showId) {
  return fetchJson(`${base(showId)}/progress`, { cache: "default" });
}

/** DELETE …/leave. */
export function leaveQueue(showId, token) {
  return fetchJson(`${base(showId)}/leave`, { method: "DELETE", headers: tokenHeaders(token) });
}

/**
 * Follow progress over Server-Sent Events. `onProgress(data)` gets every progress answer,
 * `onUnavailable(problem)` a server-side outage, and `onGiveUp()` is called once if the stream
 * keeps failing (then the caller polls instead). Returns a function that closes the stream.
 */
export function streamProgress(showId, { onProgress, onUnavailable, onGiveUp }) {
  if (typeof window.EventSource !== "function") {
    onGiveUp();
    return () => {};
  }
  const source = new EventSource(`${base(showId)}/events`);
  let failures = 0;
  let closed = false;
  const close = () => {
    closed = true;
    source.close();
  };
  source.addEventListener("progress", (event) => {
    failures = 0;
    try {
      onProgress(JSON.parse(event.data));
    } catch {
      // A malformed event is skipped; the next one follows within a second.
    }
  });
  source.addEventListener("unavailable", (event) => {
    let problem = {};
    try {
      problem = JSON.parse(event.data);
    } catch {
      problem = {};
    }
    onUnavailable(problem);
  });
  source.addEventListener("error", () => {
    if (closed) {
      return;
    }
    failures += 1;
    // CLOSED: the browser will not retry (bad status or type). Else it reconnects by itself,
    // which is fine a couple of times; past that, polling with our own backoff is better.
    if (source.readyState === EventSource.CLOSED || failures >= 3) {
      close();
      onGiveUp();
    }
  });
  return close;
}

/** Exponential backoff with jitter: 1 s, 2 s, 4 s … up to `capSeconds`; Retry-After wins. */
export function backoffSeconds(attempt, retryAfterSeconds, capSeconds = 30) {
  if (retryAfterSeconds !== null && retryAfterSeconds !== undefined && retryAfterSeconds >= 0) {
    return Math.min(Math.max(retryAfterSeconds, 1), 120);
  }
  const ceiling = Math.min(capSeconds, 2 ** Math.min(attempt, 10));
  return Math.max(1, Math.round(ceiling * (0.5 + Math.random() * 0.5)));
}
