// The hold and checkout page: the held seats with a countdown of the lock, payment method and
// e-mail, and "Pay", which creates the booking and goes to the payment gateway's page.
//
// While the page is open the lock is extended (a heartbeat). Leaving the page any other way
// than to pay releases it with navigator.sendBeacon (POST …/lock/{id}/release with the token in
// the body: a beacon cannot send headers). A reload cannot be told from leaving, so it releases
// too: the page notes that it did (`leftAt` in the stored hold), and the page that comes back
// (reloaded, or restored by Back/Forward) releases the old lock for certain and takes the same
// seats again at once. Releasing an old lock never frees a newer lock's seats (the database
// frees seats by lock id), so the order in which the two releases arrive does not matter.
// The countdown is announced to screen readers at 5, 2 and 1 minutes, 30 and 10 seconds.

import { isEmail } from "./lib/email.js";
import { readConfig, translator } from "./lib/i18n.js";
import { accessToken, readJSON, writeJSON } from "./lib/storage.js";
import {
  accessEndsAt, announce, callApi, clock, formatMoney, holdKey, lastSeatsKey, newKey, serverNow,
  showState, sortSeatIds,
} from "./seats-common.js";

const ANNOUNCE_AT = [300, 120, 60, 30, 10];   // seconds left
const URGENT_AT = 60;
const EMAIL_KEY = "checkout_email";

class CheckoutPage {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.showId = config.showId;
    this.t = translator(config);
    this.el = (id) => document.getElementById(id);
    this.hold = null;
    this.leaving = null;      // "payment" | "seats": a navigation that must not release
    this.ended = false;
    this.relocked = false;
    this.paying = false;
    this.announced = new Set();
    this.lastLeft = null;
    this.tickTimer = null;
    this.beatTimer = null;
  }

  start() {
    this.token = accessToken(this.showId);
    if (!this.token) {
      showState(this.root, "no-token");
      return;
    }
    const hold = readJSON(holdKey(this.showId));
    if (!hold || !hold.lockId || !Array.isArray(hold.seats) || !hold.seats.length) {
      showState(this.root, "no-hold");
      return;
    }
    this.hold = hold;
    this.accessEnds = accessEndsAt(this.showId, this.token);
    this.seatIds = sortSeatIds(hold.seatIds || hold.seats.map((seat) => seat.id));
    this.renderHold();
    this.prefill();
    this.bind();
    showState(this.root, "ready");
    this.restartTimers();
    if (this.hold.leftAt) this.resume();
    else this.heartbeat();
  }

  restartTimers() {
    this.stopTimers();
    this.tick();
    this.tickTimer = window.setInterval(() => this.tick(), 1000);
    this.beatTimer = window.setInterval(() => this.heartbeat(), this.config.heartbeatMs || 120000);
  }

  bind() {
    this.el("pay-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.pay();
    });
    this.el("email").addEventListener("input", () => {
      if (!this.el("email-error").hidden && this.validEmail()) this.clearEmailError();
    });
    this.el("change-seats").addEventListener("click", () => this.changeSeats());
    window.addEventListener("pagehide", () => this.onLeave());
    window.addEventListener("pageshow", (event) => {
      // Back from the payment page (or any page) out of the back-forward cache: check the hold.
      if (event.persisted && !this.ended) {
        this.leaving = null;
        this.resetPayButton();
        this.restartTimers();
        if (this.hold.leftAt) this.resume();
        else this.heartbeat();
      }
    });
  }

  price(amount) {
    return formatMoney(this.config.locale, amount, this.hold.currency || "INR");
  }

  renderHold() {
    const list = this.el("hold-seats");
    list.replaceChildren();
    const byId = new Map(this.hold.seats.map((seat) => [seat.id, seat]));
    for (const id of this.seatIds) {
      const item = document.createElement("li");
      item.className = "hold__seat";
      const name = document.createElement("span");
      name.textContent = this.t("seats.checkout.seat", { seat: id });
      const amount = document.createElement("span");
      amount.className = "hold__price";
      amount.textContent = byId.has(id) ? this.price(byId.get(id).price) : "";
      item.append(name, amount);
      list.append(item);
    }
    const total = this.price(this.hold.totalAmount);
    this.el("hold-total").textContent = total;
    this.el("pay-label").textContent = this.t("seats.checkout.pay_amount", { total });
  }

  prefill() {
    const email = readJSON(EMAIL_KEY);
    if (typeof email === "string" && !this.el("email").value) this.el("email").value = email;
    const method = this.hold.payment && this.hold.payment.method;
    if (method) {
      const radio = this.root.querySelector(`input[name="paymentMethod"][value="${method}"]`);
      if (radio) radio.checked = true;
    }
  }

  // Countdown ---------------------------------------------------------------------------------

  secondsLeft() {
    const until = Date.parse(this.hold.expiresAt);
    return Number.isNaN(until) ? 0 : Math.max(0, Math.ceil((until - serverNow()) / 1000));
  }

  /** Whether the fan's turn (the access token) ends before the hold: paying needs the token,
   * so then the countdown is the turn's. */
  turnEndsFirst() {
    const until = Date.parse(this.hold.expiresAt);
    return Boolean(this.accessEnds) && !Number.isNaN(until) && this.accessEnds < until;
  }

  tick() {
    if (this.ended) return;
    const turn = this.turnEndsFirst();
    const left = turn ? Math.max(0, Math.ceil((this.accessEnds - serverNow()) / 1000))
      : this.secondsLeft();
    this.el("timer-label").textContent = this.t(turn ? "seats.checkout.access_label"
      : "seats.checkout.timer_label");
    this.el("timer-value").textContent = clock(left);
    this.el("timer").classList.toggle("timer--urgent", left <= URGENT_AT);
    if (this.lastLeft === null) {
      // The first tick: thresholds already behind us are not announced late.
      for (const mark of ANNOUNCE_AT) if (left < mark) this.announced.add(mark);
    } else if (left > this.lastLeft) {
      // Extended: the thresholds below the new time are announced again when reached.
      for (const mark of ANNOUNCE_AT) if (mark < left) this.announced.delete(mark);
    } else {
      // Crossed since the last tick (ticks may skip seconds in a background tab): the most
      // urgent threshold crossed is said, once.
      const crossed = ANNOUNCE_AT.filter((mark) => left <= mark && this.lastLeft > mark
        && !this.announced.has(mark));
      for (const mark of crossed) this.announced.add(mark);
      if (crossed.length && left > 0) this.announceTime(Math.min(...crossed));
    }
    this.lastLeft = left;
    if (left <= 0 && turn) {
      this.stopTimers();
      this.ended = true;
      showState(this.root, "token-expired");
    } else if (left <= 0) {
      this.expire("time");
    }
  }

  announceTime(mark) {
    const text = mark >= 60
      ? this.t.plural("seats.checkout.announce_minutes", mark / 60)
      : this.t.plural("seats.checkout.announce_seconds", mark);
    announce(this.el(mark <= URGENT_AT ? "timer-urgent" : "timer-polite"), text);
  }

  // The lock ----------------------------------------------------------------------------------

  async heartbeat() {
    if (this.ended || this.leaving) return;
    const { status, body } = await callApi(
      `/api/v1/bookings/lock/${this.hold.lockId}/extend`, { method: "PUT", token: this.token });
    if (this.ended) return;
    if (status === 200 && body && body.expiresAt) {
      this.hold.expiresAt = body.expiresAt;
      writeJSON(holdKey(this.showId), this.hold);
      this.tick();
    } else if (status === 404) {
      await this.relock();
    } else if (status === 410) {
      this.expire("time");
    } else if (status === 409) {
      this.expire("converted");
    } else if (status === 401) {
      this.stopTimers();
      this.ended = true;
      showState(this.root, "token-expired");
    }
    // Anything else (offline, 503): the countdown goes on; the next beat tries again.
  }

  /** Back after this page released its lock on leaving: release it for certain (the beacon
   * may still be on its way), then take the same seats again. */
  async resume() {
    if (this.ended) return;
    this.relocked = false;
    const { status } = await callApi(`/api/v1/bookings/lock/${this.hold.lockId}`,
      { method: "DELETE", token: this.token });
    if (status === 409) {
      // Being paid for (or paid): the lock could not be released and is still this fan's.
      delete this.hold.leftAt;
      writeJSON(holdKey(this.showId), this.hold);
      await this.heartbeat();
      return;
    }
    await this.relock();
  }

  /** The lock is gone: take the same seats again, once. */
  async relock() {
    if (this.ended) return;
    if (this.relocked) {
      this.expire("time");
      return;
    }
    this.relocked = true;
    const { status, body } = await callApi("/api/v1/bookings/lock", {
      method: "POST", token: this.token, body: { showId: this.showId, seatIds: this.seatIds },
    });
    if (status === 200 && body && body.lockId && this.ended) {
      // The page gave up meanwhile: do not keep seats the fan is no longer shown.
      callApi(`/api/v1/bookings/lock/${body.lockId}`, { method: "DELETE", token: this.token });
    } else if (status === 200 && body && body.lockId) {
      this.hold = { ...body, showId: this.showId, seatIds: this.seatIds };
      writeJSON(holdKey(this.showId), this.hold);
      this.renderHold();
      this.tick();
    } else {
      this.expire(status === 409 ? "taken" : "time");
    }
  }

  stopTimers() {
    window.clearInterval(this.tickTimer);
    window.clearInterval(this.beatTimer);
  }

  expire(reason) {
    if (this.ended) return;
    this.ended = true;
    this.stopTimers();
    writeJSON(holdKey(this.showId), null);
    if (reason !== "converted") writeJSON(lastSeatsKey(this.showId), this.seatIds);
    const seats = this.seatIds.join(", ");
    const key = { taken: "seats.checkout.expired.taken",
      converted: "seats.checkout.expired.converted" }[reason] || "seats.checkout.expired.text";
    this.el("expired-text").textContent = this.t(key, { seats });
    showState(this.root, "expired");
    this.el("expired-heading").focus();
  }

  releaseBeacon() {
    const url = `/api/v1/bookings/lock/${encodeURIComponent(this.hold.lockId)}/release`;
    const body = new URLSearchParams({ token: this.token });
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    // No beacon: a keepalive form post, which outlives the page (lib/api.js sends JSON only).
    fetch(url, { method: "POST", body, keepalive: true }).catch(() => {});
  }

  onLeave() {
    if (this.ended || this.leaving || !this.hold) return;
    // Leaving (back, another page, closing the tab, reloading): give the seats back now rather
    // than when the lock runs out. The seat page picks them again if the fan returns.
    this.hold.leftAt = Date.now();
    writeJSON(holdKey(this.showId), this.hold);
    writeJSON(lastSeatsKey(this.showId), this.seatIds);
    this.releaseBeacon();
  }

  async changeSeats() {
    if (this.ended) return;
    this.leaving = "seats";
    this.stopTimers();
    await callApi(`/api/v1/bookings/lock/${this.hold.lockId}`,
      { method: "DELETE", token: this.token });
    writeJSON(holdKey(this.showId), null);
    writeJSON(lastSeatsKey(this.showId), this.seatIds);
    window.location.assign(this.config.seatsUrl);
  }

  // Pay ---------------------------------------------------------------------------------------

  validEmail() {
    return isEmail(this.el("email"));
  }

  clearEmailError() {
    this.el("email-error").hidden = true;
    this.el("email").removeAttribute("aria-invalid");
  }

  showPayError(text) {
    const box = this.el("pay-error");
    box.textContent = text;
    box.hidden = false;
  }

  async pay() {
    if (this.paying || this.ended) return;
    this.el("pay-error").hidden = true;
    const email = this.el("email").value.trim();
    if (!this.validEmail()) {
      const error = this.el("email-error");
      error.textContent = this.t(email ? "seats.checkout.email_invalid"
        : "seats.checkout.email_missing");
      error.hidden = false;
      this.el("email").setAttribute("aria-invalid", "true");
      this.el("email").focus();
      return;
    }
    this.clearEmailError();
    const method = this.root.querySelector('input[name="paymentMethod"]:checked')?.value || "CARD";
    writeJSON(EMAIL_KEY, email);
    // One Idempotency-Key per lock and body: a retry after a lost answer gets the same booking.
    // Back after a payment that failed (the hold outlives it while the lock lasts): a new
    // attempt is a new booking, so a new key; a booking still being paid answers 409.
    const payment = this.hold.payment;
    if (!payment || payment.method !== method || payment.email !== email || this.hold.bookingId) {
      this.hold.payment = { method, email, key: newKey() };
      delete this.hold.bookingId;
      writeJSON(holdKey(this.showId), this.hold);
    }
    this.paying = true;
    const button = this.el("pay-button");
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    this.el("pay-label").textContent = this.t("seats.checkout.paying");
    const { status, body } = await callApi("/api/v1/bookings", {
      method: "POST", token: this.token,
      headers: { "Idempotency-Key": this.hold.payment.key },
      body: { lockId: this.hold.lockId, paymentMethod: method, email },
    });
    if (status === 201 && body && body.paymentUrl) {
      this.toPayment(body);
      return;
    }
    this.resetPayButton();
    this.payFailed(status, body || {});
  }

  resetPayButton() {
    this.paying = false;
    const button = this.el("pay-button");
    button.disabled = false;
    button.removeAttribute("aria-busy");
    this.el("pay-label").textContent = this.t("seats.checkout.pay_amount",
      { total: this.price(this.hold.totalAmount) });
  }

  toPayment(answer) {
    this.leaving = "payment";
    this.stopTimers();
    this.hold.bookingId = answer.bookingId;
    writeJSON(holdKey(this.showId), this.hold);
    writeJSON(lastSeatsKey(this.showId), this.seatIds);
    window.location.assign(answer.paymentUrl);
  }

  payFailed(status, body) {
    if (status === 410) {
      this.expire("time");
    } else if (status === 401) {
      this.stopTimers();
      this.ended = true;
      showState(this.root, "token-expired");
    } else if (status === 404) {
      this.relocked = false;
      this.relock();
    } else if (status === 409 && body.bookingId) {
      this.showPayError(this.t("seats.checkout.error.in_progress"));
    } else if (status === 400 || status === 422) {
      if (body.error === "IDEMPOTENCY_KEY_REUSED") this.hold.payment = null;
      this.showPayError(this.t("seats.checkout.error.invalid"));
    } else {
      this.showPayError(this.t("seats.checkout.error.unreachable"));
    }
  }
}

const root = document.getElementById("checkout");
if (root) {
  new CheckoutPage(root, readConfig("checkout-config")).start();
}
