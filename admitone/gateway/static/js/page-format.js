// Strings, prices and show times for the booking pages' scripts, in the page's locale (the
// server hands over `locale`, e.g. "en-IN" or "hi-IN", and the strings the script needs).

import { translator } from "./lib/i18n.js";

export class Formatter {
  constructor(config) {
    this.locale = config.locale || "en-IN";
    /** The string `key` with its {placeholders} filled (lib/i18n.js). */
    this.t = translator(config);
  }

  /** "₹1,200" (no paise when the sum is whole) from a decimal string and a currency code. */
  money(amount, currency) {
    const value = Number(amount);
    if (!Number.isFinite(value)) {
      return `${amount} ${currency}`;
    }
    const whole = Number.isInteger(value);
    try {
      return new Intl.NumberFormat(this.locale, {
        style: "currency",
        currency,
        minimumFractionDigits: whole ? 0 : 2,
        maximumFractionDigits: whole ? 0 : 2,
      }).format(value);
    } catch {
      return `${value.toFixed(whole ? 0 : 2)} ${currency}`;
    }
  }

  /**
   * "Sat, 14 Mar 2026, 7:30 pm": a 12-hour clock, in the theater's time zone when it is known
   * (else the device's, with the zone named so that it is never ambiguous).
   */
  dateTime(iso, timeZone) {
    const moment = new Date(iso);
    if (Number.isNaN(moment.getTime())) {
      return "";
    }
    const options = {
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "numeric",
      minute: "2-digit",
      hour12: true,
    };
    try {
      return new Intl.DateTimeFormat(this.locale, timeZone ? { ...options, timeZone } : { ...options, timeZoneName: "short" }).format(moment);
    } catch {
      return new Intl.DateTimeFormat(this.locale, { ...options, timeZoneName: "short" }).format(moment);
    }
  }

  /** A list in the locale's words: "A1, A2 and A3". */
  list(items) {
    try {
      return new Intl.ListFormat(this.locale, { style: "long", type: "conjunction" }).format(items);
    } catch {
      return items.join(", ");
    }
  }
}
