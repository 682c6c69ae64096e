// The queue page's controller. It joins (keeping a saved place), follows the crowd-wide
// progress feed (Server-Sent Events, else polling) and works out its own position from its
// ticket number, so a CDN can absorb a crowd's polling. It calls `status` only to keep its
// place alive (every 30 s) and often once it nears the front; when admitted it keeps the
// access token in sessionStorage (lib/storage.js) and moves on to seat selection.

import {
  backoffSeconds,
  fetchChallenge,
  joinQueue,
  leaveQueue,
  queueProgress,
  queueStatus,
  streamProgress,
} from "./queue-api.js";
import { formatDateTime } from "./lib/dates.js";
import { readConfig } from "./lib/i18n.js";
import { localStore, readJSON, rememberAccess, writeJSON } from "./lib/storage.js";
import { solve } from "./pow.js";
import { QueueView } from "./queue-view.js";

const POLL_MS = 1500;
const KEEPALIVE_MS = 30000;
const NEAR_FRONT_STATUS_MS = 2000;
const TICK_SECONDS = 1;
const NAVIGATE_DELAY_MS = 1000;
const FEW_SEATS_DELAY_MS = 6000; // time to read that few seats are left (a link goes at once)
const MAX_PROOF_TRIES = 3;
// A progress answer younger than this may anchor an exact position from join or status.
const FRESH_PROGRESS_MS = 2000;
// States in which the fan holds a place.
// The page state of each waiting status of a join or status answer.
const WAITING_STATES = { WAITING: "waiting", PREQUEUE: "prequeue", SOLD_OUT: "sold_out" };
const HOLDING = new Set(["waiting", "paused", "prequeue", "sold_out", "unavailable", "busy"]);

/** Solve a proof-of-work challenge in a worker (on the page itself if workers fail). */
function solveProof(challenge, bits) {
  return new Promise((resolve) => {
    let worker;
    try {
      worker = new Worker(new URL("./pow-worker.js", import.meta.url), { type: "module" });
    } catch {
      resolve(solve(challenge, bits));
      return;
    }
    worker.addEventListener("message", (event) => {
      worker.terminate();
      resolve(event.data.nonce);
    });
    worker.addEventListener("error", () => {
      worker.terminate();
      resolve(solve(challenge, bits));
    });
    worker.postMessage({ challenge, bits });
  });
}

class QueueController {
  constructor(root, config) {
    this.config = config;
    this.showId = config.showId;
    this.view = new QueueView(root, config);
    this.placeKey = `queue:${this.showId}`;
    this.place = this.loadPlace();
    // Our ticket as the progress feed counts it: admittedThrough + an exact position from join
    // or status (so fans who left ahead of us count too); position = anchor - admittedThrough.
    this.anchor = null;
    this.pendingExact = null; // an exact position waiting for a fresh progress answer
    this.progress = null;
    this.progressAt = 0;
    this.position = null;
    // The room's own estimate at our last join/status answer (its model, measured and
    // published as the room's ETA error), the fans ahead of us then, and why there is none.
    this.serverEta = null;
    this.serverEtaAhead = null;
    this.etaReason = null;
    this.total = null;
    this.rate = null;
    this.chance = null; // how likely tickets are at our place (status and join answers)
    this.entryId = this.place ? this.place.entryId ?? null : null; // our entry in the draw
    this.state = root.dataset.state;
    this.timers = new Map();
    this.live = null;
    this.attempts = { join: 0, status: 0, poll: 0 };
    this.proofTries = 0;
    this.statusBusy = false;
    this.lastStatusAt = 0;
    this.retryDeadline = null;
    this.opensAt = config.opensAt || null; // the queue's opening (a 425 answer may say it)
  }

  // -- storage -------------------------------------------------------------------------

  loadPlace() {
    const saved = readJSON(this.placeKey, localStore());
    return saved && typeof saved.token === "string" ? saved : null;
  }

  savePlace() {
    // Storage off (private mode): the place lives as long as this page.
    writeJSON(this.placeKey, this.place, localStore());
  }

  /** Tie an exact position to the feed's admittedThrough (now if fresh, else at the next). */
  anchorOn(position) {
    const fresh = this.progress && this.progress.status !== "PREQUEUE"
      && Date.now() - this.progressAt < FRESH_PROGRESS_MS;
    if (fresh) {
      this.anchor = this.progress.admittedThrough + position;
      this.pendingExact = null;
    } else {
      this.pendingExact = position;
    }
  }

  dropPlace() {
    this.place = null;
    this.anchor = null;
    this.pendingExact = null;
    this.position = null;
    writeJSON(this.placeKey, null, localStore());
  }

  // -- timers --------------------------------------------------------------------------

  later(name, ms, fn) {
    this.cancel(name);
    this.timers.set(name, window.setTimeout(() => {
      this.timers.delete(name);
      fn();
    }, ms));
  }

  cancel(name) {
    if (this.timers.has(name)) {
      window.clearTimeout(this.timers.get(name));
      this.timers.delete(name);
    }
  }

  cancelAll() {
    for (const name of [...this.timers.keys()]) {
      this.cancel(name);
    }
    this.retryDeadline = null;
    this.view.setRetry(null);
  }

  /** Retry `fn` after a backoff (at least `minSeconds`), counting down on the page. */
  retry(kind, err, fn, minSeconds = 0) {
    const seconds = Math.max(minSeconds, backoffSeconds(this.attempts[kind]++, err && err.retryAfterSeconds));
    this.retryDeadline = Date.now() + seconds * 1000;
    this.tickCountdown();
    this.later(`retry-${kind}`, seconds * 1000, () => {
      this.retryDeadline = null;
      this.cancel("countdown");
      this.view.setRetry(null);
      fn();
    });
  }

  tickCountdown() {
    if (this.retryDeadline === null) {
      return;
    }
    this.view.setRetry((this.retryDeadline - Date.now()) / 1000);
    this.later("countdown", 1000, () => this.tickCountdown());
  }

  // -- state ---------------------------------------------------------------------------

  placeFlags() {
    return { held: this.place !== null, positioned: this.place !== null && this.position !== null };
  }

  setState(state, noticeText) {
    const changed = this.view.setState(state, noticeText, this.placeFlags());
    this.state = state;
    this.tickSaleCountdown();
    if (changed && state !== "waiting" && state !== "joining") {
      const notice = document.getElementById("queue-notice-text").textContent;
      this.view.announce(`${this.view.t(`queue.heading.${state}`)}. ${notice}`);
    }
  }

  /** What the page counts down to now: the sale's start or the queue's opening (or none). */
  countdownTarget() {
    if (this.state === "not_open" && this.opensAt) {
      return ["queue.countdown.opens", Date.parse(this.opensAt)];
    }
    const beforeSale = this.state === "prequeue"
      || (this.state === "joining" && this.config.phase === "PREQUEUE");
    if (beforeSale && this.config.startsAt) {
      return ["queue.countdown.sale", Date.parse(this.config.startsAt)];
    }
    return [null, null];
  }

  tickSaleCountdown() {
    const [labelKey, at] = this.countdownTarget();
    const seconds = at === null || Number.isNaN(at) ? null : (at - Date.now()) / 1000;
    this.view.renderCountdown(labelKey, seconds);
    if (seconds !== null && seconds > 0) {
      const wait = 1000 - (Date.now() % 1000) || 1000; // on the second, as a clock ticks
      this.later("sale-countdown", wait, () => this.tickSaleCountdown());
    } else {
      this.cancel("sale-countdown");
    }
  }

  /** Ask before leaving (the place is at stake): a dialog, else the browser's confirm. */
  confirmLeave() {
    const dialog = document.getElementById("queue-leave-dialog");
    const text = this.position !== null && this.state !== "prequeue"
      ? this.view.t("queue.leave_confirm.text_place", { position: this.view.number(this.position) })
      : this.view.t("queue.leave_confirm.text");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(text)) {
        this.leave();
      }
      return;
    }
    document.getElementById("queue-leave-dialog-text").textContent = text;
    dialog.showModal();
  }

  closeLeaveDialog() {
    const dialog = document.getElementById("queue-leave-dialog");
    if (dialog && dialog.open) {
      dialog.close();
    }
  }

  start() {
    document.getElementById("queue-leave-stay").addEventListener("click", () => this.closeLeaveDialog());
    document.getElementById("queue-leave-yes").addEventListener("click", () => {
      this.closeLeaveDialog();
      this.leave();
    });
    const joinForm = document.querySelector(".js-join-form");
    joinForm.classList.remove("noscript-only");
    joinForm.dataset.showIn = "expired left";
    joinForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.setState("joining");
      // The button just pressed disappears: keep keyboard focus on the card's heading.
      document.getElementById("queue-heading").focus();
      this.join();
    });
    document.querySelector(".js-leave-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.confirmLeave();
    });
    document.addEventListener("visibilitychange", () => {
      // Timers are slowed in background tabs: catch up as soon as the fan looks again.
      if (document.visibilityState === "visible" && this.place && HOLDING.has(this.state)) {
        this.checkStatus();
      }
    });
    this.setState("joining");
    this.join();
  }

  // -- join ----------------------------------------------------------------------------

  async join(proof) {
    this.cancel("retry-join");
    const saved = this.place;
    let answer;
    try {
      answer = await joinQueue(this.showId, saved && saved.token, proof);
    } catch (err) {
      this.joinFailed(err, saved);
      return;
    }
    this.attempts.join = 0;
    this.proofTries = 0;
    const ticket = answer.ticketNumber ?? null;
    const ahead = answer.position ? answer.position - 1 : null;
    const same = saved && ticket !== null && saved.ticketNumber === ticket;
    this.place = {
      token: answer.token,
      ticketNumber: ticket,
      initialAhead: same ? Math.max(saved.initialAhead ?? 0, ahead ?? 0) : ahead,
    };
    this.savePlace();
    this.anchor = null;
    this.position = answer.position ?? null;
    if (this.position !== null) {
      this.anchorOn(this.position);
    }
    this.total = answer.totalInQueue ?? this.total;
    this.learnEta(answer);
    this.learn(answer);
    if (answer.status === "ADMITTED") {
      if (answer.accessToken) {
        this.admitted(answer);
      } else {
        this.checkStatus();
      }
      return;
    }
    this.setState(WAITING_STATES[answer.status] || "waiting");
    this.render();
    this.lastStatusAt = Date.now();
    this.followProgress();
    this.scheduleStatus();
  }

  joinFailed(err, saved) {
    if ((err.status === 401 || err.status === 403) && saved && err.code.startsWith("TOKEN")) {
      // The saved token is no good (another network, a new key): take a fresh place.
      this.dropPlace();
      this.join();
      return;
    }
    if (err.code === "PROOF_OF_WORK_REQUIRED" || err.code === "PROOF_OF_WORK_INVALID") {
      this.prove(err);
      return;
    }
    if (err.status === 425) {
      const opensAt = err.problem && err.problem.opensAt;
      this.opensAt = opensAt || this.opensAt;
      const text = opensAt ? this.view.t("queue.not_open_text", { time: this.formatTime(opensAt) }) : undefined;
      this.setState("not_open", text);
      const untilOpen = opensAt ? (Date.parse(opensAt) - Date.now()) / 1000 : 0;
      this.retry("join", err, () => this.join(), Math.min(Math.max(untilOpen, 0), 30));
      return;
    }
    if (err.status === 404 || err.code === "QUEUE_CLOSED") {
      // No room for this show (or it is switched off): look again now and then.
      this.setState("closed");
      this.later("retry-join", 30000, () => this.join());
      return;
    }
    if (err.status === 429) {
      this.setState("busy");
    } else if (err.retryable) {
      this.setState("unavailable");
    } else {
      this.setState("error");
    }
    this.retry("join", err, () => this.join());
  }

  /** The room asks for proof of work: fetch a challenge, solve it, join with the answer. */
  async prove(err) {
    this.proofTries += 1;
    if (this.proofTries > MAX_PROOF_TRIES) {
      this.proofTries = 0;
      this.setState("error");
      this.retry("join", err, () => this.join());
      return;
    }
    this.setState("joining", this.view.t("queue.pow_working"));
    let challenge;
    try {
      challenge = await fetchChallenge(this.showId);
    } catch (fetchErr) {
      this.setState(fetchErr.retryable ? "unavailable" : "error");
      this.retry("join", fetchErr, () => this.join());
      return;
    }
    const nonce = await solveProof(challenge.challenge, challenge.difficultyBits);
    this.join({ challenge: challenge.challenge, nonce });
  }

  // -- status and leave ----------------------------------------------------------------

  async checkStatus() {
    if (this.statusBusy || !this.place) {
      return;
    }
    this.statusBusy = true;
    this.cancel("status");
    this.lastStatusAt = Date.now();
    let answer;
    try {
      answer = await queueStatus(this.showId, this.place.token);
    } catch (err) {
      this.statusBusy = false;
      this.statusFailed(err);
      return;
    }
    this.statusBusy = false;
    this.attempts.status = 0;
    if (!this.place) {
      return; // left meanwhile
    }
    if (answer.status === "ADMITTED") {
      this.admitted(answer);
      return;
    }
    this.total = answer.totalInQueue ?? this.total;
    this.learn(answer);
    if (answer.status === "SOLD_OUT") {
      this.position = answer.position ?? this.position;
      if (this.state !== "sold_out") {
        this.setState("sold_out");
        this.view.announce(this.view.t("queue.announce.sold_out"));
      }
      this.render();
      this.scheduleStatus();
      return;
    }
    if (answer.status === "PREQUEUE" || answer.position === null || answer.position === undefined) {
      if (answer.status === "PREQUEUE") {
        this.setState("prequeue");
      }
      this.render();
      this.scheduleStatus();
      return;
    }
    this.position = answer.position;
    this.learnEta(answer);
    if (answer.ticketNumber && this.place.ticketNumber !== answer.ticketNumber) {
      this.place.ticketNumber = answer.ticketNumber; // numbered when the pre-queue was drawn
      this.savePlace();
    }
    this.anchorOn(answer.position);
    if (this.state !== "waiting" && this.state !== "paused") {
      // Back from sold out or the pre-queue (seats came back, or the draw numbered us).
      this.setState(this.progress && this.progress.status === "PAUSED" ? "paused" : "waiting");
    }
    this.render();
    this.scheduleStatus();
  }

  statusFailed(err) {
    if (err.status === 401 || err.status === 403) {
      this.dropPlace();
      this.setState("joining");
      this.join();
      return;
    }
    if (err.status === 410) {
      this.closeLeaveDialog();
      this.dropPlace();
      this.stopFollowing();
      this.cancelAll();
      this.setState("expired");
      return;
    }
    if (err.status === 404 || err.code === "QUEUE_CLOSED") {
      this.setState("closed");
    } else if (err.retryable) {
      this.setState(err.status === 429 ? "busy" : "unavailable");
    }
    this.retry("status", err, () => this.checkStatus());
  }

  scheduleStatus() {
    if (!this.place) {
      return;
    }
    this.later("status", this.nearFront() ? NEAR_FRONT_STATUS_MS : KEEPALIVE_MS, () => this.checkStatus());
  }

  async leave() {
    const place = this.place;
    this.dropPlace();
    this.stopFollowing();
    this.cancelAll();
    this.setState("left");
    document.getElementById("queue-join").focus(); // the leave button is gone: offer to rejoin
    if (place) {
      try {
        await leaveQueue(this.showId, place.token);
      } catch {
        // Leaving is a courtesy; an unreachable queue forgets the place when it goes stale.
      }
    }
  }

  admitted(answer) {
    this.closeLeaveDialog(); // the question is moot: it's the fan's turn
    rememberAccess(this.showId, answer.accessToken, answer.accessExpiresAt);
    this.dropPlace();
    this.stopFollowing();
    this.cancelAll();
    // Fewer seats left than fans choosing: say so before the seat map, and give time to read.
    const few = answer.fewSeatsLeft && answer.seatsLeft !== null && answer.seatsLeft !== undefined;
    const notice = few
      ? this.view.t("queue.few_seats", { seats: this.view.number(answer.seatsLeft) })
      : undefined;
    this.setState("admitted", notice);
    this.view.announce(notice || this.view.t("queue.announce.admitted"));
    window.setTimeout(() => window.location.assign(this.config.seatsUrl),
      few ? FEW_SEATS_DELAY_MS : NAVIGATE_DELAY_MS);
  }

  /** Keep what a join or status answer says beyond the place: chance and draw entry. */
  learn(answer) {
    if (answer.chance !== undefined) {
      this.chance = answer.chance;
    }
    if (answer.entryId) {
      this.entryId = answer.entryId;
      if (this.place && this.place.entryId !== answer.entryId) {
        this.place.entryId = answer.entryId; // still shown after the draw and a reload
        this.savePlace();
      }
    }
  }

  // -- progress ------------------------------------------------------------------------

  followProgress() {
    if (this.live) {
      return;
    }
    this.live = { close: () => {} };
    this.live.close = streamProgress(this.showId, {
      onProgress: (data) => this.onProgress(data),
      onUnavailable: () => this.onUnavailable(),
      onGiveUp: () => {
        if (this.live) {
          this.live = { close: () => this.cancel("poll") };
          this.poll();
        }
      },
    });
  }

  stopFollowing() {
    if (this.live) {
      this.live.close();
      this.live = null;
    }
  }

  async poll() {
    try {
      const data = await queueProgress(this.showId);
      this.attempts.poll = 0;
      this.onProgress(data);
      if (this.live) {
        this.later("poll", POLL_MS, () => this.poll());
      }
    } catch (err) {
      this.onUnavailable();
      if (this.live) {
        const seconds = backoffSeconds(this.attempts.poll++, err.retryAfterSeconds);
        this.later("poll", seconds * 1000, () => this.poll());
      }
    }
  }

  onUnavailable() {
    if (this.place && HOLDING.has(this.state)) {
      this.setState("unavailable");
    }
  }

  onProgress(data) {
    const previous = this.progress;
    this.progress = data;
    this.progressAt = Date.now();
    this.total = data.totalInQueue;
    this.rate = data.observedAdmissionsPerMinute;
    if (!this.place || !HOLDING.has(this.state)) {
      return;
    }
    if (data.status === "CLOSED") {
      this.setState("closed");
      return;
    }
    if (data.status === "PREQUEUE") {
      this.setState("prequeue");
      this.render();
      return;
    }
    if (data.status === "SOLD_OUT") {
      if (this.state !== "sold_out") {
        this.setState("sold_out");
        this.view.announce(this.view.t("queue.announce.sold_out"));
      }
      this.render();
      return;
    }
    if (this.state === "sold_out") {
      // The shared feed may be a second older than the status that told us sold out: our own
      // status call decides whether seats came back (checkStatus leaves sold out if so).
      this.checkStatus();
      return;
    }
    const drawn = previous && previous.status === "PREQUEUE";
    if (this.pendingExact !== null && !drawn) {
      this.anchor = data.admittedThrough + this.pendingExact;
      this.pendingExact = null;
    }
    this.setState(data.status === "PAUSED" ? "paused" : "waiting");
    const resumed = data.status !== "PAUSED" && this.etaReason === "PAUSED";
    if (resumed) {
      this.etaReason = null; // the room lets fans in again: our status call brings the estimate
      this.serverEta = null;
    }
    if (drawn || resumed || this.anchor === null) {
      // The sale started and the pre-queue was drawn (or we lack a number): ask our place.
      this.checkStatus();
    } else {
      const computed = this.anchor - data.admittedThrough;
      this.position = Math.max(1, computed);
      if (computed <= 0) {
        // Our ticket was reached: we were let in (or skipped); the status call says which.
        this.checkStatus();
      }
    }
    this.render();
    const sinceStatus = Date.now() - this.lastStatusAt;
    if (this.nearFront()) {
      this.view.announceNearFront();
      if (sinceStatus >= NEAR_FRONT_STATUS_MS) {
        this.checkStatus();
      }
    } else if (sinceStatus >= KEEPALIVE_MS) {
      // Events keep arriving in a background tab whose timers are slowed: keep the place.
      this.checkStatus();
    }
  }

  /** The room's estimate in a join or status answer (none, with its reason, is news too). */
  learnEta(answer) {
    this.serverEta = answer.estimatedWaitSeconds ?? null;
    this.etaReason = answer.estimatedWaitReason ?? null;
    this.serverEtaAhead = answer.position ? Math.max(0, answer.position - 1) : null;
  }

  /**
   * The wait to show for `ahead` fans ahead: the room's estimate, scaled by how far the line
   * moved since it was given (the progress events move our place between status calls), so it
   * does not count down while nobody is let in; the bare admission rate only without one.
   */
  etaSeconds(ahead) {
    if (ahead === null || this.etaReason || (this.progress && this.progress.status === "PAUSED")) {
      return null;
    }
    if (this.serverEta !== null) {
      const then = this.serverEtaAhead;
      return then ? (this.serverEta * Math.min(ahead, then)) / then : this.serverEta;
    }
    return this.rate > 0 ? (ahead * 60) / this.rate : null;
  }

  /** Why no wait is shown, when the room says or its progress shows a pause. */
  noEtaReason() {
    if (this.etaReason) {
      return this.etaReason;
    }
    return this.progress && this.progress.status === "PAUSED" ? "PAUSED" : null;
  }

  nearFront() {
    if (this.position === null || this.state !== "waiting") {
      return false;
    }
    const perTick = ((this.rate || 0) / 60) * TICK_SECONDS;
    return this.position <= Math.max(2, Math.ceil(2 * perTick));
  }

  // -- rendering -----------------------------------------------------------------------

  render() {
    const ahead = this.position === null ? null : Math.max(0, this.position - 1);
    if (ahead !== null && this.place && (this.place.initialAhead === null
        || this.place.initialAhead === undefined || ahead > this.place.initialAhead)) {
      this.place.initialAhead = ahead;
      this.savePlace();
    }
    const initial = this.place ? this.place.initialAhead ?? 0 : 0;
    const percent = ahead === null ? 0
      : initial === 0 ? 100 : Math.round((100 * (initial - ahead)) / initial);
    const eta = this.etaSeconds(ahead);
    this.view.applyVisibility(this.state, this.placeFlags());
    this.view.renderPlace({
      position: this.state === "prequeue" ? null : this.position,
      percent: Math.min(100, Math.max(0, percent)),
      etaSeconds: eta,
      etaReason: this.noEtaReason(),
      total: this.total,
      rate: this.rate,
      ticket: this.place ? this.place.ticketNumber : null,
    });
    this.view.renderChance(this.chance);
    this.view.renderEntry(this.entryId);
    if (this.state === "waiting" && this.position !== null) {
      this.view.announcePosition(this.position, eta);
    }
  }

  /** A moment in the theater's zone, zone named, as the server prints it (lib/dates.js). */
  formatTime(iso) {
    return formatDateTime(iso, this.config.dates) || iso;
  }
}

function boot() {
  const root = document.getElementById("queue");
  if (!root || !document.getElementById("queue-config")) {
    return;
  }
  if (root.dataset.state === "confirm_leave") {
    return; // the server's question before leaving (its forms work as they are)
  }
  const controller = new QueueController(root, readConfig("queue-config"));
  controller.start();
}

boot();
