// The operators of the browser interpreter (+ - * / ^ & = < ... AND OR NOT): the twin of
// engine/expr/operators.py. Total functions: an error operand, or a bad one, gives ERROR.
//
// A blank operand of + or - whose static type is a date is a blank date, an unknown date, not
// day 0 (engine/expr/types.py): blank_date ± n is blank, date - date with a blank is ERROR. The
// value null does not say so; to_json(node, scope) puts the static types on such a node as
// "dates": [leftIsDate, rightIsDate], and binaryOperator(op, dates) gives the rule for them.

import { power } from "./functions.js";
import { addDays, addToDateTime, asDateTime, DateTimeValue, dayDifference, isDate } from "./dates.js";
import { checkedText, compare, equals, ERROR, finite, toLogical, toNumber, toText, ValueFault } from "./values.js";

function datePlus(date, days) {
  const number = toNumber(days);
  if (number === null) return ERROR;
  try {
    return date instanceof DateTimeValue ? addToDateTime(date, number) : addDays(date, Math.floor(number));
  } catch (error) {
    if (error instanceof ValueFault) return ERROR;
    throw error;
  }
}

function arithmetic(compute) {
  return (left, right) => {
    const a = toNumber(left);
    const b = toNumber(right);
    return a === null || b === null ? ERROR : finite(compute(a, b));
  };
}

const plainAdd = arithmetic((a, b) => a + b);
const plainSubtract = arithmetic((a, b) => a - b);

function add(left, right) {
  if (isDate(left) && !isDate(right)) return datePlus(left, right);
  if (isDate(right) && !isDate(left)) return datePlus(right, left);
  return plainAdd(left, right);
}

// A blank operand whose static type is a date (the "dates" flags to_json puts on + and -) is a
// blank date: an unknown date, not day 0 (engine/expr/operators.py binary_operator).
function blankDatePlus(days) {
  return isDate(days) || toNumber(days) === null ? ERROR : null; // an unknown date stays unknown
}

function addDates(leftDate, rightDate) {
  return (left, right) => {
    if (left === ERROR || right === ERROR) return ERROR;
    if (left === null && leftDate) return blankDatePlus(right);
    if (right === null && rightDate) return blankDatePlus(left);
    return add(left, right);
  };
}

function subtractDates(leftDate, rightDate) {
  return (left, right) => {
    if (left === ERROR || right === ERROR) return ERROR;
    if (right === null && rightDate) return ERROR; // days from or to an unknown date (as DAYS)
    if (left === null && leftDate) return blankDatePlus(right);
    return subtract(left, right);
  };
}

/** The rule of op for operands whose static types are ([leftDate, rightDate]) or are not dates. */
export function binaryOperator(op, dates) {
  const [leftDate, rightDate] = Array.isArray(dates) ? dates.map(Boolean) : [false, false];
  if (op === "+" && (leftDate || rightDate)) return addDates(leftDate, rightDate);
  if (op === "-" && (leftDate || rightDate)) return subtractDates(leftDate, rightDate);
  return BINARY[op];
}

function subtract(left, right) {
  if (isDate(left) && isDate(right)) {
    if (left instanceof DateTimeValue || right instanceof DateTimeValue) {
      return dayDifference(asDateTime(left), asDateTime(right));
    }
    return left.ord - right.ord;
  }
  if (isDate(left)) {
    const number = toNumber(right);
    return number === null ? ERROR : datePlus(left, -number);
  }
  return plainSubtract(left, right);
}

function ordering(test) {
  return (left, right) => {
    const order = compare(left, right);
    return order === null ? ERROR : test(order);
  };
}

function logical(combine) {
  return (left, right) => {
    const a = toLogical(left);
    const b = toLogical(right);
    return a === ERROR || b === ERROR ? ERROR : combine(a === true, b === true);
  };
}

const OPERATORS = {
  "+": add,
  "-": subtract,
  "*": arithmetic((a, b) => a * b),
  "/": arithmetic((a, b) => (b === 0 ? ERROR : a / b)),
  "^": power,
  "&": (left, right) => checkedText(toText(left) + toText(right)),
  "=": equals,
  "<>": (left, right) => !equals(left, right),
  "<": ordering((order) => order < 0),
  "<=": ordering((order) => order <= 0),
  ">": ordering((order) => order > 0),
  ">=": ordering((order) => order >= 0),
  AND: logical((a, b) => a && b),
  OR: logical((a, b) => a || b),
};

export const BINARY = Object.fromEntries(
  Object.entries(OPERATORS).map(([op, operator]) => [
    op,
    (left, right) => (left === ERROR || right === ERROR ? ERROR : operator(left, right)),
  ]),
);

function unaryNumber(compute) {
  return (value) => {
    const number = toNumber(value);
    return number === null || value === ERROR ? ERROR : compute(number);
  };
}

export const UNARY = {
  "-": unaryNumber((n) => 0 - n),
  "+": unaryNumber((n) => n),
  "%": unaryNumber((n) => n / 100),
  NOT: (value) => {
    const found = toLogical(value);
    return found === ERROR ? ERROR : found !== true;
  },
};
