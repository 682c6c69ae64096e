// The seat selection page: the seat map (seat-grid.js), the fan's picks and their total,
// "Hold seats", and live updates (seat-live.js) so that seats locked, released or booked by
// others change in place, without a reload.
//
// The access token is the one the queue page left in sessionStorage; without it the page says
// so and links to the waiting room. A hold that works moves on to the checkout page with the
// lock in sessionStorage; a seat taken meanwhile (409) is named, and the seats the server
// suggests instead are offered, one click to pick them.

import { readConfig, translator } from "./lib/i18n.js";
import { accessToken, readJSON, writeJSON } from "./lib/storage.js";
import {
  accessEndsAt, announce, callApi, clock, formatMoney, holdKey, lastSeatsKey, serverNow,
  showState, sortSeatIds,
} from "./seats-common.js";
import { HallZoom } from "./hall-zoom.js";
import { LiveSeats } from "./seat-live.js";
import { SeatGrid } from "./seat-grid.js";

const EVENT_STATUS = { SEAT_LOCKED: "LOCKED", SEAT_RELEASED: "AVAILABLE", SEAT_BOOKED: "BOOKED" };
const PRESELECT_WINDOW_MS = 10_000;
const LOAD_RETRY_MS = 3000;
const ACCESS_ANNOUNCE_AT = [120, 60];   // seconds left in the fan's turn
const ACCESS_URGENT_AT = 120;

class SeatPage {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.showId = config.showId;
    this.t = translator(config);
    this.el = (id) => document.getElementById(id);
    this.selected = new Set();
    this.currency = "INR";
    this.pendingPreselect = new Set();
    this.preselectUntil = 0;
    this.holding = false;
    this.loaded = false;
    this.stopped = false;
    this.grid = new SeatGrid({
      grid: this.el("seat-grid"), picker: this.el("row-picker-buttons"), t: this.t,
      price: (amount) => this.price(amount), typeName: (type) => this.typeName(type),
      isSelected: (id) => this.selected.has(id), onToggle: (id) => this.toggle(id),
      onRowShown: (row) => {
        this.el("seats-announcer").textContent = this.t("seats.row_shown", { row });
      },
    });
    this.hall = new HallZoom({
      frame: root.querySelector(".grid-scroll"), grid: this.el("seat-grid"),
      onChange: (zoom, fit) => this.zoomChanged(zoom, fit),
    });
  }

  // One row or the whole hall (phones) ---------------------------------------------------------

  setView(view) {
    this.root.dataset.view = view;
    for (const button of this.root.querySelectorAll(".view-switch__button")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === view));
    }
    if (view === "hall") this.hall.start();
    else this.hall.reset();
    if (this.grid.focusId) this.grid.focusSeat(this.grid.focusId, false);
    announce(this.el("seats-announcer"),
      this.t(view === "hall" ? "seats.view.hall_shown" : "seats.view.row_shown"));
  }

  zoomChanged(zoom, fit) {
    const controls = this.el("zoom-controls");
    controls.dataset.zoom = zoom.toFixed(2);
    controls.querySelector('[data-zoom="out"]').disabled = zoom <= fit + 0.001;
    controls.querySelector('[data-zoom="fit"]').disabled = zoom <= fit + 0.001;
    controls.querySelector('[data-zoom="in"]').disabled = zoom >= 1.499;
  }

  onZoomButton(kind) {
    if (kind === "in") this.hall.zoomBy(1.25);
    else if (kind === "out") this.hall.zoomBy(0.8);
    else this.hall.set(this.hall.fit());
    announce(this.el("seats-announcer"),
      this.t("seats.zoom.level", { percent: Math.round(this.hall.zoom * 100) }));
  }

  get seats() {
    return this.grid.seats;
  }

  // Start and state ---------------------------------------------------------------------------

  async start() {
    this.token = accessToken(this.showId);
    if (!this.token) {
      this.setState("no-token");
      return;
    }
    this.live = new LiveSeats({
      root: this.root, showId: this.showId, token: this.token, pollMs: this.config.pollMs,
      reload: () => this.loadMap(), onEvent: (message) => this.applyEvent(message),
      onTokenRefused: () => this.setState("token-expired"),
    });
    this.bindControls();
    this.startAccessTimer();
    await this.giveBackHold();
    await this.loadMap();
    if (this.loaded && !this.stopped) this.live.start();
    window.addEventListener("pagehide", () => this.live.close());
  }

  setState(state) {
    showState(this.root, state);
    if (["no-token", "token-expired", "closed"].includes(state)) this.stop();
  }

  stop() {
    this.stopped = true;
    this.live?.stop();
    window.clearInterval(this.accessTimer);
  }

  /** Back on the seat map after a payment attempt while this tab still holds the seats (a
   * failed payment keeps the hold for a retry): give them back and pick them again, so the fan
   * changes seats freely. A hold still being paid for answers 409 and stays. (A hold the
   * checkout page let go of on leaving, `leftAt`, is that page's to take again.) */
  async giveBackHold() {
    const held = readJSON(holdKey(this.showId));
    if (!held || !held.lockId || !held.bookingId) return;
    const { status } = await callApi(`/api/v1/bookings/lock/${encodeURIComponent(held.lockId)}`,
      { method: "DELETE", token: this.token });
    if (status === 409) return;
    writeJSON(holdKey(this.showId), null);
    if (Array.isArray(held.seatIds) && !readJSON(lastSeatsKey(this.showId))) {
      writeJSON(lastSeatsKey(this.showId), held.seatIds);
    }
  }

  // The admission window ------------------------------------------------------------------------

  /** Count down the fan's turn (the access token's lifetime) beside the map and in the
   * summary; announce it at 2 and 1 minutes; at its end the page says the turn is over. */
  startAccessTimer() {
    this.accessEnds = accessEndsAt(this.showId, this.token);
    if (!this.accessEnds) return;
    this.accessSaid = new Set(ACCESS_ANNOUNCE_AT.filter(
      (mark) => (this.accessEnds - serverNow()) / 1000 < mark));
    this.el("access-timer").hidden = false;
    this.tickAccess();
    this.accessTimer = window.setInterval(() => this.tickAccess(), 1000);
  }

  tickAccess() {
    const left = Math.max(0, (this.accessEnds - serverNow()) / 1000);
    const text = clock(left);
    this.el("access-value").textContent = text;
    this.el("access-timer").classList.toggle("access-timer--urgent", left <= ACCESS_URGENT_AT);
    const short = this.el("summary-access");
    short.textContent = this.t("seats.access.short", { time: text });
    short.hidden = false;
    short.classList.toggle("summary__access--urgent", left <= ACCESS_URGENT_AT);
    const crossed = ACCESS_ANNOUNCE_AT.filter((mark) => left <= mark && !this.accessSaid.has(mark));
    for (const mark of crossed) this.accessSaid.add(mark);
    if (crossed.length && left > 0) {
      announce(this.el("seats-announcer"),
        this.t.plural("seats.access.announce", Math.min(...crossed) / 60));
    }
    if (left <= 0) this.setState("token-expired");
  }

  bindControls() {
    this.el("hold-button").addEventListener("click", () => this.hold());
    for (const button of this.root.querySelectorAll(".view-switch__button")) {
      button.addEventListener("click", () => this.setView(button.dataset.view));
    }
    this.el("zoom-controls").addEventListener("click", (event) => {
      const button = event.target.closest("[data-zoom]");
      if (button && !button.disabled) this.onZoomButton(button.dataset.zoom);
    });
    this.el("summary-list").addEventListener("click", (event) => {
      const button = event.target.closest("[data-remove]");
      if (!button) return;
      this.selected.delete(button.dataset.remove);
      this.grid.paint(button.dataset.remove);
      this.renderSummary();
      announce(this.el("seats-announcer"),
        this.t("seats.announce.removed", { seat: button.dataset.remove }));
      this.el("hold-button").focus();
    });
    this.el("alternatives-button").addEventListener("click", () => this.takeAlternatives());
  }

  // The seat map ------------------------------------------------------------------------------

  async loadMap() {
    const { status, body } = await callApi(`/api/v1/shows/${this.showId}/seats`,
      { token: this.token });
    if (this.stopped) return;
    if (status === 200 && body && Array.isArray(body.seats)) {
      this.applyMap(body);
    } else if (status === 401) {
      this.setState("token-expired");
    } else if (status === 403) {
      this.setState("no-token");
    } else if (!this.loaded) {
      this.setState("unavailable");
      window.setTimeout(async () => {
        await this.loadMap();
        if (this.loaded && !this.stopped && !this.live.stream) this.live.start();
      }, LOAD_RETRY_MS);
    }
    // Later reads that fail change nothing: the next poll or event tries again.
  }

  applyMap(map) {
    this.currency = map.currency || this.currency;
    const fresh = new Map(map.seats.map((seat) => [seat.id, seat]));
    if (!this.loaded) {
      this.grid.render(fresh);
      this.renderSeatTypes();
      this.renderSummary();
      this.loaded = true;
      this.setState("ready");
      this.preselect();
      return;
    }
    const changed = [];
    for (const [id, seat] of fresh) {
      if (this.setStatus(id, seat.status)) changed.push(id);
    }
    this.afterChanges(changed);
  }

  typeName(seatType) {
    const key = `seats.type.${seatType}`;
    const found = this.t(key);
    if (found !== key) return found;
    return seatType.charAt(0) + seatType.slice(1).toLowerCase().replace(/_/g, " ");
  }

  price(amount) {
    return formatMoney(this.config.locale, amount, this.currency);
  }

  renderSeatTypes() {
    const list = this.el("seat-types");
    list.replaceChildren();
    const seen = new Map();
    for (const seat of this.seats.values()) {
      if (!seen.has(seat.seatType)) seen.set(seat.seatType, seat.price);
    }
    for (const [type, price] of seen) {
      const item = document.createElement("li");
      item.className = "seat-types__item";
      const name = document.createElement("span");
      name.className = "seat-types__name";
      name.textContent = this.typeName(type);
      const amount = document.createElement("span");
      amount.className = "seat-types__price";
      amount.textContent = this.price(price);
      item.append(name, " ", amount);
      list.append(item);
    }
  }

  // Picks -------------------------------------------------------------------------------------

  toggle(id) {
    const seat = this.seats.get(id);
    if (!seat) return;
    const say = (text) => announce(this.el("seats-announcer"), text);
    if (this.selected.has(id)) {
      this.selected.delete(id);
      this.grid.paint(id);
      this.renderSummary();
      say(`${this.t("seats.announce.removed", { seat: id })} ${this.summaryText()}`);
      return;
    }
    if (seat.status !== "AVAILABLE") {
      say(this.t("seats.announce.not_available", { seat: id }));
      return;
    }
    if (this.selected.size >= this.config.maxSeats) {
      this.el("summary-limit").hidden = false;
      say(this.t.plural("seats.limit_reached", this.config.maxSeats));
      return;
    }
    this.selected.add(id);
    this.hideProblem();
    this.el("summary-notice").hidden = true;
    this.grid.paint(id);
    this.renderSummary();
    say(`${this.t("seats.announce.selected", { seat: id })} ${this.summaryText()}`);
  }

  total() {
    let sum = 0;
    for (const id of this.selected) sum += Number(this.seats.get(id).price);
    return sum;
  }

  summaryText() {
    if (this.selected.size === 0) return this.t("seats.summary.none");
    return this.t("seats.summary.count_total", {
      count: this.t.plural("seats.summary.seats", this.selected.size),
      total: this.price(this.total()),
    });
  }

  renderSummary() {
    const ids = sortSeatIds(this.selected);
    const list = this.el("summary-list");
    list.replaceChildren();
    for (const id of ids) {
      const item = document.createElement("li");
      item.className = "chip";
      const text = document.createElement("span");
      text.textContent = `${id} · ${this.price(this.seats.get(id).price)}`;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip__remove";
      remove.dataset.remove = id;
      remove.setAttribute("aria-label", this.t("seats.summary.remove", { seat: id }));
      remove.textContent = "×";
      item.append(text, remove);
      list.append(item);
    }
    this.el("summary-empty").hidden = ids.length > 0;
    this.el("summary").classList.toggle("summary--empty",
      ids.length === 0 && this.el("hold-problem").hidden && this.el("summary-notice").hidden);
    this.el("summary-count").textContent = ids.length
      ? this.t.plural("seats.summary.seats", ids.length) : "";
    this.el("summary-total").textContent = this.price(this.total());
    if (this.selected.size < this.config.maxSeats) this.el("summary-limit").hidden = true;
    this.el("hold-button").disabled = ids.length === 0 || this.holding;
  }

  /** Pick the seats the fan held last (after leaving checkout, an expired hold or a failed
   * payment) as soon as they are free: a release may still be on its way. */
  preselect() {
    const wanted = readJSON(lastSeatsKey(this.showId));
    writeJSON(lastSeatsKey(this.showId), null);
    if (!Array.isArray(wanted) || wanted.length === 0) return;
    this.pendingPreselect = new Set(wanted.filter((id) => this.seats.has(id)));
    this.preselectUntil = Date.now() + PRESELECT_WINDOW_MS;
    this.takePreselected();
  }

  takePreselected() {
    if (this.pendingPreselect.size === 0 || Date.now() > this.preselectUntil) return;
    const room = this.config.maxSeats - this.selected.size;
    const taken = [...this.pendingPreselect]
      .filter((id) => this.seats.get(id).status === "AVAILABLE").slice(0, room);
    for (const id of taken) {
      this.pendingPreselect.delete(id);
      this.selected.add(id);
      this.grid.paint(id);
    }
    if (taken.length) {
      this.renderSummary();
      const text = this.t("seats.preselected", { seats: sortSeatIds(this.selected).join(", ") });
      this.showInfo(text);
      announce(this.el("seats-announcer"), text);
    }
  }

  // Live changes ------------------------------------------------------------------------------

  setStatus(id, status) {
    const seat = this.seats.get(id);
    if (!seat || seat.status === status) return false;
    seat.status = status;
    this.grid.paint(id);
    return true;
  }

  applyEvent(message) {
    const status = EVENT_STATUS[message && message.type];
    if (!status || !Array.isArray(message.seatIds)) return;
    this.afterChanges(message.seatIds.filter((id) => this.setStatus(id, status)));
  }

  /** After seats changed under the fan: drop the picks that others took, and say so. */
  afterChanges(ids) {
    const lost = ids.filter((id) => this.selected.has(id)
      && this.seats.get(id).status !== "AVAILABLE");
    for (const id of lost) {
      this.selected.delete(id);
      this.grid.paint(id);
    }
    if (lost.length) {
      const text = this.t.plural("seats.taken_live", lost.length,
        { seats: sortSeatIds(lost).join(", ") });
      // In view where the fan looks (the summary beside "Hold seats", sticky on a phone), as
      // well as at the top of the map; the announcer says it to screen readers.
      const notice = this.el("summary-notice");
      notice.textContent = text;
      notice.hidden = false;
      this.renderSummary();
      this.showInfo(text);
      announce(this.el("seats-announcer"), text);
    }
    this.takePreselected();
  }

  // Hold --------------------------------------------------------------------------------------

  showInfo(text) {
    this.el("seats-info-text").textContent = text;
    this.el("seats-info").hidden = false;
  }

  hideProblem() {
    this.el("hold-problem").hidden = true;
  }

  showProblem(text, alternatives = []) {
    this.el("hold-problem-text").textContent = text;
    this.alternatives = alternatives;
    if (alternatives.length) {
      const seats = sortSeatIds(alternatives).join(", ");
      this.el("alternatives-text").textContent = this.t.plural("seats.alternatives.text",
        alternatives.length, { seats });
      this.el("alternatives-button").textContent = this.t.plural("seats.alternatives.button",
        alternatives.length, { seats });
    }
    this.el("alternatives").hidden = alternatives.length === 0;
    this.el("hold-problem").hidden = false;
    this.el("summary").classList.remove("summary--empty");  // keep the problem in view
    if (alternatives.length) this.el("alternatives-button").focus();
  }

  takeAlternatives() {
    const wanted = (this.alternatives || []).filter(
      (id) => this.seats.get(id)?.status === "AVAILABLE").slice(0, this.config.maxSeats);
    const previous = [...this.selected];
    this.selected = new Set(wanted);
    for (const id of [...previous, ...wanted]) this.grid.paint(id);
    this.hideProblem();
    this.renderSummary();
    if (wanted.length) this.grid.focusSeat(wanted[0], false);
    const picked = this.t("seats.announce.alternatives_taken",
      { seats: sortSeatIds(wanted).join(", ") });
    announce(this.el("seats-announcer"),
      wanted.length ? `${picked} ${this.summaryText()}` : this.t("seats.alternatives.gone"));
    this.el("hold-button").focus();
  }

  async hold() {
    if (this.holding || this.selected.size === 0) return;
    const seatIds = sortSeatIds(this.selected);
    this.holding = true;
    const button = this.el("hold-button");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    this.el("hold-label").textContent = this.t("seats.holding");
    this.hideProblem();
    const { status, body } = await callApi("/api/v1/bookings/lock", {
      method: "POST", token: this.token, body: { showId: this.showId, seatIds },
    });
    if (status === 200 && body && body.lockId) {
      writeJSON(holdKey(this.showId), { ...body, showId: this.showId, seatIds });
      this.stop();
      window.location.assign(this.config.checkoutUrl);
      return;
    }
    this.holding = false;
    button.removeAttribute("aria-busy");
    this.el("hold-label").textContent = this.t("seats.hold_button");
    this.renderSummary();
    this.holdFailed(status, body || {}, seatIds);
  }

  holdFailed(status, body, seatIds) {
    const code = body.error;
    if (status === 409 && code === "SEAT_UNAVAILABLE") {
      const gone = Array.isArray(body.unavailableSeats) ? body.unavailableSeats : seatIds;
      for (const id of gone) {
        if (this.seats.get(id)?.status === "AVAILABLE") this.setStatus(id, "LOCKED");
        this.selected.delete(id);
        this.grid.paint(id);
      }
      this.renderSummary();
      const alternatives = (body.alternativeSeats || []).filter(
        (id) => this.seats.get(id)?.status === "AVAILABLE");
      this.showProblem(this.t.plural("seats.problem.taken", gone.length,
        { seats: sortSeatIds(gone).join(", ") }), alternatives);
    } else if (status === 409 && code === "SEAT_LIMIT_EXCEEDED") {
      this.showProblem(this.t("seats.problem.limit", {
        limit: body.limit ?? this.config.maxSeats, held: body.held ?? 0 }));
    } else if (status === 409 && code === "SHOW_CLOSED") {
      this.setState("closed");
    } else if (status === 401) {
      this.setState("token-expired");
    } else if (status === 403) {
      this.setState("no-token");
    } else if (status === 422 || status === 400) {
      this.showProblem(this.t("seats.problem.invalid"));
      this.loadMap();
    } else {
      this.showProblem(this.t("seats.problem.unreachable"));
    }
  }
}

const root = document.getElementById("seats");
if (root) {
  new SeatPage(root, readConfig("seats-config")).start();
}
