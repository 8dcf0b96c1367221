// Exact decimal arithmetic on BigInt: the few places where the Python evaluator uses
// decimal.Decimal (15-significant-digit rounding, ROUND/MOD/CEILING/FLOOR, TEXT number formats).
//
// A decimal is a plain object {neg, c, e}: the value (-1)^neg * c * 10^e, with c a BigInt >= 0.
// Operations that Python runs in Decimal's default context round to PREC (28) digits, half to even.

export const PREC = 28;
const MAX_EXPONENT = 999999; // Decimal's default Emax: beyond it Python raises Overflow

/** Thrown where Python raises an ArithmeticError/ValueError: the caller turns it into ERROR. */
export class ValueFault extends Error {}

const POWERS = [];
export function pow10(n) {
  if (n < 64) return (POWERS[n] ??= 10n ** BigInt(n));
  if (n > 4_000_000) throw new ValueFault("exponent too large");
  return 10n ** BigInt(n);
}

export function digitCount(c) {
  return c === 0n ? 1 : c.toString().length;
}

/** The exact decimal value of the double x. */
export function exact(x) {
  if (x === 0) return { neg: Object.is(x, -0), c: 0n, e: 0 };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  const neg = hi >>> 31 === 1;
  if (exponent >= 0) return { neg, c: mantissa << BigInt(exponent), e: 0 };
  return { neg, c: mantissa * 5n ** BigInt(-exponent), e: exponent };
}

/** Parse "-12.5e3", "0.000123", "1.00000000000000e+21" (what toPrecision/String give). */
export function parseDecimal(text) {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text);
  if (!match) throw new ValueFault(`not a decimal: ${text}`);
  const fraction = match[3] ?? "";
  const digits = (match[2] + fraction).replace(/^0+(?=\d)/, "") || "0";
  return { neg: match[1] === "-", c: BigInt(digits), e: Number(match[4] ?? 0) - fraction.length };
}

/** c / 10^drop rounded by mode ("down" "up" "ceiling" "floor" "half_up" "half_even"). */
export function shiftRound(c, drop, mode, neg, sticky = false) {
  if (drop <= 0) return c * pow10(-drop);
  const size = pow10(drop);
  const q = c / size;
  const r = c % size;
  if (r === 0n && !sticky) return q;
  const twice = r * 2n;
  const above = twice > size || (twice === size && sticky);
  switch (mode) {
    case "down":
      return q;
    case "up":
      return q + 1n;
    case "ceiling":
      return neg ? q : q + 1n;
    case "floor":
      return neg ? q + 1n : q;
    case "half_up":
      return above || twice === size ? q + 1n : q;
    default: // half_even
      return above || (twice === size && (q & 1n) === 1n) ? q + 1n : q;
  }
}

/** d rounded to at most prec significant digits (half even), as Decimal's context does. */
export function roundPrecision(d, prec = PREC, sticky = false) {
  const drop = digitCount(d.c) - prec;
  if (drop <= 0 && !sticky) return d;
  let c = shiftRound(d.c, Math.max(drop, 0), "half_even", d.neg, sticky);
  let e = d.e + Math.max(drop, 0);
  if (digitCount(c) > prec) {
    c /= 10n;
    e += 1;
  }
  if (c !== 0n && e + digitCount(c) - 1 > MAX_EXPONENT) throw new ValueFault("decimal overflow");
  return { neg: d.neg, c, e };
}

/** d rounded to the exponent e (Decimal.quantize); ValueFault when the result needs > maxDigits. */
export function quantize(d, e, mode, maxDigits = Infinity) {
  const c = shiftRound(d.c, e - d.e, mode, d.neg);
  if (digitCount(c) > maxDigits) throw new ValueFault("quantize result too long");
  return { neg: d.neg, c, e };
}

export function toIntegral(d, mode) {
  return d.e >= 0 ? d : quantize(d, 0, mode);
}

/** The double nearest to d (float(Decimal) in Python). */
export function toNumber(d) {
  if (d.c === 0n) return d.neg ? -0 : 0;
  const text = d.c.toString();
  const kept = text.replace(/0+$/, "");
  const exponent = d.e + (text.length - kept.length);
  if (exponent + kept.length - 1 > 400) return d.neg ? -Infinity : Infinity;
  if (exponent + kept.length - 1 < -400) return d.neg ? -0 : 0;
  return Number(`${d.neg ? "-" : ""}${kept}e${exponent}`);
}

function signed(d) {
  return d.neg ? -d.c : d.c;
}

function fromSigned(value, e, negZero = false) {
  return { neg: value < 0n || (value === 0n && negZero), c: value < 0n ? -value : value, e };
}

export function add(a, b) {
  const e = Math.min(a.e, b.e);
  if (Math.abs(a.e - b.e) > 4_000_000) throw new ValueFault("exponents too far apart");
  const sum = signed(a) * pow10(a.e - e) + signed(b) * pow10(b.e - e);
  return roundPrecision(fromSigned(sum, e, a.neg && b.neg));
}

export function multiply(a, b) {
  return roundPrecision({ neg: a.neg !== b.neg, c: a.c * b.c, e: a.e + b.e });
}

/** a / b rounded to PREC digits (b is not zero). */
export function divide(a, b) {
  const neg = a.neg !== b.neg;
  if (a.c === 0n) return { neg, c: 0n, e: 0 };
  const shift = Math.max(0, PREC + 2 + digitCount(b.c) - digitCount(a.c));
  const scaled = a.c * pow10(shift);
  const q = scaled / b.c;
  const sticky = scaled % b.c !== 0n;
  return roundPrecision({ neg, c: q, e: a.e - b.e - shift }, PREC, sticky);
}

function adjusted(d) {
  return d.e + digitCount(d.c) - 1;
}

/** Python's Decimal a % b: the sign of a; ValueFault when the quotient needs more than PREC digits. */
export function remainder(a, b) {
  const ideal = Math.min(a.e, b.e);
  const shift = adjusted(a) - adjusted(b);
  if (a.c === 0n || shift <= -2) return { neg: a.neg, c: a.c * pow10(a.e - ideal), e: ideal };
  if (shift <= PREC) {
    const x = a.c * pow10(a.e - ideal);
    const y = b.c * pow10(b.e - ideal);
    if (x / y < pow10(PREC)) return { neg: a.neg, c: x % y, e: ideal };
  }
  throw new ValueFault("quotient too large in %");
}

export function isZero(d) {
  return d.c === 0n;
}

/** f"{d:f}": fixed-point text, sign kept (even on zero, as Decimal does). */
export function fixed(d) {
  let text = d.c.toString();
  if (d.e > 0) text += "0".repeat(d.e);
  else if (d.e < 0) {
    text = text.padStart(-d.e + 1, "0");
    text = `${text.slice(0, d.e)}.${text.slice(d.e)}`;
  }
  return (d.neg ? "-" : "") + text;
}
