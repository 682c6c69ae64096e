// The one way the pages' scripts call the JSON API: `send` makes the request (the Bearer token
// or other headers, a JSON body, no caching unless asked), `fetchJson` reads the answer. Every
// failure becomes an ApiError carrying the HTTP status (0 when the network failed), the
// problem's `error` code and its Retry-After, so the caller can decide how to wait.

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

  /** True when waiting and trying again may help (server busy, dependency down, network). */
  get retryable() {
    return this.status === 0 || this.status === 425 || this.status === 429 || this.status >= 500;
  }
}

/**
 * Make a request: the Response whatever its status; an ApiError (status 0) when the network
 * failed. `token` goes as `Authorization: Bearer`; `body` is sent as JSON; `cache` defaults to
 * "no-store" (pass "default" for answers a CDN or the browser may keep).
 */
export async function send(url, {
  method = "GET", token = null, body = undefined, headers = {}, accept = "application/json",
  cache = "no-store",
} = {}) {
  const sent = { Accept: accept, ...headers };
  if (token) {
    sent.Authorization = `Bearer ${token}`;
  }
  if (body !== undefined) {
    sent["Content-Type"] = "application/json";
  }
  try {
    return await fetch(url, {
      method,
      headers: sent,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache,
    });
  } catch (err) {
    throw new ApiError(0, "NETWORK_ERROR", null, { detail: String(err) });
  }
}

/** The ApiError a failed answer stands for (its problem document read when there is one). */
export async function failure(response) {
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

/** `send`, then the answer's JSON (null for 204 No Content); an ApiError for anything else. */
export async function fetchJson(url, options) {
  const response = await send(url, options);
  if (!response.ok) {
    throw await failure(response);
  }
  if (response.status === 204) {
    return null;
  }
  try {
    return await response.json();
  } catch {
    throw new ApiError(response.status, "BAD_RESPONSE", null, null);
  }
}
