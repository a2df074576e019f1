/**
 * Go's time.ParseDuration, exactly: the accepted syntax (`1h30m`, `1.5s`, `-2ms`, `0`, the
 * units ns us µs μs ms s m h), int64 overflow, and the error texts BuildKit passes on.
 */
import { toBinary } from '../parser/gostring.js';

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  [toBinary('\u00b5s'), 1_000n], // micro sign
  [toBinary('\u03bcs'), 1_000n], // Greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const MAX_MAGNITUDE = 1n << 63n;

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

/** The time package's own quoting: bytes outside printable ASCII as \xNN. */
function timeQuote(bin: string): string {
  let out = '"';
  for (let i = 0; i < bin.length; i++) {
    const b = bin.charCodeAt(i);
    if (b >= 0x80 || b < 0x20) out += '\\x' + b.toString(16).padStart(2, '0');
    else if (b === 0x22 || b === 0x5c) out += '\\' + bin[i];
    else out += bin[i];
  }
  return out + '"';
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';

/** Parse a Go duration; returns nanoseconds. Throws DurationError with Go's message. */
export function parseGoDuration(text: string): bigint {
  const orig = toBinary(text);
  const invalid = (): DurationError => new DurationError(`time: invalid duration ${timeQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();

  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();

    // Integer part; overflow of the integer part is an error.
    let i = 0;
    let whole = 0n;
    while (isDigit(s[i])) {
      if (whole > MAX_MAGNITUDE / 10n) throw invalid();
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole > MAX_MAGNITUDE) throw invalid();
      i++;
    }
    const hasWhole = i > 0;
    s = s.slice(i);

    // Fraction: digits past what fits are ignored, as Go does.
    let frac = 0n;
    let scale = 1;
    let hasFrac = false;
    if (s[0] === '.') {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      while (isDigit(s[j])) {
        if (!overflow) {
          const next = frac * 10n + BigInt(s.charCodeAt(j) - 48);
          if (frac > MAX_MAGNITUDE / 10n || next > MAX_MAGNITUDE) overflow = true;
          else {
            frac = next;
            scale *= 10;
          }
        }
        j++;
      }
      hasFrac = j > 0;
      s = s.slice(j);
    }
    if (!hasWhole && !hasFrac) throw invalid();

    let u = 0;
    while (u < s.length && s[u] !== '.' && !isDigit(s[u])) u++;
    if (u === 0) throw new DurationError(`time: missing unit in duration ${timeQuote(orig)}`);
    const unitText = s.slice(0, u);
    s = s.slice(u);
    const unit = UNITS.get(unitText);
    if (unit === undefined) {
      throw new DurationError(`time: unknown unit ${timeQuote(unitText)} in duration ${timeQuote(orig)}`);
    }

    if (whole > MAX_MAGNITUDE / unit) throw invalid();
    let v = whole * unit;
    if (frac > 0n) {
      // float64 arithmetic, truncated, like Go's uint64(float64(f) * (float64(unit) / scale)).
      v += BigInt(Math.trunc(Number(frac) * (Number(unit) / scale)));
      if (v > MAX_MAGNITUDE) throw invalid();
    }
    total += v;
    if (total > MAX_MAGNITUDE) throw invalid();
  }
  if (neg) return -total;
  if (total > MAX_MAGNITUDE - 1n) throw invalid();
  return total;
}
