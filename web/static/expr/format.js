// Excel format codes for TEXT: the twin of engine/expr/functions/formats.py.
// Numbers ("0.00", "#,##0", "0%", sections "pos;neg;zero") and dates ("yyyy-mm-dd", "h:mm AM/PM").

import { fixed, multiply, parseDecimal, quantize, ValueFault } from "./decimal.js";
import { addSeconds, DateTimeValue, DateValue, serial } from "./dates.js";
import { floatRepr, parseNumber, toDate } from "./values.js";

const PIECE = /"[^"]*"|\\[\s\S]|AM\/PM|A\/P|([yYmMdDhHsS])\1*|[\s\S]/gu;
const SIMPLE_PIECE = /"[^"]*"|\\[\s\S]|[\s\S]/gu;
const MONTHS = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const PLACEHOLDERS = "0#?";
const DATE_PARTS = "yYmMdDhHsS";

function sections(code) {
  const found = [""];
  for (const piece of code.match(SIMPLE_PIECE) ?? []) {
    if (piece === ";") found.push("");
    else found[found.length - 1] += piece;
  }
  return found;
}

function bare(code) {
  return code.replace(/"[^"]*"|\\[^\n]/gu, "");
}

export function isDateFormat(code) {
  const text = bare(code);
  if (/[yYdDhHsS]/.test(text)) return true;
  return text.toLowerCase().includes("m") && ![...PLACEHOLDERS].some((c) => text.includes(c));
}

/** value written with the format code; null when it cannot be formatted. */
export function formatText(value, code) {
  return isDateFormat(code) ? formatDate(value, code) : formatNumber(value, code);
}

// -- dates -------------------------------------------------------------------------------------
function moment(value) {
  if (value instanceof DateTimeValue) return value;
  const day = toDate(value);
  if (day === null) return null;
  const start = new DateTimeValue(day.ord, 0);
  if (typeof value !== "number") return start;
  const seconds = roundHalfEven((value - Math.floor(value)) * 86400);
  return addSeconds(start, seconds);
}

export function roundHalfEven(x) {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function isMinutes(pieces, index) {
  const parts = pieces.map((p) => (DATE_PARTS.includes(p[0]) ? p[0].toLowerCase() : ""));
  const before = parts.slice(0, index).filter(Boolean);
  const after = parts.slice(index + 1).filter(Boolean);
  return (before.length > 0 && before[before.length - 1] === "h") || (after.length > 0 && after[0] === "s");
}

function pad(number, width) {
  return String(number).padStart(width, "0");
}

function datePiece(piece, when, minutes, twelve) {
  const letter = piece[0].toLowerCase();
  const width = piece.length;
  const [year, month, day] = when.parts;
  const [hour, minute, second] = when.clock;
  if (letter === "y") return width <= 2 ? pad(year % 100, 2) : pad(year, 4);
  if (letter === "m" && minutes) return pad(minute, Math.min(width, 2));
  if (letter === "m") {
    if (width <= 2) return pad(month, width);
    const name = MONTHS[month - 1];
    return width === 3 ? name.slice(0, 3) : width === 5 ? name[0] : name;
  }
  if (letter === "d") {
    if (width <= 2) return pad(day, width);
    const name = DAYS[when.weekday];
    return width === 3 ? name.slice(0, 3) : name;
  }
  if (letter === "h") return pad(twelve ? hour % 12 || 12 : hour, Math.min(width, 2));
  return pad(second, Math.min(width, 2));
}

function literal(piece) {
  if (piece.startsWith('"')) return piece.slice(1, -1);
  return piece.startsWith("\\") ? piece.slice(1) : piece;
}

export function formatDate(value, code) {
  const when = moment(value);
  if (when === null) return null;
  const pieces = code.match(PIECE) ?? [];
  const twelve = pieces.some((p) => p === "AM/PM" || p === "A/P");
  return pieces
    .map((piece, index) => {
      if (piece === "AM/PM" || piece === "A/P") {
        const marker = when.clock[0] < 12 ? "AM" : "PM";
        return piece.length > 3 ? marker : marker[0];
      }
      if (DATE_PARTS.includes(piece[0])) {
        return datePiece(piece, when, "mM".includes(piece[0]) && isMinutes(pieces, index), twelve);
      }
      return literal(piece);
    })
    .join("");
}

// -- numbers -----------------------------------------------------------------------------------
function sectionFor(code, number) {
  const found = sections(code);
  if (number < 0 && found.length >= 2) return [found[1], -number, false];
  if (number === 0 && found.length >= 3) return [found[2], number, false];
  return [found[0], Math.abs(number), number < 0];
}

export function formatNumber(value, code) {
  let number;
  if (typeof value === "string") {
    number = parseNumber(value);
    if (number === null) return value;
  } else if (value instanceof DateValue || value instanceof DateTimeValue) {
    number = serial(value);
  } else if (typeof value === "number") {
    number = value;
  } else {
    return null;
  }
  const [section, shown, minus] = sectionFor(code, number);
  const text = numberSection(section, shown);
  return minus && /[1-9]/.test(text) ? `-${text}` : text;
}

function numberSection(section, number) {
  const pieces = section.match(SIMPLE_PIECE) ?? [];
  const slots = pieces.flatMap((p, i) => (p.length === 1 && PLACEHOLDERS.includes(p) ? [i] : []));
  if (slots.length === 0) return pieces.map(literal).join("");
  let first = slots[0];
  const last = slots[slots.length - 1];
  if (first > 0 && pieces[first - 1] === ".") first -= 1;
  let shift = 2 * pieces.filter((p) => p === "%").length;
  if (shift > 999_999) throw new ValueFault("decimal overflow");
  let trailing = last + 1;
  while (trailing < pieces.length && pieces[trailing] === ",") {
    shift -= 3;
    trailing += 1;
  }
  const scaled = multiply(parseDecimal(floatRepr(number)), { neg: false, c: 1n, e: shift });
  const digits = digitsFor(pieces.slice(first, last + 1).join(""), scaled);
  return pieces.slice(0, first).map(literal).join("") + digits + pieces.slice(trailing).map(literal).join("");
}

function digitsFor(pattern, number) {
  const dot = pattern.indexOf(".");
  const wholePattern = dot < 0 ? pattern : pattern.slice(0, dot);
  const fractionPattern = [...(dot < 0 ? "" : pattern.slice(dot + 1))].filter((c) => PLACEHOLDERS.includes(c)).join("");
  const rounded = quantize(number, -fractionPattern.length, "half_up", 28);
  const text = fixed(rounded);
  const point = text.indexOf(".");
  let whole = point < 0 ? text : text.slice(0, point);
  let fraction = (point < 0 ? "" : text.slice(point + 1)).padEnd(fractionPattern.length, "0");
  const required = fractionPattern.replace(/[#?]+$/, "").length;
  while (fraction.length > required && fraction.endsWith("0")) fraction = fraction.slice(0, -1);
  const minimum = [...wholePattern].filter((c) => c === "0").length;
  whole = whole.replace(/^0+/, "").padStart(minimum, "0");
  if (wholePattern.includes(",") && whole) whole = group(BigInt(whole)).padStart(minimum, "0");
  return whole + (pattern.includes(".") ? `.${fraction}` : "");
}

function group(value) {
  const text = (value < 0n ? -value : value).toString();
  const grouped = text.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return value < 0n ? `-${grouped}` : grouped;
}
