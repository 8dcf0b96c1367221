// Test driver for web/static/expr/interpreter.js (used by tests/expr/test_js_*.py).
//
// Reads one JSON request per stdin line and writes one JSON response line:
//   {"op": "eval", "contexts": {"name": {"data", "user", "today", "now"}},
//    "cases": [{"ast": <to_json>, "ctx": "name", "maxSteps": 1000}]}   -> {"results": [...]}
//   {"op": "functions"}                                                -> {"functions": {...}}
// On the wire a date is {"$date": "2024-01-31"}, a date-time {"$datetime": iso}, an ExprError
// {"$error": code}, any other exception {"$crash": text}. The data of a context follows
// engine.expr.scope.DictContext: a list of objects under a key is a set of rows.

import { createInterface } from "node:readline";
import { acceptsCount, FUNCTIONS, signature } from "../../web/static/expr/registry.js";
import {
  DateTimeValue,
  DateValue,
  evaluate,
  ExprError,
  FUNCTION_NAMES,
  makeDate,
  makeDateTime,
} from "../../web/static/expr/interpreter.js";

const isMapping = (v) =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof DateValue) && !(v instanceof DateTimeValue);

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value !== null && typeof value === "object") {
    if ("$date" in value) return makeDate(value.$date);
    if ("$datetime" in value) return makeDateTime(value.$datetime);
    if ("$num" in value) return Number(value.$num);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

function encode(value) {
  if (value instanceof DateValue) return { $date: value.iso };
  if (value instanceof DateTimeValue) return { $datetime: value.iso };
  if (typeof value === "number" && !Number.isFinite(value)) return { $num: String(value) };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value === undefined ? null : value;
}

/** A port of engine.expr.scope.DictContext. */
class DictContext {
  constructor(data, user, today, now) {
    Object.assign(this, { data, currentUser: user, today, now });
  }
  get(key) {
    return Object.hasOwn(this.data, key) ? this.data[key] : null;
  }
  value(path) {
    if (path.length === 0) return this.get("id");
    const head = this.get(path[0]);
    if (path.length === 1) return head;
    if (Array.isArray(head)) {
      return head.map((row) => (isMapping(row) && Object.hasOwn(row, path[1]) ? row[path[1]] : null));
    }
    if (isMapping(head)) return this.inside(head).value(path.slice(1));
    return null;
  }
  rows(path) {
    const head = this.get(path[0]);
    return (Array.isArray(head) ? head : []).map((row) => this.inside(isMapping(row) ? row : {}));
  }
  inside(data) {
    return new DictContext(data, this.currentUser, this.today, this.now);
  }
}

function makeContext(spec) {
  const data = decode(spec.data ?? {});
  return new DictContext(data, decode(spec.user ?? null), spec.today ?? "2026-01-15", spec.now ?? "2026-01-15T09:30:00");
}

function restoreNumbers(node) {
  if (Array.isArray(node)) return node.map(restoreNumbers);
  if (node !== null && typeof node === "object") {
    if ("$num" in node) return Number(node.$num);
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, restoreNumbers(v)]));
  }
  return node;
}

function runCase(item, contexts) {
  try {
    const options = item.maxSteps ? { maxSteps: item.maxSteps } : {};
    return encode(evaluate(restoreNumbers(item.ast), contexts[item.ctx] ?? makeContext({}), options));
  } catch (error) {
    if (error instanceof ExprError) return { $error: error.code };
    return { $crash: `${error?.stack ?? error}` };
  }
}

function functionTable() {
  const table = {};
  for (const name of FUNCTION_NAMES) {
    const fn = FUNCTIONS[name];
    const counts = Array.from({ length: 13 }, (_, count) => acceptsCount(fn, count));
    table[name] = { signature: signature(fn), lazy: fn.lazy, needsContext: fn.needsContext, counts };
  }
  return table;
}

function answer(request) {
  if (request.op === "functions") return { names: FUNCTION_NAMES, functions: functionTable() };
  const contexts = Object.fromEntries(Object.entries(request.contexts ?? {}).map(([k, v]) => [k, makeContext(v)]));
  return { results: request.cases.map((item) => runCase(item, contexts)) };
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let response;
  try {
    response = answer(JSON.parse(line));
  } catch (error) {
    response = { fatal: `${error?.stack ?? error}` };
  }
  process.stdout.write(`${JSON.stringify(response)}\n`);
}
