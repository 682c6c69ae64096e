// "My booking" (/my-booking): look up a booking by reference and e-mail (a short-lived booking
// token, kept in sessionStorage), show it with the refund cancelling would give, and cancel
// only after the fan has seen that refund and confirmed.

import {
  cancelBooking,
  forgetBookingToken,
  getBooking,
  getCancellation,
  lastLookedUp,
  lookupBooking,
  openBooking,
  rememberBookingToken,
} from "./booking-api.js";
import { ApiError } from "./lib/api.js";
import { isEmail } from "./lib/email.js";
import { readConfig } from "./lib/i18n.js";
import { Formatter } from "./page-format.js";
import { deleteTicket } from "./ticket-store.js";

function byId(id) {
  return document.getElementById(id);
}

function setText(id, text) {
  byId(id).textContent = text;
}

class MyBookingPage {
  constructor(root, config) {
    this.root = root;
    this.fmt = new Formatter(config);
    this.booking = null;
    this.preview = null;
    this.token = null;
    this.busy = false;
  }

  start() {
    byId("lookup-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    byId("result-another").addEventListener("click", (event) => {
      event.preventDefault();
      this.reset();
    });
    byId("cancel-start").addEventListener("click", () => this.openConfirm());
    byId("cancel-no").addEventListener("click", () => this.closeConfirm());
    byId("cancel-yes").addEventListener("click", () => this.cancel());
    // From the ticket page (?booking=<id>): open that booking at once with a token this
    // browser holds for it (the access token that bought it, or the e-mailed link's booking
    // token); else the form, its reference filled in by the server.
    const wanted = new URLSearchParams(window.location.search).get("booking");
    if (wanted) {
      openBooking(wanted)
        .then(({ token }) => this.open(wanted, token, true))
        .catch(() => this.openLast());
      return;
    }
    this.openLast();
  }

  openLast() {
    const last = lastLookedUp();
    if (last) {
      this.open(last.bookingId, last.token, false).catch(() => this.reset());
    }
  }

  announce(text) {
    setText("my-booking-announcer", text);
  }

  setState(state) {
    this.root.dataset.state = state;
    for (const node of this.root.querySelectorAll("[data-show-in]")) {
      node.hidden = !node.dataset.showIn.split(" ").includes(state);
    }
  }

  // -- lookup ----------------------------------------------------------------------------

  fieldError(name, message) {
    const input = byId(`lookup-${name}`);
    const error = byId(`lookup-${name}-error`);
    error.textContent = message || "";
    error.hidden = !message;
    if (message) {
      input.setAttribute("aria-invalid", "true");
    } else {
      input.removeAttribute("aria-invalid");
    }
  }

  summary(messages) {
    const box = byId("lookup-errors");
    if (!messages.length) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const list = document.createElement("ul");
    for (const { text, field } of messages) {
      const item = document.createElement("li");
      if (field) {
        const link = document.createElement("a");
        link.href = `#lookup-${field}`;
        link.textContent = text;
        link.addEventListener("click", (event) => {
          event.preventDefault();
          byId(`lookup-${field}`).focus();
        });
        item.append(link);
      } else {
        item.textContent = text;
      }
      list.append(item);
    }
    const title = document.createElement("p");
    title.textContent = this.fmt.t("booking.errors_title");
    box.replaceChildren(title, list);
    box.hidden = false;
    box.focus();
  }

  validate(reference, email) {
    const problems = [];
    const referenceError = reference ? null : this.fmt.t("booking.error_reference");
    let emailError = null;
    if (!email) {
      emailError = this.fmt.t("booking.error_email_missing");
    } else if (!isEmail(byId("lookup-email"), email)) {
      emailError = this.fmt.t("booking.error_email");
    }
    this.fieldError("reference", referenceError);
    this.fieldError("email", emailError);
    if (referenceError) {
      problems.push({ text: referenceError, field: "reference" });
    }
    if (emailError) {
      problems.push({ text: emailError, field: "email" });
    }
    return problems;
  }

  lookupMessage(err) {
    if (!(err instanceof ApiError)) {
      return this.fmt.t("booking.error_generic");
    }
    if (err.offline) {
      return this.fmt.t("booking.error_offline");
    }
    if (err.status === 404) {
      return this.fmt.t("booking.error_not_found");
    }
    if (err.status === 429) {
      return this.fmt.t("booking.error_rate_limited", { seconds: err.retryAfterSeconds || 60 });
    }
    if (err.status === 400 || err.status === 422) {
      return this.fmt.t("booking.error_invalid");
    }
    return this.fmt.t("booking.error_generic");
  }

  async submit() {
    if (this.busy) {
      return;
    }
    const reference = byId("lookup-reference").value.trim().toUpperCase();
    const email = byId("lookup-email").value.trim();
    const problems = this.validate(reference, email);
    if (problems.length) {
      this.summary(problems);
      return;
    }
    this.summary([]);
    this.busy = true;
    const button = byId("lookup-submit");
    button.disabled = true;
    button.textContent = this.fmt.t("booking.lookup_busy");
    try {
      const found = await lookupBooking(reference, email);
      rememberBookingToken(found.bookingId, found.bookingToken, found.expiresIn);
      await this.open(found.bookingId, found.bookingToken, true);
    } catch (err) {
      this.summary([{ text: this.lookupMessage(err) }]);
    } finally {
      this.busy = false;
      button.disabled = false;
      button.textContent = this.fmt.t("booking.lookup_button");
    }
  }

  reset() {
    this.booking = null;
    this.preview = null;
    if (this.token && this.bookingIdShown) {
      forgetBookingToken(this.bookingIdShown);
    }
    this.token = null;
    byId("cancel-done").hidden = true;
    byId("cancel-error").hidden = true;
    this.setState("lookup");
    byId("lookup-reference").focus();
  }

  // -- the booking -----------------------------------------------------------------------

  async open(bookingId, token, focus) {
    const [booking, preview] = await Promise.all([
      getBooking(bookingId, token),
      getCancellation(bookingId, token).catch(() => null),
    ]);
    this.token = token;
    this.bookingIdShown = bookingId;
    this.render(booking, preview);
    this.setState("found");
    if (focus) {
      byId("booking-result").focus();
    }
    this.announce(this.fmt.t("booking.found_announce", { reference: booking.reference }));
  }

  render(booking, preview) {
    this.booking = booking;
    this.preview = preview;
    const fmt = this.fmt;
    setText("result-title", booking.show.title);
    const status = byId("result-status");
    status.textContent = fmt.t(`booking.status.${booking.status.toLowerCase()}`);
    status.className = `status-pill status-pill--${booking.status.toLowerCase()}`;
    setText("result-reference", booking.reference);
    const time = byId("result-time");
    time.textContent = fmt.dateTime(booking.show.showTime, booking.show.timezone);
    time.dateTime = booking.show.showTime;
    setText("result-place", [booking.show.theater, booking.show.screen, booking.show.city].filter(Boolean).join(", "));
    setText("result-seats", fmt.list(booking.seats.map((seat) => seat.id)));
    setText("result-amount", fmt.money(booking.amount, booking.currency));
    const refundRow = byId("result-refund-row");
    refundRow.hidden = !booking.refund;
    if (booking.refund) {
      setText("result-refund", fmt.money(booking.refund.amount, booking.currency));
    }
    const ticketLink = byId("result-ticket-link");
    ticketLink.hidden = booking.status !== "CONFIRMED";
    ticketLink.href = `/bookings/${encodeURIComponent(booking.id)}`;
    this.renderCancellation();
  }

  renderCancellation() {
    const { booking, preview, fmt } = this;
    const section = byId("cancel-section");
    this.closeConfirm(false);
    if (booking.status !== "CONFIRMED" || !preview) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    const zone = booking.show.timezone;
    const start = byId("cancel-start");
    if (!preview.allowed) {
      setText("cancel-refund", fmt.t("booking.cancel_closed"));
      setText("cancel-policy", fmt.t("booking.cancel_closed_policy", { until: fmt.dateTime(preview.cancellableUntil, zone) }));
      start.hidden = true;
      return;
    }
    const refund = fmt.money(preview.refundAmount, preview.currency);
    setText("cancel-refund", fmt.t("booking.refund_preview", {
      refund, percent: preview.percent, amount: fmt.money(preview.amount, preview.currency),
    }));
    setText("cancel-policy", preview.percent === 100
      ? fmt.t("booking.policy_full", { until: fmt.dateTime(preview.fullRefundUntil, zone), half_until: fmt.dateTime(preview.cancellableUntil, zone) })
      : fmt.t("booking.policy_half", { until: fmt.dateTime(preview.cancellableUntil, zone) }));
    setText("cancel-confirm-title", fmt.t("booking.cancel_confirm_title", { refund }));
    setText("cancel-yes", fmt.t("booking.cancel_yes", { refund }));
    start.hidden = false;
  }

  openConfirm() {
    byId("cancel-error").hidden = true;
    byId("cancel-confirm").hidden = false;
    byId("cancel-start").setAttribute("aria-expanded", "true");
    byId("cancel-yes").focus();
  }

  closeConfirm(focus = true) {
    byId("cancel-confirm").hidden = true;
    const start = byId("cancel-start");
    start.setAttribute("aria-expanded", "false");
    if (focus && !start.hidden) {
      start.focus();
    }
  }

  async cancel() {
    if (this.busy || !this.booking) {
      return;
    }
    this.busy = true;
    const yes = byId("cancel-yes");
    yes.disabled = true;
    const bookingId = this.booking.id;
    try {
      const out = await cancelBooking(bookingId, this.token);
      await deleteTicket(bookingId);
      const done = byId("cancel-done");
      done.textContent = this.fmt.t("booking.cancel_done", {
        reference: this.booking.reference, refund: this.fmt.money(out.refundAmount, out.currency),
      });
      done.hidden = false;
      const booking = await getBooking(bookingId, this.token).catch(() => null);
      this.render(booking || { ...this.booking, status: "CANCELLED" }, null);
      done.focus();
    } catch (err) {
      const box = byId("cancel-error");
      box.textContent = err instanceof ApiError && err.code === "CANCELLATION_WINDOW_CLOSED"
        ? this.fmt.t("booking.cancel_closed")
        : err instanceof ApiError && err.offline
          ? this.fmt.t("booking.error_offline")
          : this.fmt.t("booking.cancel_failed");
      box.hidden = false;
      const preview = await getCancellation(bookingId, this.token).catch(() => null);
      if (preview) {
        this.preview = preview;
        this.renderCancellation();
      }
    } finally {
      yes.disabled = false;
      this.busy = false;
    }
  }
}

const root = byId("my-booking");
if (root) {
  new MyBookingPage(root, readConfig()).start();
}
