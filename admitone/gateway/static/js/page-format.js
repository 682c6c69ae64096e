// Strings, prices and show times for the booking pages' scripts, in the page's locale (the
// server hands over `locale`, e.g. "en-IN" or "hi-IN", and the strings the script needs).

import { fallbackDates, formatDateTime } from "./lib/dates.js";
import { translator } from "./lib/i18n.js";

export class Formatter {
  constructor(config) {
    this.locale = config.locale || "en-IN";
    /** The string `key` with its {placeholders} filled (lib/i18n.js). */
    this.t = translator(config);
    this.dates = config.dates || fallbackDates(this.locale); // formats.script_dates
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
   * "Sat 5 Dec, 19:30 IST": the one date format of the pages (lib/dates.js, the server's
   * gateway/formats.py), in the theater's time zone with the zone named.
   */
  dateTime(iso, timeZone) {
    return formatDateTime(iso, this.dates, timeZone);
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
