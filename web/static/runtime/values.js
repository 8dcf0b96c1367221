// Field values in the record editor: the JSON the API speaks, the interpreter's values, and
// what the server stores from a formula's result (the twin of forms.recompute.stored_value).
//
// A field spec is what web/editor.py sends: {key, type, scale, min, max, min_length,
// max_length, pattern, options: [[value, label]], granularity, ...}.

import { DateTimeValue, DateValue, makeDate, makeDateTime } from "../expr/interpreter.js";
import { toNumber as decimalNumber, parseDecimal, quantize } from "../expr/decimal.js";

export const NUMERIC = new Set(["number", "currency", "percent", "rating"]);
export const TEXTUAL = new Set(["text", "textarea", "rich_text", "email", "phone", "url", "autonumber"]);
export const SINGLE_IDS = new Set(["user", "department", "relation"]);
export const MANY = new Set(["multi_select", "multi_user", "multi_relation"]);
const INT64 = 2 ** 63;
const BOOLEAN_TEXT = {
  0: false, off: false, f: false, false: false, n: false, no: false,
  1: true, on: true, t: true, true: true, y: true, yes: true,
}; // prettier-ignore

export function isBlank(value) {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

function quiet(make) {
  try {
    return make();
  } catch {
    return null;
  }
}

/** A decimal text ("12.5", "1e-7") rounded half up to `scale` places, as a double. */
export function roundHalfUp(number, scale) {
  return decimalNumber(quantize(parseDecimal(String(number)), -scale, "half_up"));
}

/** A number the user typed, as the server's validation leaves it (quantized to the field's scale). */
function validatedNumber(spec, number) {
  const scale = spec?.scale ?? 0;
  if (scale === 0 || !Number.isFinite(number) || Math.abs(number) >= 1e20) return number;
  return roundHalfUp(number, scale);
}

/** A field's JSON value (from the API or an input) as the interpreter reads it. */
export function toExpr(spec, value) {
  if (value === null || value === undefined) return null;
  const type = spec?.type;
  if (type === "date") return quiet(() => makeDate(String(value).slice(0, 10)));
  if (type === "datetime") return quiet(() => makeDateTime(String(value)));
  if (NUMERIC.has(type)) return typeof value === "number" ? validatedNumber(spec, value) : null;
  return value;
}

/** What the server stores from a formula result (null when the field cannot hold it), as JSON. */
export function storeResult(spec, value) {
  if (value === null || value === undefined) return null;
  const type = spec.type;
  if (NUMERIC.has(type)) return storeNumber(spec, value);
  if (type === "boolean") return storeBoolean(value);
  if (type === "select") return typeof value === "string" && optionValues(spec).includes(value) ? value : null;
  if (type === "multi_select") return storeChoices(spec, value);
  if (TEXTUAL.has(type)) return storeText(spec, value);
  if (type === "date") return storeDate(spec, value);
  if (type === "datetime") return storeDateTime(value);
  if (SINGLE_IDS.has(type)) return Number.isInteger(value) && value >= 1 && value <= 2 ** 62 ? value : null;
  return null;
}

export function optionValues(spec) {
  return (spec.options ?? []).map(([value]) => value);
}

function storeNumber(spec, value) {
  let number = value;
  if (typeof value === "string") {
    if (!/^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/.test(value)) return null;
    number = Number(value);
  } else if (typeof value !== "number") {
    return null; // booleans too: the server refuses true as a number
  }
  if (!Number.isFinite(number)) return null;
  const scale = spec.scale ?? 0;
  if (scale === 0) {
    const low = spec.min === undefined ? -INT64 : Math.ceil(spec.min);
    const high = spec.max === undefined ? INT64 - 1 : Math.floor(spec.max);
    return Number.isInteger(number) && number >= low && number <= high ? number : null;
  }
  if ((spec.min !== undefined && number < spec.min) || (spec.max !== undefined && number > spec.max)) return null;
  if (Math.abs(number) >= 1e20) return null;
  return roundHalfUp(number, scale);
}

function storeBoolean(value) {
  if (typeof value === "boolean") return value;
  if (value === 0 || value === 1) return value === 1;
  if (typeof value === "string") {
    const found = BOOLEAN_TEXT[value.trim().toLowerCase()];
    return found === undefined ? null : found;
  }
  return null;
}

function storeChoices(spec, value) {
  const items = Array.isArray(value) ? value : [value];
  const allowed = optionValues(spec);
  if (!items.every((item) => typeof item === "string" && allowed.includes(item))) return null;
  return new Set(items).size === items.length ? items : null;
}

function storeText(spec, value) {
  if (typeof value !== "string") return null;
  const length = [...value].length;
  if (length > (spec.max_length ?? Infinity) || length < (spec.min_length ?? 0)) return null;
  if (spec.pattern) {
    const pattern = quiet(() => new RegExp(spec.pattern, "u"));
    if (pattern && !pattern.test(value)) return null;
  }
  return value;
}

function storeDate(spec, value) {
  let day = null;
  if (value instanceof DateValue) day = value;
  else if (value instanceof DateTimeValue) day = value.us === 0 ? new DateValue(value.ord) : null;
  else if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) day = quiet(() => makeDate(value));
  if (day === null) return null;
  const iso = day.iso;
  if (spec.granularity === "month") return `${iso.slice(0, 7)}-01`;
  if (spec.granularity === "year") return `${iso.slice(0, 4)}-01-01`;
  return iso;
}

function storeDateTime(value) {
  if (value instanceof DateTimeValue) return value.iso;
  if (typeof value === "string") return quiet(() => makeDateTime(value))?.iso ?? null;
  return null;
}

/** A value as a person reads it: the twin of web.pages.display. */
export function displayValue(spec, value, lang) {
  if (isBlank(value)) return "";
  const labels = new Map(spec.options ?? []);
  if (spec.type === "select") return labels.get(value) ?? String(value);
  if (spec.type === "multi_select") return value.map((item) => labels.get(item) ?? item).join("、");
  if (Array.isArray(value)) return String(value.length);
  if (spec.type === "percent" && typeof value === "number") return `${(value * 100).toFixed(1)}%`;
  if (spec.type === "currency" && typeof value === "number") {
    return value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  if (typeof value === "boolean") return lang === "en" ? (value ? "yes" : "no") : value ? "是" : "否";
  // A decimal number arrives as a Python float: str() writes a whole one as "100.0".
  if (typeof value === "number" && (spec.scale ?? 0) > 0 && Number.isInteger(value) && Math.abs(value) < 1e16) {
    return value.toFixed(1);
  }
  return String(value);
}

/** Whether two JSON values are the same field value (the items of multi-valued fields in any order). */
export function sameValue(spec, a, b) {
  if (isBlank(a) && isBlank(b)) return true;
  if (MANY.has(spec.type) && Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item) => b.includes(item));
  }
  return JSON.stringify(a) === JSON.stringify(b);
}
