// Dates and date-times as Python's datetime module computes them (proleptic Gregorian, years 1..9999).
//
// A date is a DateValue: `ord` is Python's date.toordinal() (0001-01-01 is 1).
// A date-time is a DateTimeValue: `ord` plus `us`, the microseconds since midnight (naive local time).
// Both are frozen; JSON.stringify writes {"date": "2024-01-31"} / {"datetime": "2024-01-31T14:05:09"}.

import { ValueFault } from "./decimal.js";

export const MAX_ORD = 3652059; // 9999-12-31
const US_PER_DAY = 86_400_000_000;
const US_PER_DAY_BIG = 86_400_000_000n;
const EPOCH_ORD = 693594; // 1899-12-30: Excel's day 0 (serials from 61 on)
const LAST_SERIAL = 2_958_465;
const MAX_DELTA_DAYS = 999_999_999; // timedelta's limit

const BEFORE_MONTH = [0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

export function isLeap(year) {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

export function monthDays(year, month) {
  return month === 2 && isLeap(year) ? 29 : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** The ordinal of a valid year, month, day. */
export function ymdToOrd(year, month, day) {
  const y = year - 1;
  const leap = month > 2 && isLeap(year) ? 1 : 0;
  return y * 365 + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + BEFORE_MONTH[month] + leap + day;
}

/** [year, month, day] of an ordinal (Python's _ord2ymd). */
export function ordToYmd(ordinal) {
  let n = ordinal - 1;
  const n400 = Math.floor(n / 146097);
  n -= n400 * 146097;
  const n100 = Math.floor(n / 36524);
  n -= n100 * 36524;
  const n4 = Math.floor(n / 1461);
  n -= n4 * 1461;
  const n1 = Math.floor(n / 365);
  n -= n1 * 365;
  let year = n400 * 400 + n100 * 100 + n4 * 4 + n1 + 1;
  if (n1 === 4 || n100 === 4) return [year - 1, 12, 31];
  let month = 1;
  while (month < 12 && BEFORE_MONTH[month + 1] + (month + 1 > 2 && isLeap(year) ? 1 : 0) <= n) month += 1;
  const day = n - BEFORE_MONTH[month] - (month > 2 && isLeap(year) ? 1 : 0) + 1;
  return [year, month, day];
}

function pad(number, width) {
  return String(number).padStart(width, "0");
}

export class DateValue {
  constructor(ordinal) {
    if (!(ordinal >= 1 && ordinal <= MAX_ORD)) throw new ValueFault("date value out of range");
    this.ord = ordinal;
    Object.freeze(this);
  }
  get parts() {
    return ordToYmd(this.ord);
  }
  get iso() {
    const [y, m, d] = this.parts;
    return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
  }
  /** Monday is 0, as Python's date.weekday(). */
  get weekday() {
    return (this.ord + 6) % 7;
  }
  toString() {
    return this.iso;
  }
  toJSON() {
    return { date: this.iso };
  }
}

export class DateTimeValue {
  constructor(ordinal, us) {
    if (!(ordinal >= 1 && ordinal <= MAX_ORD)) throw new ValueFault("date value out of range");
    this.ord = ordinal;
    this.us = us;
    Object.freeze(this);
  }
  get parts() {
    return ordToYmd(this.ord);
  }
  get weekday() {
    return (this.ord + 6) % 7;
  }
  /** [hour, minute, second, microsecond]. */
  get clock() {
    const seconds = Math.floor(this.us / 1e6);
    return [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60, this.us % 1e6];
  }
  /** isoformat(sep, "seconds") or, with micro, Python's default isoformat(). */
  isoWith(sep, micro) {
    const [h, mi, s, us] = this.clock;
    const day = new DateValue(this.ord).iso;
    const fraction = micro && us ? `.${pad(us, 6)}` : "";
    return `${day}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction}`;
  }
  get iso() {
    return this.isoWith("T", true);
  }
  toString() {
    return this.iso;
  }
  toJSON() {
    return { datetime: this.iso };
  }
}

export function isDate(value) {
  return value instanceof DateValue || value instanceof DateTimeValue;
}

/** The date of y, m, d; ValueFault when it does not exist. */
export function makeYmd(year, month, day) {
  if (!(year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= monthDays(year, month))) {
    throw new ValueFault("day is out of range");
  }
  return new DateValue(ymdToOrd(year, month, day));
}

/** date + whole days (Python: date + timedelta(days=n)). */
export function addDays(date, days) {
  if (Math.abs(days) > MAX_DELTA_DAYS) throw new ValueFault("timedelta too large");
  return new DateValue(date.ord + days);
}

export function asDateTime(value) {
  return value instanceof DateTimeValue ? value : new DateTimeValue(value.ord, 0);
}

export function dayOf(value) {
  return value instanceof DateValue ? value : new DateValue(value.ord);
}

function floorDiv(a, b) {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

function fromMicros(total) {
  const days = floorDiv(total, US_PER_DAY_BIG);
  return new DateTimeValue(Number(days), Number(total - days * US_PER_DAY_BIG));
}

/** timedelta(days=x) for a float x, in microseconds (CPython's C algorithm, round half to even). */
export function deltaMicros(x) {
  if (!Number.isFinite(x) || Math.abs(x) > 2 * MAX_DELTA_DAYS) throw new ValueFault("timedelta too large");
  const whole = Math.trunc(x);
  let total = BigInt(whole) * US_PER_DAY_BIG;
  const fraction = x - whole;
  if (fraction !== 0) {
    const scaled = US_PER_DAY * fraction;
    const part = Math.trunc(scaled);
    total += BigInt(part);
    const leftover = scaled - part;
    if (leftover !== 0) {
      let rounded = Math.sign(leftover) * Math.round(Math.abs(leftover));
      if (Math.abs(rounded - leftover) === 0.5) {
        const odd = Number(total & 1n);
        rounded = 2 * Math.sign(leftover + odd) * Math.round(Math.abs((leftover + odd) * 0.5)) - odd;
      }
      total += BigInt(rounded);
    }
  }
  const days = floorDiv(total, US_PER_DAY_BIG);
  if (days > BigInt(MAX_DELTA_DAYS) || days < -BigInt(MAX_DELTA_DAYS)) throw new ValueFault("timedelta too large");
  return total;
}

/** datetime + timedelta(days=x). */
export function addToDateTime(moment, x) {
  return fromMicros(BigInt(moment.ord) * US_PER_DAY_BIG + BigInt(moment.us) + deltaMicros(x));
}

/** datetime + timedelta(seconds=n) for a whole number of seconds. */
export function addSeconds(moment, seconds) {
  return fromMicros(BigInt(moment.ord) * US_PER_DAY_BIG + BigInt(moment.us) + BigInt(seconds) * 1_000_000n);
}

function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

/** n / d correctly rounded to a double (Python's int / int), d > 0. */
export function bigRatio(n, d) {
  const neg = n < 0n;
  if (neg) n = -n;
  if (n <= 2n ** 53n && d <= 2n ** 53n) return (neg ? -1 : 1) * (Number(n) / Number(d));
  const shift = Math.max(0, 55 + bitLength(d) - bitLength(n));
  const scaled = n << BigInt(shift);
  const q = scaled / d;
  const sticky = scaled % d !== 0n;
  const extra = bitLength(q) - 53;
  let mantissa = q >> BigInt(extra);
  const rest = q - (mantissa << BigInt(extra));
  const half = 1n << BigInt(extra - 1);
  if (rest > half || (rest === half && (sticky || (mantissa & 1n) === 1n))) mantissa += 1n;
  return (neg ? -1 : 1) * Number(mantissa) * 2 ** (extra - shift);
}

/** (a - b).total_seconds() / 86400 for two date-times. */
export function dayDifference(a, b) {
  const micros = (BigInt(a.ord) - BigInt(b.ord)) * US_PER_DAY_BIG + BigInt(a.us - b.us);
  return bigRatio(micros, 1_000_000n) / 86400;
}

/** The Excel serial number of a date or date-time (days since 1899-12-30, time as a fraction). */
export function serial(value) {
  if (value instanceof DateValue) return value.ord - EPOCH_ORD;
  return dayDifference(value, new DateTimeValue(EPOCH_ORD, 0));
}

/** The date of an Excel serial number; null outside 1..9999-12-31. */
export function fromSerial(number) {
  const whole = Math.floor(number);
  if (!(whole >= 1 && whole <= LAST_SERIAL)) return null;
  if (whole <= 60) return new DateValue(EPOCH_ORD + 1 + Math.min(whole, 59));
  return new DateValue(EPOCH_ORD + whole);
}

function utf8Length(text) {
  let length = 0;
  for (const char of text) {
    const cp = char.codePointAt(0);
    length += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return length;
}

function digitsAt(text, position, count) {
  const chunk = text.slice(position, position + count);
  return chunk.length === count && /^[0-9]+$/.test(chunk) ? Number(chunk) : null;
}

function isoWeekDate(year, week, day) {
  const firstWeekday = (ymdToOrd(year, 1, 1) + 6) % 7;
  if (week <= 0 || week >= 53) {
    if (!(week === 53 && (firstWeekday === 3 || (firstWeekday === 2 && isLeap(year))))) return null;
  }
  if (day <= 0 || day >= 8) return null;
  const jan4 = ymdToOrd(year, 1, 4);
  const week1Monday = jan4 - ((jan4 + 6) % 7);
  const ordinal = week1Monday + (week - 1) * 7 + day - 1;
  return ordinal >= 1 && ordinal <= MAX_ORD ? new DateValue(ordinal) : null;
}

/** Python 3.11's date.fromisoformat (the C version): YYYY-MM-DD, YYYYMMDD, YYYY-Www[-D]; null when invalid. */
export function parseIsoDate(text) {
  const length = utf8Length(text);
  if (length !== 7 && length !== 8 && length !== 10) return null;
  const year = digitsAt(text, 0, 4);
  if (year === null) return null;
  const dashed = text[4] === "-";
  let position = dashed ? 5 : 4;
  if (text[position] === "W") {
    const week = digitsAt(text, position + 1, 2);
    if (week === null) return null;
    position += 3;
    let day = 1;
    if (position < length) {
      if (dashed && text[position++] !== "-") return null;
      day = digitsAt(text, position, 1);
      if (day === null) return null;
    }
    return year >= 1 ? isoWeekDate(year, week, day) : null;
  }
  const month = digitsAt(text, position, 2);
  if (month === null) return null;
  position += 2;
  if (dashed && text[position++] !== "-") return null;
  const day = digitsAt(text, position, 2);
  if (day === null) return null;
  try {
    return makeYmd(year, month, day);
  } catch {
    return null;
  }
}

/** Read "2026-01-15T09:30:00[.ffffff]" (a trailing zone is ignored: the value is naive local time). */
export function parseIsoDateTime(text) {
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?)?/.exec(text);
  const day = match && parseIsoDate(match[1]);
  if (!day) throw new ValueFault(`not an ISO date-time: ${text}`);
  const [h, mi, s] = [match[2], match[3], match[4]].map((part) => Number(part ?? 0));
  const us = Number((match[5] ?? "").padEnd(6, "0"));
  return new DateTimeValue(day.ord, ((h * 60 + mi) * 60 + s) * 1e6 + us);
}

/** The first day of `month` months after January of `year` (month 13 is next January). */
export function monthStart(year, month) {
  if (!Number.isSafeInteger(year) || !Number.isSafeInteger(month) || Math.abs(month) > 2 ** 40) {
    throw new ValueFault("year is out of range");
  }
  const carry = Math.floor((month - 1) / 12);
  return makeYmd(year + carry, month - 1 - carry * 12 + 1, 1);
}
