/**
 * One comma-separated record, as BuildKit reads `--mount` and `--device` values (Go's csv
 * rules on a single line: `"…"` quoting with `""` for a quote, no quote inside a bare field).
 */

export class CsvError extends Error {
  override readonly name = 'CsvError';
}

/** Go's csv.ParseError text; `offset` is the 0-based byte offset of the problem. */
function csvError(offset: number, reason: string): CsvError {
  return new CsvError(`parse error on line 1, column ${offset + 1}: ${reason}`);
}

const BARE_QUOTE = 'bare " in non-quoted-field';
const BAD_QUOTE = 'extraneous or missing " in quoted-field';

/** Split a record into fields. An empty record is Go's io.EOF ("EOF"). */
export function csvFields(input: string): string[] {
  // Offsets in errors count UTF-8 bytes, so work on the UTF-8 bytes as a binary string.
  let line = Buffer.from(input, 'utf8').toString('latin1');
  if (line.endsWith('\r\n')) line = line.slice(0, -2);
  else if (line.endsWith('\n')) line = line.slice(0, -1);
  if (line === '') throw new CsvError('EOF');

  const fields: string[] = [];
  let pos = 0;
  for (;;) {
    if (line[pos] !== '"') {
      const comma = line.indexOf(',', pos);
      const end = comma < 0 ? line.length : comma;
      const field = line.slice(pos, end);
      const quote = field.indexOf('"');
      if (quote >= 0) throw csvError(pos + quote, BARE_QUOTE);
      fields.push(field);
      if (comma < 0) break;
      pos = comma + 1;
      continue;
    }
    // Quoted field: runs to the closing quote; `""` inside stands for one quote.
    pos++;
    let field = '';
    for (;;) {
      const close = line.indexOf('"', pos);
      if (close < 0) throw csvError(pos, BAD_QUOTE);
      field += line.slice(pos, close);
      pos = close + 1;
      if (line[pos] === '"') {
        field += '"';
        pos++;
        continue;
      }
      if (line[pos] === ',' || pos === line.length) break;
      throw csvError(pos - 1, BAD_QUOTE);
    }
    fields.push(field);
    if (pos === line.length) break;
    pos++; // the comma
  }
  return fields.map((f) => Buffer.from(f, 'latin1').toString('utf8'));
}
