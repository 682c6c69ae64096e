// The confirmation / ticket page (/bookings/<id>) and the saved-tickets page (/tickets).
//
// The confirmation page reads the booking with a token this tab holds (booking-api.js), polls
// while the payment settles (PENDING), then shows the ticket and its QR code, saves both in
// IndexedDB and asks the service worker to keep the page: with no network (at the venue) the
// worker serves the page and this script shows the saved copy.

import {
  getBooking, getQrDataUrl, getTicket, openBooking, rememberBookingToken,
} from "./booking-api.js";
import { ApiError } from "./lib/api.js";
import { readConfig } from "./lib/i18n.js";
import { Formatter } from "./page-format.js";
import {
  deleteTicket,
  keepPagesOffline,
  listTickets,
  loadTicket,
  registerWorker,
  saveTicket,
  ticketRecord,
} from "./ticket-store.js";

const RETRY_MS = 5000;
let installPrompt = null;

// Chromium offers installation once the page qualifies; keep the event for our own button.
window.addEventListener("beforeinstallprompt", (event) => {
  event.preventDefault();
  installPrompt = event;
  const button = document.getElementById("ticket-install-button");
  if (button) {
    button.hidden = false;
  }
});

/**
 * The e-mailed ticket link carries a booking token for this one booking in its fragment
 * (`#token=…`, never sent to the server): keep it as this tab's booking token, then take it
 * out of the address bar so that it is not bookmarked, shared or shown.
 */
function takeLinkToken(bookingId) {
  const match = /^#token=([A-Za-z0-9_.-]+)$/.exec(window.location.hash || "");
  if (!match) {
    return;
  }
  const token = match[1];
  let seconds = 900;
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const exp = Number(JSON.parse(window.atob(payload)).exp);
    if (Number.isFinite(exp)) {
      seconds = Math.max(0, exp - Date.now() / 1000);
    }
  } catch {
    // Not a readable JWT: the server decides; keep it for the default time.
  }
  rememberBookingToken(bookingId, token, seconds);
  window.history.replaceState(window.history.state, "",
    window.location.pathname + window.location.search);
}

function byId(id) {
  return document.getElementById(id);
}

function setText(id, text) {
  const node = byId(id);
  if (node) {
    node.textContent = text;
  }
}

class ConfirmationPage {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.fmt = new Formatter(config);
    this.bookingId = config.bookingId;
    this.startedAt = Date.now();
    this.timer = null;
    this.token = null;
    this.state = null;
    this.emailChecks = 0;
    this.emailTimer = null;
    this.worker = registerWorker(config.serviceWorker || "/sw.js");
  }

  start() {
    takeLinkToken(this.bookingId);
    byId("booking-check-again").addEventListener("click", () => this.checkNow());
    byId("booking-retry-offline").addEventListener("click", () => this.checkNow());
    this.setupInstall();
    // Back online after showing the saved copy: read the booking afresh.
    window.addEventListener("online", () => this.load());
    this.load();
  }

  checkNow() {
    this.startedAt = Date.now();
    this.setState("loading");
    this.load();
  }

  later(ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(), ms);
  }

  announce(text) {
    setText("booking-announcer", text);
  }

  setState(state) {
    if (state === this.state) {
      return;
    }
    this.state = state;
    this.root.dataset.state = state;
    for (const node of this.root.querySelectorAll("[data-show-in]")) {
      node.hidden = !node.dataset.showIn.split(" ").includes(state);
    }
  }

  async load() {
    let opened;
    try {
      opened = await openBooking(this.bookingId);
    } catch (err) {
      await this.unreadable(err);
      return;
    }
    this.token = opened.token;
    await this.show(opened.booking);
  }

  /** The booking could not be read: show the saved copy if there is one. */
  async unreadable(err) {
    const saved = await loadTicket(this.bookingId);
    if (saved) {
      this.renderSaved(saved, err instanceof ApiError && err.offline);
      return;
    }
    if (err instanceof ApiError && err.offline) {
      this.setState("offline");
      this.announce(this.fmt.t("booking.offline_title"));
    } else if (err instanceof ApiError && [401, 403, 404].includes(err.status)) {
      this.setState("missing");
      this.announce(this.fmt.t("booking.missing_title"));
    } else {
      this.setState("loading");
      this.later(RETRY_MS);
    }
  }

  async show(booking) {
    if (booking.status === "PENDING") {
      const waited = Date.now() - this.startedAt;
      if (waited < (this.config.pollForMs || 30000)) {
        this.setState("pending");
        this.later(this.config.pollMs || 1500);
      } else {
        if (this.state !== "slow") {
          this.announce(this.fmt.t("help.payment_pending.title"));
        }
        this.setState("slow");
        this.later(this.config.slowPollMs || 10000);
      }
      return;
    }
    if (booking.status === "REVIEW") {
      // Paid, held for a fraud check: the seats are kept; the ticket comes once approved.
      if (this.state !== "review") {
        this.announce(this.fmt.t("booking.review_title"));
      }
      this.setState("review");
      this.later(this.config.slowPollMs || 10000);
      return;
    }
    clearTimeout(this.timer);
    if (booking.status === "FAILED") {
      // The failed payment left the hold in place while its lock lasts: the checkout page
      // offers to pay again for the same seats (or says the hold ran out).
      byId("booking-retry").href = `/shows/${encodeURIComponent(booking.show.id)}/checkout`;
      this.setState("failed");
      this.announce(this.fmt.t("help.payment_failed.title"));
      return;
    }
    if (booking.status === "CANCELLED") {
      await deleteTicket(this.bookingId);
      const refund = booking.refund
        ? this.fmt.t("booking.cancelled_refund", { amount: this.fmt.money(booking.refund.amount, booking.currency) })
        : "";
      setText("booking-cancelled-text", `${this.fmt.t("booking.cancelled_text", { reference: booking.reference })} ${refund}`.trim());
      this.setState("cancelled");
      this.announce(this.fmt.t("booking.cancelled_title"));
      return;
    }
    await this.renderConfirmed(booking);
  }

  fill(view) {
    setText("ticket-title", view.title);
    const time = byId("ticket-time");
    time.textContent = this.fmt.dateTime(view.showTime, view.timezone);
    time.dateTime = view.showTime;
    setText("ticket-place", [view.theater, view.address, view.city].filter(Boolean).join(", "));
    setText("ticket-reference", view.reference);
    setText("ticket-seats", this.fmt.list(view.seats));
    setText("ticket-screen", view.screen || "");
    setText("ticket-amount", this.fmt.money(view.amount, view.currency));
    this.showQr(view.qrDataUrl, view.reference);
  }

  showQr(dataUrl, reference) {
    const img = byId("ticket-qr");
    if (dataUrl && dataUrl.startsWith("data:image/")) {
      img.src = dataUrl;
      img.alt = this.fmt.t("ticket.qr_alt", { reference });
      img.hidden = false;
      byId("ticket-qr-missing").hidden = true;
    } else {
      img.hidden = true;
      byId("ticket-qr-missing").hidden = false;
    }
  }

  async renderConfirmed(booking) {
    const firstTime = this.state !== "confirmed";
    const [ticket, qr] = await Promise.all([
      getTicket(this.bookingId, this.token).catch(() => null),
      getQrDataUrl(this.bookingId, this.token).catch(() => null),
    ]);
    const record = ticketRecord(booking, ticket, qr);
    byId("ticket-offline-note").hidden = true;
    this.fill(record);
    this.noteEmail(booking);
    byId("ticket-manage").href = `/my-booking?booking=${encodeURIComponent(this.bookingId)}`
      + `&reference=${encodeURIComponent(booking.reference)}`;
    this.setState("confirmed");
    if (firstTime) {
      this.announce(this.fmt.t("ticket.announce_confirmed", { reference: booking.reference }));
    }
    const saved = qr ? await saveTicket(record) : false;
    const kept = saved ? await keepPagesOffline(await this.worker, ["/tickets"]) : false;
    byId("ticket-offline-ready").hidden = !(saved && kept);
  }

  /** Say "e-mailed" only once the booking says the mail server took it; else where the ticket
   * is. With a mail server set, ask again a few times while the e-mail is on its way. */
  noteEmail(booking) {
    const node = byId("ticket-email-note");
    let state = "off";
    if (booking.ticketEmailed) {
      state = "sent";
    } else if (this.config.emailConfigured) {
      state = "pending";
    }
    node.dataset.emailState = state;
    node.textContent = this.fmt.t(`ticket.email_${state}`, { reference: booking.reference });
    clearTimeout(this.emailTimer);
    if (state !== "pending" || this.emailChecks >= (this.config.emailPollTimes || 8)) {
      return;
    }
    this.emailChecks += 1;
    this.emailTimer = setTimeout(async () => {
      try {
        this.noteEmail(await getBooking(this.bookingId, this.token));
      } catch {
        // Offline or refused: the note stays "on its way".
      }
    }, this.config.emailPollMs || 4000);
  }

  renderSaved(record, offline) {
    this.fill(record);
    const note = byId("ticket-offline-note");
    note.textContent = this.fmt.t(offline ? "ticket.offline_copy" : "ticket.saved_copy");
    note.hidden = false;
    byId("ticket-offline-ready").hidden = false;
    this.setState("confirmed");
    this.announce(this.fmt.t("ticket.announce_saved", { reference: record.reference }));
  }

  setupInstall() {
    const standalone = window.matchMedia && window.matchMedia("(display-mode: standalone)").matches;
    const section = byId("ticket-install");
    section.hidden = Boolean(standalone);
    const button = byId("ticket-install-button");
    button.hidden = !installPrompt;
    button.addEventListener("click", async () => {
      if (!installPrompt) {
        return;
      }
      installPrompt.prompt();
      try {
        await installPrompt.userChoice;
      } finally {
        installPrompt = null;
        button.hidden = true;
      }
    });
  }
}

class SavedTicketsPage {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.fmt = new Formatter(config);
  }

  async start() {
    const records = await listTickets();
    const list = byId("tickets-list");
    list.replaceChildren(...records.map((record) => this.item(record)));
    list.hidden = records.length === 0;
    byId("tickets-empty").hidden = records.length !== 0;
    this.root.dataset.state = records.length ? "list" : "empty";
    const worker = await registerWorker(this.config.serviceWorker || "/sw.js");
    if (worker && records.length) {
      keepPagesOffline(worker);
    }
  }

  item(record) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.className = "saved-ticket";
    link.href = `/bookings/${encodeURIComponent(record.bookingId)}`;
    const title = document.createElement("span");
    title.className = "saved-ticket__title";
    title.textContent = record.title;
    const when = document.createElement("span");
    when.className = "saved-ticket__meta";
    when.textContent = `${this.fmt.dateTime(record.showTime, record.timezone)} · ${record.theater}`;
    const seats = document.createElement("span");
    seats.className = "saved-ticket__meta";
    seats.textContent = this.fmt.t("ticket.list_item", { seats: this.fmt.list(record.seats), reference: record.reference });
    link.append(title, when, seats);
    li.append(link);
    return li;
  }
}

const config = readConfig();
const confirmation = byId("booking");
const saved = byId("tickets");
if (confirmation) {
  new ConfirmationPage(confirmation, config).start();
} else if (saved) {
  new SavedTicketsPage(saved, config).start();
}
