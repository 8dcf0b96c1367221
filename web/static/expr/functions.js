// Logic, aggregates and math: the twins of engine/expr/functions/{logic,aggregates,math}.py.
// Text functions are in textfns.js, date functions in datefns.js; all register in registry.js.

import * as dec from "./decimal.js";
import { isDate } from "./dates.js";
import { register } from "./registry.js";
import {
  compare,
  counted,
  equals,
  ERROR,
  finite,
  flatten,
  normalize,
  numbersOf,
  parseNumber,
  significant,
  toLogical,
  toNumber,
  truthy,
} from "./values.js";

// -- logic -------------------------------------------------------------------------------------
register("IF", "logical_test value_if_true ?value_if_false", (frame, args) => {
  const test = toLogical(args[0].run(frame));
  if (test === ERROR) return ERROR;
  if (test) return args[1].run(frame);
  return args.length > 2 ? args[2].run(frame) : false;
}, "lazy");

register("IFS", "(logical_test value_if_true)", (frame, args) => {
  for (let index = 0; index < args.length; index += 2) {
    const test = toLogical(args[index].run(frame));
    if (test !== false) return test === ERROR ? ERROR : args[index + 1].run(frame);
  }
  return ERROR;
}, "lazy");

register("SWITCH", "expression (value result) ?default", (frame, args) => {
  const subject = args[0].run(frame);
  const pairs = args.length - 1;
  for (let index = 1; index < pairs - (pairs % 2) + 1; index += 2) {
    const candidate = args[index].run(frame);
    if (subject === ERROR || candidate === ERROR) return ERROR;
    if (equals(subject, candidate)) return args[index + 1].run(frame);
  }
  return pairs % 2 ? args[args.length - 1].run(frame) : ERROR;
}, "lazy");

/** Each argument's truth value; in lists, blanks and text are skipped (as Excel skips them in ranges). */
function logicals(values) {
  const found = [];
  for (const value of values) {
    if (Array.isArray(value)) {
      for (const item of value) {
        if (item !== null && typeof item !== "string") found.push(toLogical(item) === true);
      }
      continue;
    }
    const logical = toLogical(value);
    if (logical === ERROR) return ERROR;
    found.push(logical === true);
  }
  return found;
}

function logicalFunction(combine) {
  return (...values) => {
    const found = logicals(values);
    return found === ERROR ? ERROR : combine(found);
  };
}

register("AND", "(logical)", logicalFunction((found) => found.every(Boolean)));
register("OR", "(logical)", logicalFunction((found) => found.some(Boolean)));
register("XOR", "(logical)", logicalFunction((found) => found.filter(Boolean).length % 2 === 1));

register("NOT", "logical_test", (value) => {
  const logical = toLogical(value);
  return logical === ERROR ? ERROR : logical !== true;
});

register("ISBLANK", "value", (frame, args) => args[0].run(frame) === null, "lazy");

register("COALESCE", "(value)", (frame, args) => {
  for (const arg of args) {
    const value = arg.run(frame);
    if (value !== null && value !== ERROR) return value;
  }
  return null;
}, "lazy");

register("BAND", "x (threshold score) ?default", (x, ...rest) => {
  const pairs = rest.length - (rest.length % 2);
  for (let index = 0; index < pairs; index += 2) {
    const order = compare(x, rest[index]);
    if (order !== null && order >= 0) return rest[index + 1];
  }
  return rest.length % 2 ? rest[rest.length - 1] : ERROR;
});

register("CURRENT_USER", "", (record) => normalize(record.currentUser), "context");

// -- aggregates --------------------------------------------------------------------------------
function sum(...values) {
  const numbers = numbersOf(values);
  return numbers === ERROR ? ERROR : numbers.reduce((total, n) => total + n, 0);
}

function average(...values) {
  const numbers = numbersOf(values);
  if (numbers === ERROR || numbers.length === 0) return ERROR;
  return numbers.reduce((total, n) => total + n, 0) / numbers.length;
}

/** The numbers and dates among values (text, TRUE/FALSE and blanks in lists are skipped). */
function ordered(values) {
  const found = [];
  for (const value of values) {
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === "number" || isDate(item)) found.push(item);
    } else if (isDate(value)) {
      found.push(value);
    } else if (value !== null) {
      const numbers = numbersOf([value]);
      if (numbers === ERROR) return ERROR;
      found.push(...numbers);
    }
  }
  return found;
}

function extreme(values, pick) {
  const found = ordered(values);
  if (found === ERROR) return ERROR;
  if (found.length === 0) return null;
  if (new Set(found.map(isDate)).size > 1) return ERROR; // numbers mixed with dates
  let best = found[0];
  for (const value of found.slice(1)) if (compare(value, best) === pick) best = value;
  return best;
}

const min = (...values) => extreme(values, -1);
const max = (...values) => extreme(values, 1);

register("SUM", "(number)", sum);
register("AVERAGE", "(number)", average);
register("MIN", "(number)", min);
register("MAX", "(number)", max);

/** Whether COUNT counts a value written directly as an argument (Excel counts TRUE and "3"). */
function countsAlone(value) {
  if (typeof value === "string") return parseNumber(value) !== null;
  return typeof value === "boolean" || counted(value);
}

register("COUNT", "(value)", (...values) => {
  let total = 0;
  for (const value of values) total += Array.isArray(value) ? value.filter(counted).length : Number(countsAlone(value));
  return total;
});

register("COUNTA", "(value)", (...values) => flatten(values).filter((value) => value !== null).length);

/** The values of the first argument on the rows where the condition (second argument) holds. */
function rowsWhere(frame, args) {
  const [source, condition] = args;
  let values = source.run(frame);
  values = Array.isArray(values) ? values : [];
  const rows = source.rows(frame);
  frame.budget.charge(rows.length);
  const kept = [];
  for (let i = 0; i < Math.min(rows.length, values.length); i++) {
    if (truthy(condition.run(frame.at(rows[i])))) kept.push(values[i]);
  }
  return rows.length === values.length ? kept : ERROR; // Python's zip(strict=True) fails
}

register("COUNTIF", "range ?condition", (frame, args) => {
  if (args.length === 1) {
    const values = args[0].run(frame);
    return Array.isArray(values) ? values.filter((item) => item === true).length : 0;
  }
  const rows = args[0].rows(frame);
  frame.budget.charge(rows.length);
  return rows.filter((row) => truthy(args[1].run(frame.at(row)))).length;
}, "lazy");

function conditional(pick) {
  return (frame, args) => {
    const values = rowsWhere(frame, args);
    return values === ERROR ? ERROR : pick(values);
  };
}

register("SUMIF", "range condition", conditional(sum), "lazy");
register("AVERAGEIF", "range condition", conditional(average), "lazy");
register("MAXIF", "range condition", conditional(max), "lazy");
register("MINIF", "range condition", conditional(min), "lazy");

// -- math --------------------------------------------------------------------------------------
/** Read every argument as a number (blank 0, TRUE 1); a non-number is an error. */
function onNumbers(impl) {
  return (...values) => {
    const numbers = values.map(toNumber);
    if (numbers.some((n) => n === null)) return ERROR;
    const result = impl(...numbers);
    return result === ERROR ? result : finite(result);
  };
}

function round(number, digits, mode) {
  const places = Math.max(-400, Math.min(400, Math.trunc(digits)));
  return dec.toNumber(dec.quantize(significant(number), -places, mode));
}

register("ROUND", "number num_digits", onNumbers((n, d) => round(n, d, "half_up")));
register("ROUNDUP", "number num_digits", onNumbers((n, d) => round(n, d, "up")));
register("ROUNDDOWN", "number num_digits", onNumbers((n, d) => round(n, d, "down")));
register("ABS", "number", onNumbers(Math.abs));

register("MOD", "number divisor", onNumbers((number, divisor) => {
  if (divisor === 0) return ERROR;
  let rest = dec.remainder(significant(number), significant(divisor));
  if (!dec.isZero(rest) && rest.neg !== divisor < 0) rest = dec.add(rest, significant(divisor));
  return dec.toNumber(rest);
}));

/** number ^ power: Excel's #NUM! for 0^0 and a negative number to a fraction, #DIV/0! for 0^-n. */
export function power(left, right) {
  const a = toNumber(left);
  const b = toNumber(right);
  if (a === null || b === null || (a === 0 && b <= 0)) return ERROR;
  return finite(a ** b);
}

register("POWER", "number power", power);
register("SQRT", "number", onNumbers((n) => (n >= 0 ? Math.sqrt(n) : ERROR)));
register("INT", "number", onNumbers((n) => Math.floor(n) + 0));

function multiple(number, significance, mode) {
  const steps = dec.toIntegral(dec.divide(significant(number), significant(significance)), mode);
  return dec.toNumber(dec.multiply(steps, significant(significance)));
}

register("CEILING", "number ?significance", onNumbers((number, significance = 1) => {
  if (significance === 0) return 0;
  if (number > 0 && significance < 0) return ERROR;
  return multiple(number, significance, "ceiling");
}));

register("FLOOR", "number ?significance", onNumbers((number, significance = 1) => {
  if (significance === 0 || (number > 0 && significance < 0)) return ERROR;
  return multiple(number, significance, "floor");
}));
