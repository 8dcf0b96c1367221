// The function registry of the browser interpreter: each function once, with its signature and code.
//
// A spec lists the parameters as in engine/expr/functions: "range ?condition" (a leading ? marks an
// optional parameter), "(value result) ?default" (a repeated group, at least once, then an optional
// tail). Implementations:
//   eager   impl(...values)            not called when an argument is ERROR (the result is ERROR)
//   context impl(record, ...values)    TODAY(), NOW(), CURRENT_USER() read the record's context
//   lazy    impl(frame, args)          args[i].run(frame) evaluates; args[i].rows(frame) for a path
// An implementation returns ERROR for its failures, or throws ValueFault.

export const FUNCTIONS = Object.create(null);

function parseSpec(spec) {
  const params = [];
  const repeat = [];
  let tail = null;
  let inGroup = false;
  for (const word of spec.split(/\s+/).filter(Boolean)) {
    const opening = word.startsWith("(");
    const closing = word.endsWith(")");
    const name = word.replace(/[()]/g, "");
    if (opening) inGroup = true;
    if (inGroup) repeat.push(name);
    else if (repeat.length) tail = name.replace(/^\?/, "");
    else params.push({ name: name.replace(/^\?/, ""), optional: name.startsWith("?") });
    if (closing) inGroup = false;
  }
  return { params, repeat, tail };
}

/** Register `impl` as `name`; flags: "lazy" or "context". */
export function register(name, spec, impl, flag = null) {
  if (name in FUNCTIONS) throw new Error(`the function ${name} is registered twice`);
  const { params, repeat, tail } = parseSpec(spec);
  FUNCTIONS[name] = Object.freeze({
    name,
    params,
    repeat,
    tail,
    impl,
    lazy: flag === "lazy",
    needsContext: flag === "context",
    minArgs: params.filter((p) => !p.optional).length + repeat.length,
    maxArgs: repeat.length ? null : params.length,
  });
}

/** Whether a call of `fn` with `count` arguments is well-formed (Function.accepts_count). */
export function acceptsCount(fn, count) {
  if (count < fn.minArgs || (fn.maxArgs !== null && count > fn.maxArgs)) return false;
  const rest = count - fn.params.length;
  if (fn.repeat.length < 2 || rest < 0) return true;
  return rest % fn.repeat.length === 0 || (fn.tail !== null && rest % fn.repeat.length === 1);
}

/** "IF(logical_test, value_if_true, [value_if_false])" (Function.signature). */
export function signature(fn) {
  const parts = fn.params.map((p) => (p.optional ? `[${p.name}]` : p.name));
  if (fn.repeat.length) parts.push(`${fn.repeat.join(", ")}, ...`);
  if (fn.tail !== null) parts.push(`[${fn.tail}]`);
  return `${fn.name}(${parts.join(", ")})`;
}
