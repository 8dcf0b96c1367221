// The browser interpreter of Tessera's formula language: the twin of engine/expr/evaluator.py.
//
//   import { evaluate } from "/static/expr/interpreter.js";
//   evaluate(ast, context)            // ast: engine.expr.serialize.to_json(node, scope), from JSON
//
// context: { value(path) -> any, rows(path) -> [context], currentUser, today: "YYYY-MM-DD", now: ISO }
// (value([]) is the record's id, for a bare THIS). Values in and out: null is blank; numbers,
// strings, booleans; dates are DateValue and date-times DateTimeValue (dates.js; build them with
// makeDate("2024-01-31") / makeDateTime("2024-01-31T14:05:09"); JSON.stringify writes
// {"date": "2024-01-31"}); arrays for paths through one-to-many links; other objects (rows,
// records) pass through. An error inside (1/0) is the ERROR value and spreads as Excel's #DIV/0!
// does; evaluate() returns it as null. A breached limit or a bad call throws ExprError
// (code "too_many_steps", "too_long", "unknown_function", "wrong_arity", "too_deep").
//
// compile(ast, { maxSteps }) compiles once into a function of a context (the AST becomes nested
// closures: no eval, no new Function); every node run spends a step, as in Python (Limits.max_steps,
// default 1,000,000), and so does every list item read. FUNCTION_NAMES lists the 58 functions.

import "./functions.js";
import "./textfns.js";
import "./datefns.js";
import { DateTimeValue, DateValue, parseIsoDate, parseIsoDateTime } from "./dates.js";
import { BINARY, binaryOperator, UNARY } from "./operators.js";
import { acceptsCount, FUNCTIONS, signature } from "./registry.js";
import { equals, ERROR, ExprError, normalize, ValueFault } from "./values.js";

export { BINARY, DateTimeValue, DateValue, ExprError, UNARY };
export const FUNCTION_NAMES = Object.freeze(Object.keys(FUNCTIONS).sort());
export const DEFAULT_MAX_STEPS = 1_000_000;

export function makeDate(iso) {
  const date = parseIsoDate(iso);
  if (date === null) throw new TypeError(`not a date: ${iso}`);
  return date;
}

export const makeDateTime = parseIsoDateTime;

// -- frames and budget -------------------------------------------------------------------------
class Budget {
  constructor(limit) {
    this.limit = limit;
    this.steps = 0;
  }
  charge(steps) {
    this.steps += steps;
    if (this.steps > this.limit) {
      throw new ExprError(
        "too_many_steps",
        `the expression needed more than ${this.limit} evaluation steps`,
        0,
        null,
        "simplify it, or aggregate fewer rows",
      );
    }
  }
}

class Frame {
  constructor(context, record, budget) {
    this.context = context;
    this.record = record;
    this.budget = budget;
  }
  /** The frame for one related row (same record, same budget). */
  at(row) {
    return new Frame(row, this.record, this.budget);
  }
}

// -- compiling ---------------------------------------------------------------------------------
function result(value) {
  return typeof value === "number" && !Number.isFinite(value) ? ERROR : value;
}

function guarded(run) {
  try {
    return result(run());
  } catch (error) {
    if (error instanceof ValueFault) return ERROR;
    throw error;
  }
}

function compileNode(node) {
  switch (node.t) {
    case "num":
    case "lit":
      return compileLiteral(node.v);
    case "ref":
      return compileRef(node);
    case "call":
      return compileCall(node);
    case "unary":
      return compileUnary(node);
    case "bin":
      return compileBinary(node);
    case "in":
      return compileIn(node);
    default:
      throw new ExprError("syntax", `not an expression node: ${JSON.stringify(node?.t)}`, node?.span?.[0] ?? 0);
  }
}

function compileLiteral(raw) {
  // A number beyond the doubles (only a hand-built tree has one) is an error, as an overflow is.
  const value = raw === undefined ? null : typeof raw === "number" && !Number.isFinite(raw) ? ERROR : raw;
  return (frame) => {
    frame.budget.charge(1);
    return value;
  };
}

function compileRef(node) {
  const path = Object.freeze([...node.path]);
  const useRecord = Boolean(node.this);
  if (useRecord && path.length === 0) {
    return (frame) => {
      frame.budget.charge(1);
      return frame.record.value([]); // a bare THIS: the record's id, as the context gives it
    };
  }
  return (frame) => {
    frame.budget.charge(1);
    const value = normalize((useRecord ? frame.record : frame.context).value(path));
    if (Array.isArray(value)) frame.budget.charge(value.length);
    return value;
  };
}

function wrongArity(fn, node) {
  let wanted;
  if (fn.maxArgs === fn.minArgs) wanted = `${fn.minArgs} argument${fn.minArgs !== 1 ? "s" : ""}`;
  else if (fn.maxArgs === null) {
    wanted = `at least ${fn.minArgs} arguments`;
    if (fn.repeat.length > 1) wanted += ` in groups of ${fn.repeat.join(", ")}`;
  } else wanted = `${fn.minArgs} to ${fn.maxArgs} arguments`;
  const [start, end] = node.span ?? [0, 1];
  const message = `${fn.name} takes ${wanted}; found ${node.args.length}`;
  return new ExprError("wrong_arity", message, start, end, `write it as ${signature(fn)}`);
}

function compileCall(node) {
  const fn = FUNCTIONS[node.name];
  const [start, end] = node.span ?? [0, 1];
  if (fn === undefined) throw new ExprError("unknown_function", `unknown function ${node.name}()`, start, end);
  if (!acceptsCount(fn, node.args.length)) throw wrongArity(fn, node);
  const args = node.args.map(compileNode);
  const impl = fn.impl;
  if (fn.lazy) {
    const lazyArgs = node.args.map((argNode, index) => {
      const path = argNode.t === "ref" ? Object.freeze([...argNode.path]) : null;
      const useRecord = argNode.t === "ref" && Boolean(argNode.this);
      return Object.freeze({
        run: args[index],
        rows: (frame) => {
          if (path === null || path.length === 0) return []; // a bare THIS is one record, not rows
          const context = useRecord ? frame.record : frame.context;
          return typeof context.rows === "function" ? context.rows(path) : [];
        },
      });
    });
    return (frame) => {
      frame.budget.charge(1);
      return guarded(() => impl(frame, lazyArgs));
    };
  }
  return (frame) => {
    frame.budget.charge(1);
    const values = args.map((arg) => arg(frame));
    if (values.some((value) => value === ERROR)) return ERROR; // an error argument: an error, as in Excel
    return guarded(() => (fn.needsContext ? impl(frame.record, ...values) : impl(...values)));
  };
}

function badOperator(node) {
  return new ExprError("syntax", `unknown operator ${JSON.stringify(node.op)}`, node.span?.[0] ?? 0, node.span?.[1]);
}

function compileUnary(node) {
  const operations = [];
  let inner = node;
  while (inner.t === "unary") {
    if (!Object.hasOwn(UNARY, inner.op)) throw badOperator(inner);
    operations.push(UNARY[inner.op]);
    inner = inner.x;
  }
  operations.reverse(); // -(-(x%)) runs as one loop, innermost operator first
  const operand = compileNode(inner);
  const count = operations.length;
  return (frame) => {
    frame.budget.charge(count);
    let value = operand(frame);
    for (const operation of operations) value = operation(value);
    return value;
  };
}

function compileBinary(node) {
  const spine = [];
  let inner = node;
  while (inner.t === "bin") {
    if (!Object.hasOwn(BINARY, inner.op)) throw badOperator(inner);
    spine.push(inner);
    inner = inner.l;
  }
  const first = compileNode(inner);
  const steps = spine.reverse().map((part) => [binaryOperator(part.op, part.dates), compileNode(part.r)]);
  const count = steps.length;
  return (frame) => {
    frame.budget.charge(count);
    let value = first(frame);
    for (const [operator, right] of steps) value = operator(value, right(frame));
    return value;
  };
}

function compileIn(node) {
  const operand = compileNode(node.x);
  const items = node.items.map(compileNode);
  const negated = Boolean(node.not);
  return (frame) => {
    frame.budget.charge(1);
    const value = operand(frame);
    for (const item of items) {
      const candidate = item(frame);
      if (value === ERROR || candidate === ERROR) return ERROR;
      const candidates = Array.isArray(candidate) ? candidate : [candidate];
      if (candidates.some((each) => equals(value, each))) return !negated;
    }
    return negated;
  };
}

function tooDeep(ast) {
  const [start, end] = ast?.span ?? [0, 1];
  return new ExprError("too_deep", "the expression is nested too deeply to evaluate", start, end,
    "use helper formula fields for the inner parts");
}

function isStackOverflow(error) {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/** Compile ast once into a function of a context (throws ExprError for a bad call). */
export function compile(ast, { maxSteps = DEFAULT_MAX_STEPS } = {}) {
  let run;
  try {
    run = compileNode(ast);
  } catch (error) {
    throw isStackOverflow(error) ? tooDeep(ast) : error;
  }
  return (context) => {
    const frame = new Frame(context, context, new Budget(maxSteps));
    let value;
    try {
      value = run(frame);
    } catch (error) {
      throw isStackOverflow(error) ? tooDeep(ast) : error;
    }
    return value === ERROR ? null : value; // by decision (types.py) an error is a blank result
  };
}

/** Evaluate ast against context once. */
export function evaluate(ast, context, options = {}) {
  return compile(ast, options)(context);
}
