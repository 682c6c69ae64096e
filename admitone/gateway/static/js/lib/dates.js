// Times as the server prints them (gateway/formats.py): always in the theater's time zone,
// zone named, on a 24-hour clock: "Sat 5 Dec, 19:30 IST" (the year only when it is not this
// year's). `dates` is the server's `formats.script_dates(...)`: the page language's day and
// month names and patterns, the zone and the server's name for each of its offsets.

const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]; // en-US parts, Monday first
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
// Without the server's names (a page that did not pass them): English, and India's zone.
const FALLBACK = {
  timeZone: "Asia/Kolkata",
  zoneNames: { 330: "IST" },
  weekdays: WEEKDAYS,
  months: MONTHS,
  patterns: {
    format: "{date}, {time}",
    time: "{time} {zone}",
    day: "{weekday} {day} {month}",
    day_year: "{weekday} {day} {month} {year}",
  },
};

function fill(template, params) {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** The wall-clock fields of `moment` in `timeZone`, and the zone's offset then in minutes. */
function fieldsIn(moment, timeZone) {
  let parts;
  try {
    parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(moment);
  } catch {
    return fieldsIn(moment, "UTC");
  }
  const get = (type) => (parts.find((part) => part.type === type) || {}).value;
  const year = Number(get("year"));
  const month = Number(get("month"));
  const day = Number(get("day"));
  const hour = Number(get("hour")) % 24;
  const minute = Number(get("minute"));
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const offset = Math.round((wall - Math.floor(moment.getTime() / 60000) * 60000) / 60000);
  return { year, month, day, hour, minute, weekday: WEEKDAYS.indexOf(get("weekday")), offset };
}

/** "UTC+5:30" for an offset in minutes (the server's `formats.offset_name`). */
export function offsetName(minutes) {
  if (minutes === 0) {
    return "UTC";
  }
  const sign = minutes > 0 ? "+" : "-";
  const hours = Math.floor(Math.abs(minutes) / 60);
  const rest = Math.abs(minutes) % 60;
  return `UTC${sign}${hours}${rest ? `:${String(rest).padStart(2, "0")}` : ""}`;
}

/** The server's names for a page that did not pass them: the browser's, in `locale`. */
export function fallbackDates(locale) {
  try {
    const day = new Intl.DateTimeFormat(locale, { weekday: "short", timeZone: "UTC" });
    const month = new Intl.DateTimeFormat(locale, { month: "short", timeZone: "UTC" });
    return {
      ...FALLBACK,
      weekdays: WEEKDAYS.map((_, n) => day.format(Date.UTC(2024, 0, 1 + n))), // 1 Jan 2024: Mon
      months: MONTHS.map((_, n) => month.format(Date.UTC(2024, n, 15))),
    };
  } catch {
    return FALLBACK;
  }
}

function pick(dates) {
  return dates && dates.patterns ? dates : FALLBACK;
}

/** "19:30 IST": the time of day of an ISO moment in the theater's zone. */
export function formatClock(iso, dates, timeZone) {
  const chosen = pick(dates);
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) {
    return "";
  }
  const zone = timeZone || chosen.timeZone || "UTC";
  const f = fieldsIn(moment, zone);
  const names = zone === chosen.timeZone ? chosen.zoneNames || {} : {};
  const time = `${String(f.hour).padStart(2, "0")}:${String(f.minute).padStart(2, "0")}`;
  return fill(chosen.patterns.time, { time, zone: names[String(f.offset)] || offsetName(f.offset) });
}

/** "Sat 5 Dec, 19:30 IST": an ISO moment in the theater's zone (`timeZone` overrides it). */
export function formatDateTime(iso, dates, timeZone, now = new Date()) {
  const chosen = pick(dates);
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) {
    return "";
  }
  const zone = timeZone || chosen.timeZone || "UTC";
  const f = fieldsIn(moment, zone);
  const thisYear = fieldsIn(now, zone).year;
  const day = fill(chosen.patterns[f.year === thisYear ? "day" : "day_year"], {
    weekday: chosen.weekdays[f.weekday] ?? "",
    day: f.day,
    month: chosen.months[f.month - 1] ?? "",
    year: f.year,
  });
  return fill(chosen.patterns.format, { date: day, time: formatClock(iso, chosen, zone) });
}
