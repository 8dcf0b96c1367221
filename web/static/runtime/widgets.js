// Reading and writing the editor's inputs as JSON field values (what the API takes).
//
// Every input is rendered by web/templates/edit.html; a field's input is "#in-<key>" inside
// "#field-<key>", a sub-table cell's input carries data-col="<column key>". Text the user or the
// API gives is only ever set with textContent / value, never as markup.

import { parseDecimal, toNumber as decimalNumber } from "../expr/decimal.js";
import { recordsUrl, request } from "./api.js";

/** An input whose text is not a value of its type (a number input holding "1e", bad JSON). */
export const INVALID = Object.freeze({ toString: () => "#INVALID" });

function numberOf(element) {
  if (element.validity?.badInput) return INVALID;
  const text = element.value.trim();
  if (text === "") return null;
  const number = Number(text);
  return Number.isFinite(number) ? number : INVALID;
}

/** "7.5" (percent) -> 0.075 exactly as the decimal text says, not 7.5 / 100 in binary. */
function fractionOf(element) {
  const number = numberOf(element);
  if (number === null || number === INVALID) return number;
  const decimal = parseDecimal(element.value.trim());
  return decimalNumber({ ...decimal, e: decimal.e - 2 });
}

function seconds(text, length) {
  if (text === "") return null;
  return text.length < length ? `${text}:00` : text.slice(0, length);
}

const READERS = {
  text: (element) => element.value || null,
  email: (element) => element.value || null,
  tel: (element) => element.value || null,
  url: (element) => element.value || null,
  textarea: (element) => element.value || null,
  number: numberOf,
  percent: fractionOf,
  id: numberOf,
  date: (element) => element.value || null,
  datetime: (element) => seconds(element.value, 19),
  time: (element) => seconds(element.value, 8),
  checkbox: (element) => (element.dataset.blank === "true" ? null : element.checked),
  select: (element) => element.value || null,
  user: (element) => (element.value ? Number(element.value) : null),
  relation: (element) => (element.value ? Number(element.value) : null),
  multi_user: (element) => [...element.selectedOptions].map((option) => Number(option.value)),
  multi_relation: (element) => [...element.selectedOptions].map((option) => Number(option.value)),
  multi_select: (element) => [...element.querySelectorAll("input:checked")].map((box) => box.value),
  json: (element) => {
    if (element.value.trim() === "") return null;
    try {
      return JSON.parse(element.value);
    } catch {
      return INVALID;
    }
  },
};

/** The JSON value of one input of widget `widget` (INVALID when its text is not one). */
export function readInput(widget, element) {
  const read = READERS[widget];
  return read === undefined ? undefined : read(element);
}

function percentText(value) {
  if (typeof value !== "number") return "";
  const decimal = parseDecimal(String(value));
  return String(decimalNumber({ ...decimal, e: decimal.e + 2 }));
}

/** Put a JSON value into an input (used to fill defaults). */
export function writeInput(widget, element, value) {
  if (widget === "checkbox") {
    element.checked = value === true;
    element.indeterminate = value === null;
    element.dataset.blank = value === null ? "true" : "false";
  } else if (widget === "multi_select") {
    for (const box of element.querySelectorAll("input")) box.checked = Array.isArray(value) && value.includes(box.value);
  } else if (widget === "percent") {
    element.value = percentText(value);
  } else if (widget === "datetime") {
    element.value = value === null ? "" : String(value).slice(0, 19);
  } else if (READERS[widget] !== undefined && !widget.startsWith("multi_")) {
    element.value = value === null || value === undefined ? "" : String(value);
  }
}

/** The rows of an editable sub-table, as the API takes them (row ids left out). */
export function readRows(table, columns) {
  return [...table.tBodies[0].rows].map((row) => {
    const values = {};
    for (const column of columns) {
      const cell = row.querySelector(`[data-col="${column.key}"]:is(input, select, textarea, output)`);
      if (cell === null) continue;
      values[column.key] = cell.tagName === "OUTPUT" ? JSON.parse(cell.dataset.value) : readInput(column.widget, cell);
    }
    return values;
  });
}

/** Disable (or enable) every control inside a field. */
export function setDisabled(container, disabled) {
  for (const control of container.querySelectorAll("input, select, textarea, button")) control.disabled = disabled;
}

/**
 * Fill a relation select with records of its target form from the list API (search text `q`),
 * keeping the selected ones. Titles are set as text, never as markup.
 */
export async function loadRelationOptions(select, titleKey, { q = "", lang = "zh" } = {}) {
  const params = new URLSearchParams({ limit: "50" });
  if (q) params.set("q", q);
  const answer = await request("GET", `${recordsUrl(select.dataset.target)}?${params}`, { lang });
  if (!answer.ok) return;
  const kept = new Map([...select.options].filter((option) => option.selected || option.value === "").map((o) => [o.value, o]));
  const fresh = answer.data.items
    .filter((item) => !kept.has(String(item.id)))
    .map((item) => {
      const option = document.createElement("option");
      option.value = String(item.id);
      const title = item[titleKey];
      option.textContent = title === null || title === undefined || typeof title === "object" ? `#${item.id}` : String(title);
      return option;
    });
  select.replaceChildren(...kept.values(), ...fresh);
}
