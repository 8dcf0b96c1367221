// Run-time value rules shared by the interpreter and the functions: the JavaScript twin of
// engine/expr/values.py (see engine/expr/types.py for the contract every backend follows).
//
// Values: null is blank; numbers; strings; booleans; DateValue / DateTimeValue (dates.js);
// arrays (a path through a one-to-many link); other objects are rows or records, passed through.
// ERROR is the failed-operation value: it spreads like Excel's #DIV/0! and ends as null.

import { exact, parseDecimal, shiftRound, ValueFault } from "./decimal.js";
import { DateTimeValue, DateValue, fromSerial, isDate, parseIsoDate, serial } from "./dates.js";

export const ERROR = Object.freeze({ toString: () => "#ERROR" });
export const MAX_TEXT_LENGTH = 1_000_000;

/** A problem the caller must see (a breached limit, an unknown function), as Python's ExprError. */
export class ExprError extends Error {
  constructor(code, message, start = 0, end = null, hint = null) {
    super(message);
    this.name = "ExprError";
    this.code = code;
    this.start = start;
    this.end = end ?? start + 1;
    this.hint = hint;
  }
}

export function isNumber(value) {
  return typeof value === "number";
}

/** A context value in the interpreter's shapes: non-finite numbers are blank, lists are normalized. */
export function normalize(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "bigint") return normalize(Number(value));
  if (Array.isArray(value)) return value.map(normalize);
  return value;
}

export function finite(number) {
  return Number.isFinite(number) ? number : ERROR;
}

// Python's str.isspace() characters (str.strip() strips these).
const SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const LEADING = new RegExp(`^[${SPACE}]+`);
const TRAILING = new RegExp(`[${SPACE}]+$`);

export function pyStrip(text) {
  return text.replace(LEADING, "").replace(TRAILING, "");
}

/** The value of a Unicode decimal digit (Python's float() reads every Nd digit). */
function asciiDigits(text) {
  return text.replace(/\p{Nd}/gu, (digit) => {
    const cp = digit.codePointAt(0);
    let start = cp;
    while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start -= 1;
    return String((cp - start) % 10);
  });
}

/** Read "1,234.5", " 12 ", "50%" or "1e3" as Python's parse_number does; null when not a number. */
export function parseNumber(text) {
  let cleaned = pyStrip(text).replaceAll(",", "");
  let scale = 1;
  if (cleaned.endsWith("%")) {
    cleaned = cleaned.slice(0, -1).replace(TRAILING, "");
    scale = 0.01;
  }
  if (!cleaned || cleaned.includes("_") || /[^eE\P{L}]/u.test(cleaned)) return null;
  const ascii = pyStrip(asciiDigits(cleaned));
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(ascii)) return null;
  const number = Number(ascii) * scale;
  return Number.isFinite(number) ? number : null;
}

/** value as a number for arithmetic: blank 0, TRUE 1, numeric text read; null when it is not one. */
export function toNumber(value) {
  if (value === null) return 0;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string") return parseNumber(value);
  return null;
}

/** value as a whole number, truncated toward zero. */
export function toInteger(value) {
  const number = toNumber(value);
  return number === null ? null : Math.trunc(number) + 0;
}

export function toLogical(value) {
  if (typeof value === "boolean") return value;
  if (value === null) return false;
  if (typeof value === "number") return value !== 0;
  if (typeof value === "string") {
    const word = pyStrip(value).toUpperCase();
    if (word === "TRUE" || word === "FALSE") return word === "TRUE";
  }
  return ERROR;
}

export function truthy(value) {
  return toLogical(value) === true;
}

/** x rounded to 15 significant digits, as text Number() and parseDecimal() read (f"{x:.15g}"'s value). */
export function sig15Text(x) {
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const longer = x.toPrecision(16);
  if (!/5(?:e|$)/.test(longer)) return x.toPrecision(15);
  const d = exact(x); // a possible tie: round the exact value half to even, as Python does
  const drop = d.c.toString().length - 15;
  if (drop <= 0) return x.toPrecision(15);
  return `${d.neg ? "-" : ""}${shiftRound(d.c, drop, "half_even", d.neg)}e${d.e + drop}`;
}

/** Python's significant(): the Decimal of x's 15 significant digits. */
export function significant(x) {
  return parseDecimal(sig15Text(x));
}

/** f"{x:.15g}". */
export function g15(x) {
  const d = significant(x);
  if (d.c === 0n) return d.neg ? "-0" : "0";
  const raw = d.c.toString();
  const digits = raw.replace(/0+$/, "");
  const e = d.e + raw.length - digits.length;
  const point = e + digits.length - 1; // the exponent of the first digit
  const sign = d.neg ? "-" : "";
  if (point < -4 || point >= 15) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}e${point < 0 ? "-" : "+"}${String(Math.abs(point)).padStart(2, "0")}`;
  }
  if (e >= 0) return sign + digits + "0".repeat(e);
  const whole = digits.length + e;
  if (whole > 0) return `${sign}${digits.slice(0, whole)}.${digits.slice(whole)}`;
  return `${sign}0.${"0".repeat(-whole)}${digits}`;
}

/** A number as Excel's General format writes it (Python's general()); an infinity or NaN is "#NUM!". */
export function general(number) {
  if (!Number.isFinite(number)) return "#NUM!";
  if (Number.isInteger(number) && Math.abs(number) < 1e15) return String(number);
  const text = g15(number);
  const at = text.indexOf("e");
  if (at < 0) return text;
  const exponent = text.slice(at + 1);
  return `${text.slice(0, at)}E${exponent[0]}${exponent.slice(1).replace(/^0+/, "").padStart(2, "0")}`;
}

/** Python's repr() of a float. */
export function floatRepr(x) {
  if (Object.is(x, -0)) return "-0.0";
  const parts = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!parts) return String(x);
  const all = parts[2] + (parts[3] ?? "");
  const leading = all.length - all.replace(/^0+/, "").length;
  const digits = all.replace(/^0+/, "").replace(/0+$/, "") || "0";
  const point = Number(parts[4] ?? 0) + parts[2].length - 1 - leading; // the exponent of the first digit
  if (point < -4 || point >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${parts[1]}${mantissa}e${point < 0 ? "-" : "+"}${String(Math.abs(point)).padStart(2, "0")}`;
  }
  if (point < 0) return `${parts[1]}0.${"0".repeat(-point - 1)}${digits}`;
  return `${parts[1]}${digits.slice(0, point + 1).padEnd(point + 1, "0")}.${digits.slice(point + 1) || "0"}`;
}

function stringRepr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(/[\\\n\r\t]/g, (c) => ({ "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" })[c]);
  return quote + (quote === "'" ? escaped.replaceAll("'", "\\'") : escaped) + quote;
}

/** Python's str() of a list or row, best effort (only ill-typed formulas write lists as text). */
export function pyRepr(value) {
  if (value === null) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") return floatRepr(value);
  if (typeof value === "string") return stringRepr(value);
  if (value instanceof DateValue) return `datetime.date(${value.parts.join(", ")})`;
  if (value instanceof DateTimeValue) {
    const [h, m, s, us] = value.clock;
    const time = us ? [h, m, s, us] : s ? [h, m, s] : [h, m];
    return `datetime.datetime(${[...value.parts, ...time].join(", ")})`;
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    return `{${Object.entries(value).map(([k, v]) => `${stringRepr(k)}: ${pyRepr(v)}`).join(", ")}}`;
  }
  return String(value);
}

/** value as text for & and the text functions: blank "", dates ISO, numbers in General format. */
export function toText(value) {
  if (value === null) return "";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (typeof value === "number") return general(value);
  if (typeof value === "string") return value;
  if (value instanceof DateTimeValue) return value.isoWith(" ", false);
  if (value instanceof DateValue) return value.iso;
  return pyRepr(value);
}

/** The number of code points (Python's len()). */
export function codeLength(text) {
  let surrogates = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc00 && unit <= 0xdfff && i > 0) {
      const before = text.charCodeAt(i - 1);
      if (before >= 0xd800 && before <= 0xdbff) surrogates += 1;
    }
  }
  return text.length - surrogates;
}

export function checkLength(length) {
  if (length > MAX_TEXT_LENGTH) {
    throw new ExprError("too_long", `a text result would be longer than ${MAX_TEXT_LENGTH} characters`, 0);
  }
}

export function checkedText(text) {
  if (text.length > MAX_TEXT_LENGTH) checkLength(codeLength(text));
  return text;
}

/** value as a date: a date-time keeps its day, ISO text and Excel serial numbers are read; else null. */
export function toDate(value) {
  if (value instanceof DateTimeValue) return new DateValue(value.ord);
  if (value instanceof DateValue) return value;
  if (typeof value === "string") return parseIsoDate(Array.from(pyStrip(value)).slice(0, 10).join(""));
  return typeof value === "number" && Number.isFinite(value) ? fromSerial(value) : null;
}

/** The arguments with every list spread out. */
export function flatten(values) {
  return values.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

/** The numbers among values (list items only when numbers; single arguments read); ERROR when one is not. */
export function numbersOf(values) {
  const found = [];
  for (const value of values) {
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === "number") found.push(item);
    } else if (value !== null) {
      const number = toNumber(value);
      if (number === null) return ERROR;
      found.push(number);
    }
  }
  return found;
}

const ASCII = /^[\x00-\x7f]*$/;
const FOLD_SPECIAL = { "\u0131": "\u0131", "\u1e9e": "ss" };

/** Python's str.casefold() (full case folding), for comparisons. */
export function casefold(text) {
  if (ASCII.test(text)) return text.toLowerCase();
  let out = "";
  for (const char of text) {
    let folded = FOLD_SPECIAL[char] ?? char.toUpperCase().toLowerCase();
    folded = folded.replace(/[\uab70-\uabbf\u13f8-\u13fd]/g, (c) =>
      String.fromCharCode(c.charCodeAt(0) >= 0xab70 ? c.charCodeAt(0) - 0xab70 + 0x13a0 : c.charCodeAt(0) - 8),
    );
    out += folded;
  }
  return out;
}

/** Order of two strings by code points (Python's str comparison). */
export function compareCodePoints(a, b) {
  if (a === b) return 0;
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

function sortKey(value) {
  if (typeof value === "boolean") return [2, value ? 1 : 0];
  if (typeof value === "number") return Number.isFinite(value) ? [0, value] : null; // NaN has no order
  if (isDate(value)) return [0, serial(value)];
  if (typeof value === "string") return [1, casefold(value)];
  return null;
}

function blankLike(other) {
  if (typeof other === "boolean") return false;
  return typeof other === "string" ? "" : 0;
}

/** -1, 0 or 1 as left sorts before, with or after right (Excel's rules); null when it cannot. */
export function compare(left, right) {
  if (left === null && right === null) return 0;
  if (left === null) left = blankLike(right);
  if (right === null) right = blankLike(left);
  const a = sortKey(left);
  const b = sortKey(right);
  if (a === null || b === null) return null;
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[0] === 1) return compareCodePoints(a[1], b[1]);
  return a[0] === 0 ? compareNumbers(a[1], b[1]) : Math.sign(a[1] - b[1]);
}

/** Order of two numbers on 15 significant digits (0.1 + 0.2 = 0.3), as Excel compares. */
export function compareNumbers(a, b) {
  if (a === b) return 0;
  // Numbers further apart than two units of the 15th digit cannot round to the same value.
  if (Math.abs(a - b) > 2e-14 * Math.max(Math.abs(a), Math.abs(b))) return a < b ? -1 : 1;
  const x = Number(sig15Text(a));
  const y = Number(sig15Text(b));
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Python's == for the values compare() cannot order (lists, rows, records). */
export function pyEquals(a, b) {
  if (a === null || b === null) return a === b;
  const scalar = (v) => typeof v === "number" || typeof v === "boolean";
  if (scalar(a) && scalar(b)) return Number(a) === Number(b);
  if (a instanceof DateValue || b instanceof DateValue) {
    return a instanceof DateValue && b instanceof DateValue && a.ord === b.ord;
  }
  if (a instanceof DateTimeValue || b instanceof DateTimeValue) {
    return a instanceof DateTimeValue && b instanceof DateTimeValue && a.ord === b.ord && a.us === b.us;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEquals(x, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((key) => Object.hasOwn(b, key) && pyEquals(normalize(a[key]), normalize(b[key])));
  }
  return a === b;
}

export function equals(left, right) {
  const order = compare(left, right);
  return order === null ? pyEquals(left, right) : order === 0;
}

/** Whether COUNT counts a list item: numbers, dates and whole rows; not text, TRUE/FALSE or blanks. */
export function counted(value) {
  return !(value === null || typeof value === "string" || typeof value === "boolean");
}

export { ValueFault };
