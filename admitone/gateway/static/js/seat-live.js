// Live seat changes for the seat page: Server-Sent Events while they work, polling the seat map
// every few seconds while they do not.
//
// EventSource cannot send the access token, so the page first trades it for a one-minute stream
// ticket (POST …/seat-events/ticket) and opens …/seat-events?ticket=…. On any failure the page
// polls and tries the stream again with a growing delay; once the stream says `ready` polling
// stops and the map is read once, to catch up on what happened while no stream was open.
// `root.dataset.live` says which is in use ("stream" or "polling").

import { callApi } from "./seats-common.js";

const RETRY_MS = 2000;
const RETRY_MAX_MS = 60_000;

export class LiveSeats {
  /**
   * @param {object} options
   *   root, showId, token, pollMs; reload(): read the whole map; onEvent(message): one
   *   `{type, showId, seatIds}`; onTokenRefused(): the token no longer works.
   */
  constructor(options) {
    Object.assign(this, options);
    this.stream = null;
    this.failures = 0;
    this.retryTimer = null;
    this.pollTimer = null;
    this.stopped = false;
  }

  async start() {
    if (this.stopped) return;
    if (!("EventSource" in window)) {
      this.startPolling();
      return;
    }
    const { status, body } = await callApi(
      `/api/v1/shows/${this.showId}/seat-events/ticket`, { method: "POST", token: this.token });
    if (this.stopped) return;
    if (status === 401) {
      this.onTokenRefused();
      return;
    }
    if (status !== 201 || !body || !body.ticket) {
      this.failed();
      return;
    }
    const ticket = encodeURIComponent(body.ticket);
    const stream = new EventSource(`/api/v1/shows/${this.showId}/seat-events?ticket=${ticket}`);
    this.stream = stream;
    stream.addEventListener("ready", () => {
      this.failures = 0;
      this.stopPolling();
      this.root.dataset.live = "stream";
      this.reload();
    });
    stream.addEventListener("seats", (event) => {
      try {
        this.onEvent(JSON.parse(event.data));
      } catch {
        this.reload();
      }
    });
    stream.addEventListener("resync", () => this.reload());
    stream.addEventListener("bye", () => {  // the server rotates streams: open the next one
      this.close();
      this.start();
    });
    stream.addEventListener("unavailable", () => this.failed());
    stream.onerror = () => this.failed();
  }

  stop() {
    this.stopped = true;
    this.close();
    this.stopPolling();
    window.clearTimeout(this.retryTimer);
  }

  close() {
    if (this.stream) {
      this.stream.close();
      this.stream = null;
    }
  }

  failed() {
    this.close();
    if (this.stopped) return;
    this.startPolling();
    this.failures += 1;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** (this.failures - 1));
    window.clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.start(), delay);
  }

  startPolling() {
    this.root.dataset.live = "polling";
    if (this.pollTimer) return;
    this.pollTimer = window.setInterval(() => this.reload(), this.pollMs || 5000);
  }

  stopPolling() {
    window.clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
