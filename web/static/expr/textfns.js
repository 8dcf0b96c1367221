// Text functions: the twins of engine/expr/functions/text.py. Positions and lengths count code
// points, as Python's str does (an emoji is one character, not two UTF-16 units).

import { formatText } from "./format.js";
import { register } from "./registry.js";
import {
  casefold,
  checkedText,
  checkLength,
  codeLength,
  ERROR,
  flatten,
  parseNumber,
  pyStrip,
  toInteger,
  toText,
} from "./values.js";

const chars = (text) => Array.from(text);

register("CONCAT", "(text)", (...values) => checkedText(flatten(values).map(toText).join("")));

register("LEFT", "text ?num_chars", (text, numChars = 1) => {
  const count = toInteger(numChars);
  if (count === null || count < 0) return ERROR;
  return chars(toText(text)).slice(0, count).join("");
});

register("RIGHT", "text ?num_chars", (text, numChars = 1) => {
  const count = toInteger(numChars);
  if (count === null || count < 0) return ERROR;
  const value = chars(toText(text));
  return count ? value.slice(Math.max(0, value.length - count)).join("") : "";
});

register("MID", "text start_num num_chars", (text, startNum, numChars) => {
  const start = toInteger(startNum);
  const count = toInteger(numChars);
  if (start === null || count === null || start < 1 || count < 0) return ERROR;
  return chars(toText(text)).slice(start - 1, start - 1 + count).join("");
});

register("LEN", "text", (text) => codeLength(toText(text)));
register("UPPER", "text", (text) => toText(text).toUpperCase());
register("LOWER", "text", (text) => toText(text).toLowerCase());
register("TRIM", "text", (text) => toText(text).replace(/^ +| +$/g, "").replace(/ +/g, " "));

register("SUBSTITUTE", "text old_text new_text ?instance_num", (text, oldText, newText, instanceNum = null) => {
  const value = toText(text);
  const old = toText(oldText);
  const replacement = toText(newText);
  if (!old) return value;
  if (instanceNum === null) {
    const parts = value.split(old);
    checkLength(codeLength(value) + (parts.length - 1) * (codeLength(replacement) - codeLength(old)));
    return parts.join(replacement);
  }
  const instance = toInteger(instanceNum);
  if (instance === null || instance < 1) return ERROR;
  let position = -1;
  for (let found = 0; found < instance; found++) {
    position = value.indexOf(old, position + 1);
    if (position < 0) return value;
  }
  return value.slice(0, position) + replacement + value.slice(position + old.length);
});

register("FIND", "find_text within_text ?start_num", (findText, withinText, startNum = 1) => {
  const needle = toText(findText);
  const haystack = chars(toText(withinText));
  const start = toInteger(startNum);
  if (start === null || start < 1 || start > haystack.length) return ERROR;
  const offset = haystack.slice(0, start - 1).join("").length; // in UTF-16 units
  const position = haystack.join("").indexOf(needle, offset);
  if (position < 0) return ERROR;
  return codeLength(haystack.join("").slice(0, position)) + 1;
});

register("CONTAINS", "text search_text", (text, searchText) =>
  casefold(toText(text)).includes(casefold(toText(searchText))),
);

register("TEXT", "value format_text", (value, formatCode) => {
  if (value === null) return "";
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  const code = toText(formatCode);
  if (["", "general", "@"].includes(pyStrip(code).toLowerCase())) return toText(value);
  const formatted = formatText(value, code);
  return formatted === null ? ERROR : formatted;
});

register("VALUE", "text", (text) => {
  if (text === null) return 0;
  if (typeof text === "number") return text;
  const number = typeof text === "string" ? parseNumber(text) : null;
  return number === null ? ERROR : number;
});
