// What the fan sees and hears: page texts in the page's language, numbers in its locale,
// and a polite live region that announces meaningful changes only (not every second).

import { translator } from "./lib/i18n.js";

const NOTICE_KIND = {
  prequeue: "info",
  paused: "info",
  sold_out: "warning",
  unavailable: "warning",
  busy: "warning",
  not_open: "info",
  closed: "info",
  expired: "warning",
  left: "info",
  error: "error",
  admitted: "success",
};

// At least this long between two position announcements, and a change this large (relative)
// or this much quiet time before announcing a new position at all.
const MIN_GAP_MS = 5000;
const QUIET_MS = 30000;
const BIG_CHANGE = 0.2;

export class QueueView {
  constructor(root, config) {
    this.root = root;
    this.config = config;
    this.translate = translator(config);
    this.el = (id) => document.getElementById(id);
    this.announcer = this.el("queue-announcer");
    this.lastAnnouncedPosition = null;
    this.lastAnnouncedAt = 0;
    this.regionPosition = null; // the position the live region's text names, if any
    this.nearFrontAnnounced = false;
  }

  /** The string `key` with `{name}` placeholders filled from `params` (lib/i18n.js). */
  t(key, params = {}) {
    return this.translate(key, params);
  }

  plural(key, count, params = {}) {
    return this.translate.plural(key, count, params);
  }

  number(value) {
    return this.translate.number(value);
  }

  /** A wait in words, the same rules as the server's `Locale.duration`. */
  duration(seconds) {
    if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
      return this.t("eta.unknown");
    }
    if (seconds < 60) {
      return this.t("eta.under_minute");
    }
    const minutes = Math.round(seconds / 60);
    if (minutes < 60) {
      return this.plural("eta.minutes", minutes);
    }
    return this.t("eta.hours_minutes", {
      hours: this.number(Math.floor(minutes / 60)),
      minutes: this.number(minutes % 60),
    });
  }

  /**
   * Switch the page to `state`: visibility, heading, notice. `noticeText` overrides the notice;
   * `place` says whether the fan holds a place and knows its position (else their numbers hide).
   */
  setState(state, noticeText, place = { held: true, positioned: true }) {
    const changed = this.root.dataset.state !== state;
    this.root.dataset.state = state;
    this.applyVisibility(state, place);
    this.el("queue-heading").textContent = this.t(`queue.heading.${state}`);
    const notice = this.el("queue-notice");
    notice.hidden = !notice.dataset.showIn.split(" ").includes(state);
    const kind = NOTICE_KIND[state] || "info";
    notice.className = `notice notice--${kind}`;
    const text = noticeText ?? this.noticeFor(state, place.held);
    this.el("queue-notice-text").textContent = text;
    if (!text) {
      notice.hidden = true;
    }
    if (state !== "unavailable" && state !== "busy" && state !== "not_open" && state !== "error") {
      this.setRetry(null);
    }
    return changed;
  }

  /** Show what `state` shows, less the numbers of a place the fan does not (yet) hold. */
  applyVisibility(state, place) {
    for (const node of this.root.querySelectorAll("[data-show-in]")) {
      if (node.id === "queue-notice") {
        continue; // setState decides: hidden when there is nothing to say
      }
      const needs = node.dataset.needs;
      node.hidden = !node.dataset.showIn.split(" ").includes(state)
        || (needs === "place" && !place.held)
        || (needs === "position" && !place.positioned);
    }
  }

  noticeFor(state, held) {
    switch (state) {
      case "prequeue":
        return this.config.startsAtText
          ? this.t("queue.prequeue_text", { time: this.config.startsAtText })
          : this.t("queue.prequeue_text_soon");
      case "not_open":
        return this.config.opensAtText
          ? this.t("queue.not_open_text", { time: this.config.opensAtText })
          : this.t("queue.not_open_text_soon");
      case "admitted":
        return this.t("queue.admitted_text");
      case "unavailable":
        return held ? this.t("queue.unavailable_text") : this.t("queue.unavailable_text_joining");
      case "paused":
      case "sold_out":
      case "busy":
      case "closed":
      case "expired":
      case "left":
      case "error":
        return this.t(`queue.${state}_text`);
      default:
        return "";
    }
  }

  /** Show "Trying again in N seconds…" (null hides it). */
  setRetry(seconds) {
    const node = this.el("queue-retry");
    if (seconds === null || seconds === undefined) {
      node.hidden = true;
      node.textContent = "";
      return;
    }
    node.hidden = false;
    node.textContent = this.plural("queue.retrying", Math.max(0, Math.ceil(seconds)));
  }

  /**
   * Fill in the numbers of a waiting fan. The number goes on screen first; a live region that
   * still names an older number is emptied then (never read out behind the screen), and
   * `announcePosition` may speak the new one after this.
   */
  renderPlace({ position, percent, etaSeconds, etaReason, total, rate, ticket }) {
    if (position !== null && position !== undefined) {
      const ahead = Math.max(0, position - 1);
      this.el("queue-position").textContent = this.number(position);
      if (this.regionPosition !== null && this.regionPosition !== position) {
        this.announcer.textContent = "";
        this.regionPosition = null;
      }
      this.el("queue-ahead").textContent =
        ahead === 0 ? this.t("queue.nobody_ahead") : this.plural("queue.people_ahead", ahead);
      const bar = this.el("queue-progress");
      bar.value = percent;
      bar.textContent = `${percent}%`;
      this.el("queue-progress-text").textContent = this.t("queue.progress_text", {
        percent: this.number(percent),
      });
      this.el("queue-eta").textContent = etaReason
        ? this.t(`eta.reason.${etaReason}`)
        : this.duration(etaSeconds);
    }
    if (total !== null && total !== undefined) {
      this.el("queue-total").textContent = this.number(total);
    }
    if (rate !== null && rate !== undefined) {
      this.el("queue-rate").textContent = this.number(Math.round(rate));
    }
    if (ticket !== null && ticket !== undefined) {
      this.el("queue-ticket").textContent = `#${this.number(ticket)}`;
    }
  }

  /** How likely tickets are at the fan's place, in plain words (null: not known yet). */
  renderChance(chance) {
    const node = this.el("queue-chance");
    if (!chance) {
      node.dataset.empty = "";
      return;
    }
    const text = this.t(`queue.chance.${chance.level}`, {
      seats: this.number(chance.seatsLeft),
      people: this.number(chance.peopleAhead),
    });
    node.className = `chance chance--${chance.level.toLowerCase()}`;
    node.dataset.chance = chance.level;
    if (node.textContent !== text) {
      node.textContent = text;
    }
    delete node.dataset.empty;
  }

  /** The fan's entry id in the pre-queue draw, with the link that checks the draw. */
  renderEntry(entryId) {
    const node = this.el("queue-entry");
    if (!entryId) {
      node.dataset.empty = "";
      return;
    }
    this.el("queue-entry-id").textContent = entryId;
    delete node.dataset.empty;
  }

  /** Say `text` in the live region now (`position`: the number it names, if any). */
  announce(text, position = null) {
    // The same words again would not be announced; a trailing no-break space makes them new.
    this.announcer.textContent = this.announcer.textContent === text ? `${text}\u00a0` : text;
    this.regionPosition = position;
    this.lastAnnouncedAt = Date.now();
  }

  /** "2 days 03:14:05" or "03:14:05" (the server's queue/view.py countdown_text). */
  countdownText(seconds) {
    const left = Math.max(0, Math.floor(seconds));
    const days = Math.floor(left / 86400);
    const rest = left % 86400;
    const pad = (value) => String(value).padStart(2, "0");
    const clock = `${pad(Math.floor(rest / 3600))}:${pad(Math.floor((rest % 3600) / 60))}:${pad(rest % 60)}`;
    return days ? `${this.plural("queue.countdown.days", days)} ${clock}` : clock;
  }

  /** Show the time left before `labelKey`'s moment (null hides the countdown). */
  renderCountdown(labelKey, seconds) {
    const node = this.el("queue-countdown");
    if (!labelKey || seconds === null || seconds <= 0) {
      node.hidden = true;
      return;
    }
    this.el("queue-countdown-label").textContent = this.t(labelKey);
    const text = this.countdownText(seconds);
    const time = this.el("queue-countdown-time");
    if (time.textContent !== text) {
      time.textContent = text;
    }
    node.hidden = false;
  }

  /** Announce a position only when it changed meaningfully, and never more than every 5 s. */
  announcePosition(position, etaSeconds) {
    const now = Date.now();
    const last = this.lastAnnouncedPosition;
    if (last !== null) {
      if (position === last) {
        return;
      }
      const since = now - this.lastAnnouncedAt;
      const big = Math.abs(last - position) / Math.max(last, 1) >= BIG_CHANGE;
      if (since < MIN_GAP_MS || (!big && since < QUIET_MS)) {
        return;
      }
    }
    this.lastAnnouncedPosition = position;
    this.announce(
      this.t("queue.announce.position", {
        position: this.number(position),
        eta: this.duration(etaSeconds),
      }),
      position,
    );
  }

  announceNearFront() {
    if (!this.nearFrontAnnounced) {
      this.nearFrontAnnounced = true;
      this.announce(this.t("queue.announce.near_front"));
    }
  }
}
