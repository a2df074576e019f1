/** The few Go number and boolean parsers whose exact accept/reject rules BuildKit relies on. */

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool; undefined when the text is not one of Go's boolean spellings. */
export function goParseBool(s: string): boolean | undefined {
  if (TRUE_WORDS.has(s)) return true;
  if (FALSE_WORDS.has(s)) return false;
  return undefined;
}

/**
 * strconv.ParseUint with an explicit base (8 or 10) and bit size: digits only (no sign, no
 * underscores, no prefix), non-empty, within range. Undefined when rejected.
 */
export function goParseUint(s: string, base: 8 | 10, bits: 16 | 32 | 64): bigint | undefined {
  if (s === '') return undefined;
  const max = (1n << BigInt(bits)) - 1n;
  let v = 0n;
  for (const c of s) {
    const d = c.charCodeAt(0) - 48;
    if (d < 0 || d >= base) return undefined;
    v = v * BigInt(base) + BigInt(d);
    if (v > max) return undefined;
  }
  return v;
}

/**
 * strconv.ParseInt with an explicit base and bit size: an optional sign then digits.
 * `{ value }` on success; `{ error }` is Go's reason ("invalid syntax" / "value out of range").
 */
export function goParseInt(
  s: string,
  base: 8 | 10,
  bits: 16 | 32 | 64,
): { readonly value: bigint } | { readonly error: 'invalid syntax' | 'value out of range' } {
  let body = s;
  let neg = false;
  if (body[0] === '+' || body[0] === '-') {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  if (body === '') return { error: 'invalid syntax' };
  let v = 0n;
  for (const c of body) {
    const d = c.charCodeAt(0) - 48;
    if (d < 0 || d >= base) return { error: 'invalid syntax' };
    v = v * BigInt(base) + BigInt(d);
  }
  const limit = 1n << BigInt(bits - 1);
  if (neg ? v > limit : v >= limit) return { error: 'value out of range' };
  return { value: neg ? -v : v };
}

/**
 * strconv.ParseFloat for the decimal forms that can reach it here: optional sign, digits with an
 * optional point, optional exponent. Undefined when rejected.
 */
export function goParseDecimalFloat(s: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
  return Number(s);
}
