// Checks that no shipped module grows past MAX lines unless its top comment says why it is one
// file ("Why one file: ..."). Run by `npm run deps` in .ci/run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX = 400;
const NOT_SHIPPED = /(^test\/|\.test\.ts$|(^|\/)testing\.ts$|(^|\/)suite\.ts$|^scripts\/)/;
const files = execFileSync('git', ['ls-files', '*.ts'], { encoding: 'utf8' }).split('\n').filter((f) => f !== '' && !NOT_SHIPPED.test(f));
const long = [];
for (const f of files) {
  const text = readFileSync(f, 'utf8');
  const lines = text.split('\n').length;
  if (lines <= MAX) continue;
  const header = text.slice(0, text.indexOf('*/') + 2);
  if (!header.includes('Why one file:')) long.push(`${f}: ${lines} lines`);
}
if (long.length > 0) {
  console.error(`modules over ${MAX} lines without "Why one file:" in their top comment:\n  ${long.join('\n  ')}`);
  process.exit(1);
}
console.log(`module sizes: ${files.length} shipped modules, none over ${MAX} lines without a reason`);
