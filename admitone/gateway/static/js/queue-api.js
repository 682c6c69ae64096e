// The queue's public JSON API (/api/v1/queue/…, see /schema) as small async functions.
// Every failure becomes an ApiError carrying the HTTP status (0 when the network failed),
// the problem's `error` code and its Retry-After, so the caller can decide how to wait.

export class ApiError extends Error {
  constructor(status, code, retryAfterSeconds, problem) {
    super(`${status} ${code}`);
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
    this.problem = problem || {};
  }

  /** True when waiting and trying again may help (server busy, dependency down, network). */
  get retryable() {
    return this.status === 0 || this.status === 425 || this.status === 429 || this.status >= 500;
  }
}

function base(showId) {
  return `/api/v1/queue/${encodeURIComponent(showId)}`;
}

async function call(url, options) {
  let response;
  try {
    response = await fetch(url, { credentials: "same-origin", ...options });
  } catch (err) {
    throw new ApiError(0, "NETWORK_ERROR", null, { detail: String(err) });
  }
  if (response.status === 204) {
    return null;
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const retryAfter = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    const code = (body && body.error) || `HTTP_${response.status}`;
    throw new ApiError(response.status, code, Number.isFinite(retryAfter) ? retryAfter : null, body);
  }
  if (body === null) {
    throw new ApiError(response.status, "BAD_RESPONSE", null, null);
  }
  return body;
}

function tokenHeaders(token) {
  const headers = { Accept: "application/json" };
  if (token) {
    headers["X-Queue-Token"] = token;
  }
  return headers;
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
  return call(`${base(showId)}/join`, { method: "POST", headers, cache: "no-store" });
}

/** GET …/challenge: a proof-of-work challenge ({challenge, difficultyBits, expiresAt}). */
export function fetchChallenge(showId) {
  return call(`${base(showId)}/challenge`, { headers: { Accept: "application/json" }, cache: "no-store" });
}

/** GET …/status: keeps the place alive; answers WAITING with a position, or ADMITTED. */
export function queueStatus(showId, token) {
  return call(`${base(showId)}/status`, { headers: tokenHeaders(token), cache: "no-store" });
}

/** GET …/progress: the same answer for every fan (a CDN may serve it). */
export function queueProgress(showId) {
  return call(`${base(showId)}/progress`, { headers: { Accept: "application/json" } });
}

/** DELETE …/leave. */
export function leaveQueue(showId, token) {
  return call(`${base(showId)}/leave`, { method: "DELETE", headers: tokenHeaders(token), cache: "no-store" });
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
