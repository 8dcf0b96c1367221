// Date functions: the twins of engine/expr/functions/dates.py. Date arguments take dates and
// date-times (a date-time counts as its day); ISO text and Excel serial numbers are read too.

import {
  addDays,
  DateTimeValue,
  DateValue,
  makeYmd,
  monthDays,
  monthStart,
  parseIsoDate,
  parseIsoDateTime,
} from "./dates.js";
import { register } from "./registry.js";
import { ERROR, flatten, pyStrip, toDate, toInteger } from "./values.js";

/** Read the first `count` arguments as dates: a blank or a non-date among them gives ERROR. */
function onDates(count, impl) {
  return (...values) => {
    const dates = values.slice(0, count).map((value) => (value === null ? null : toDate(value)));
    if (dates.some((date) => date === null)) return ERROR;
    return impl(...dates, ...values.slice(count));
  };
}

/** The context's today ("YYYY-MM-DD" or a DateValue) and now (ISO text or a DateTimeValue). */
export function contextToday(record) {
  const today = record.today;
  if (today instanceof DateValue) return today;
  const parsed = typeof today === "string" ? parseIsoDate(today.slice(0, 10)) : null;
  if (parsed === null) throw new TypeError(`context.today must be "YYYY-MM-DD", not ${today}`);
  return parsed;
}

export function contextNow(record) {
  const now = record.now;
  if (now instanceof DateTimeValue) return now;
  if (typeof now !== "string") throw new TypeError(`context.now must be ISO text, not ${now}`);
  return parseIsoDateTime(now);
}

register("TODAY", "", contextToday, "context");
register("NOW", "", contextNow, "context");

register("DATE", "year month day", (year, month, day) => {
  const parts = [year, month, day].map(toInteger);
  if (parts.some((part) => part === null)) return ERROR;
  let [y, m, d] = parts;
  if (y >= 0 && y < 1900) y += 1900;
  return addDays(monthStart(y, m), d - 1);
});

const part = (index) => onDates(1, (date) => date.parts[index]);
register("YEAR", "serial_number", part(0));
register("MONTH", "serial_number", part(1));
register("DAY", "serial_number", part(2));

register("WEEKDAY", "serial_number ?return_type", onDates(1, (date, returnType = 1) => {
  const kind = toInteger(returnType);
  const monday0 = date.weekday;
  if (kind === 1) return ((monday0 + 1) % 7) + 1;
  if (kind === 3) return monday0;
  if (kind === 2 || (kind !== null && kind >= 11 && kind <= 17)) {
    const first = kind === 2 ? 0 : kind - 11; // the weekday numbered 1, Monday = 0
    return ((((monday0 - first) % 7) + 7) % 7) + 1;
  }
  return ERROR;
}));

/** start moved by whole months, keeping the day unless the month is shorter. */
function addMonths(start, months) {
  const [year, month, day] = start.parts;
  const first = monthStart(year, month + months);
  const [y, m] = first.parts;
  return makeYmd(y, m, Math.min(day, monthDays(y, m)));
}

register("EDATE", "start_date months", onDates(1, (start, months) => {
  const count = toInteger(months);
  return count === null ? ERROR : addMonths(start, count);
}));

register("EOMONTH", "start_date months", onDates(1, (start, months) => {
  const count = toInteger(months);
  if (count === null) return ERROR;
  const [year, month] = start.parts;
  return addDays(monthStart(year, month + count + 1), -1);
}));

function monthsBetween(start, end) {
  const [y1, m1, d1] = start.parts;
  const [y2, m2, d2] = end.parts;
  return (y2 - y1) * 12 + m2 - m1 - (d2 < d1 ? 1 : 0);
}

/** DATEDIF's "MD", computed as Excel computes it (it can be negative). */
function daysIgnoringMonths(start, end) {
  const startDay = start.parts[2];
  const [y, m, d] = end.parts;
  if (d >= startDay) return d - startDay;
  const before = addDays(makeYmd(y, m, 1), -1).parts;
  return monthDays(before[0], before[1]) - startDay + d;
}

register("DATEDIF", "start_date end_date unit", onDates(2, (start, end, unit) => {
  if (start.ord > end.ord || typeof unit !== "string") return ERROR;
  const months = monthsBetween(start, end);
  const results = {
    Y: () => Math.floor(months / 12),
    M: () => months,
    D: () => end.ord - start.ord,
    YM: () => months % 12,
    MD: () => daysIgnoringMonths(start, end),
    YD: () => end.ord - addMonths(start, months - (months % 12)).ord,
  };
  const key = pyStrip(unit).toUpperCase();
  return Object.hasOwn(results, key) ? results[key]() : ERROR;
}));

register("DAYS", "end_date start_date", onDates(2, (end, start) => end.ord - start.ord));

/** The weekday dates among the holiday arguments (weekend holidays change nothing), as ordinals. */
function holidays(values) {
  const found = new Set();
  for (const value of flatten(values)) {
    const day = value === undefined ? null : toDate(value);
    if (day !== null && day.weekday < 5) found.add(day.ord);
  }
  return found;
}

/** Monday-to-Friday days from start to end, both included (start <= end). */
function weekdays(start, end) {
  const span = end.ord - start.ord + 1;
  const weeks = Math.floor(span / 7);
  let count = weeks * 5;
  for (let i = 0; i < span % 7; i++) if ((start.weekday + i) % 7 < 5) count += 1;
  return count;
}

function networkdays(start, end, days) {
  if (start.ord > end.ord) return -networkdays(end, start, days);
  let off = 0;
  for (const ordinal of holidays([days])) if (start.ord <= ordinal && ordinal <= end.ord) off += 1;
  return weekdays(start, end) - off;
}

register("NETWORKDAYS", "start_date end_date ?holidays", onDates(2, (start, end, days = null) =>
  networkdays(start, end, days),
));

/** Move `remaining` working days from `current` in direction `step` (+1 or -1). */
function stepWorkdays(current, remaining, step, off) {
  while (remaining > 5) {
    const weeks = Math.floor((remaining - 1) / 5);
    const target = addDays(current, 7 * weeks * step);
    const [low, high] = step > 0 ? [current.ord, target.ord] : [target.ord, current.ord];
    let skipped = 0;
    for (const day of off) if (step > 0 ? low < day && day <= high : low <= day && day < high) skipped += 1;
    current = target;
    remaining = remaining - 5 * weeks + skipped; // any 7 days hold 5 weekdays
  }
  while (remaining > 0) {
    current = addDays(current, step);
    if (current.weekday < 5 && !off.has(current.ord)) remaining -= 1;
  }
  return current;
}

register("WORKDAY", "start_date days ?holidays", onDates(1, (start, days, off = null) => {
  const count = toInteger(days);
  if (count === null) return ERROR;
  return stepWorkdays(start, Math.abs(count), count >= 0 ? 1 : -1, holidays([off]));
}));
