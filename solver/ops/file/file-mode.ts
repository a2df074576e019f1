/**
 * A parsed mode (`COPY --chmod`) applied to a file's own mode, with no umask, as BuildKit
 * applies it: octal modes replace the permission bits, symbolic clauses change them.
 */
import type { FileMode } from '../../core/index.js';

type Op = '+' | '-' | '=';

// Mode bits.
const SETUID = 0o4000;
const SETGID = 0o2000;
const STICKY = 0o1000;
const ALL_RWX = 0o777;
const STANDARD = SETUID | SETGID | ALL_RWX; // what `a` and a bare `=` cover (not sticky)
const WHO_BITS: Readonly<Record<string, number>> = { a: STANDARD, u: SETUID | 0o700, g: SETGID | 0o070, o: 0o007 };
const CLASS_SHIFT: Readonly<Record<string, number>> = { u: 6, g: 3, o: 0 };

/**
 * The mode a file ends up with: `mode` is its current mode (permission, setuid/setgid and
 * sticky bits; higher bits are kept), `isDir` makes `X` apply.
 */
export function applyChmod(chmod: FileMode, mode: number, isDir: boolean): number {
  if (chmod.kind === 'octal') return (mode & ~0o7777) | chmod.mode;
  const original = mode & 0o7777;
  let m = original;
  // Conditional execute (`X`): only for directories or files already executable by someone.
  const xApplies = isDir || (original & 0o111) !== 0;

  for (const clause of chmod.clauses) {
    let whoBase = 0;
    for (const w of clause.who) whoBase |= WHO_BITS[w]!;
    for (const { op, perms } of clause.actions) {
      let who = whoBase; // `t` may widen who for this action only
      const pick = (bits: number): number => (who === 0 ? bits : who & bits);
      const setOrClear = (o: Op, bits: number): void => {
        if (o === '=') {
          m &= ~(who === 0 ? STANDARD : who);
          m |= pick(bits);
        } else if (o === '+') m |= pick(bits);
        else m &= ~pick(bits);
      };
      const copyFrom = (src: string): void => {
        const value = (m >> CLASS_SHIFT[src]!) & 7;
        for (const shift of Object.values(CLASS_SHIFT)) {
          // With no who, every class is a target; else the classes named (by their read bit).
          if (who !== 0 && (who & (0o4 << shift)) === 0) continue;
          if (op !== '+') m &= ~((op === '=' ? 7 : value) << shift);
          if (op !== '-') m |= value << shift;
        }
      };

      let bits = 0;
      let xBits = 0;
      let equalDone = false;
      for (const p of perms) {
        switch (p) {
          case 'r':
            bits |= 0o444;
            break;
          case 'w':
            bits |= 0o222;
            break;
          case 'x':
            bits |= 0o111;
            break;
          case 'X':
            if (op === '-') bits |= 0o111;
            else xBits = 0o111;
            break;
          case 's':
            if (who === 0 || (who & ~0o007) !== 0) bits |= SETUID | SETGID;
            break;
          case 't':
            if (who === 0 || (who & ~0o007) !== 0) {
              who |= STICKY;
              bits |= STICKY;
            }
            break;
          default: // u g o: copy that class's current bits
            if (bits !== 0) setOrClear(op, bits);
            bits = 0;
            if (op === '=') equalDone = true;
            if (xBits !== 0 && xApplies) m |= pick(xBits);
            xBits = 0;
            copyFrom(p);
        }
      }
      if (bits !== 0 || (op === '=' && !equalDone)) setOrClear(op, bits);
      if (xBits !== 0 && xApplies) m |= pick(xBits);
    }
  }
  return (mode & ~0o7777) | m;
}
