/** Docker's RAMInBytes (go-units): `64m`, `1.5GiB`, `512 kb`, `100` — binary multiples. */
import { goParseDecimalFloat } from './gostrconv.js';

const MULTIPLIERS: Readonly<Record<string, number>> = {
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** Bytes, or a string with go-units' reason when the text is rejected. */
export function ramInBytes(text: string): number | string {
  let sep = -1;
  for (let i = text.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(text[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep < 0) return `invalid size: '${text}'`;
  // A space between number and suffix is dropped.
  const num = text[sep] === ' ' ? text.slice(0, sep) : text.slice(0, sep + 1);
  const rawSuffix = text.slice(sep + 1);
  const size = goParseDecimalFloat(num);
  if (size === undefined) return `strconv.ParseFloat: parsing "${num}": invalid syntax`;
  if (size < 0) return `invalid size: '${text}'`;
  if (rawSuffix === '') return Math.trunc(size);

  const suffix = rawSuffix.toLowerCase();
  const bad = `invalid suffix: '${rawSuffix.length > 3 ? rawSuffix : suffix}'`;
  if (suffix.length > 3) return bad;
  if (suffix[0] === 'b') return suffix.length === 1 ? Math.trunc(size) : bad;
  const mul = MULTIPLIERS[suffix[0]!];
  if (mul === undefined) return bad;
  if (suffix.length === 2 && suffix[1] !== 'b') return bad;
  if (suffix.length === 3 && suffix.slice(1) !== 'ib') return bad;
  return Math.trunc(size * mul);
}
