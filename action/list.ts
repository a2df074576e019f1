/**
 * A list input read as docker/build-push-action reads it: the text parsed as CSV the way its
 * CSV library does with relaxed quotes (lines are records, commas separate fields, a field that
 * starts with `"` is quoted and may hold commas, line breaks and `""`; a quote anywhere else is
 * text, and a closing quote followed by more text keeps the field's quotes), empty lines skipped, then each
 * record either split at its commas or joined back with them (`ignoreComma`), empty items
 * dropped and the rest trimmed. `#` starts no comment: build-push-action asks for none, so a
 * line `# x` is an item like any other.
 */
import { BuildError } from '../errors/index.js';

export interface ListOptions {
  /** Keep a record whole (its fields joined by commas) instead of splitting it into items. */
  readonly ignoreComma?: boolean;
  /** `false`: a `"` is an ordinary character (build-push-action's `outputs`). */
  readonly quote?: boolean;
  /** `false`: items keep their surrounding white space (build-push-action's `secrets`). */
  readonly trimWhitespace?: boolean;
}

/** The line break that ends records: the first one met outside quotes (`\r\n`, `\n` or `\r`). */
function recordBreakAt(text: string, i: number, known: string | undefined): string | undefined {
  const c = text[i];
  if (known !== undefined) return text.startsWith(known, i) ? known : undefined;
  if (c === '\r') return text[i + 1] === '\n' ? '\r\n' : '\r';
  if (c === '\n') return '\n';
  return undefined;
}

/** The records of `text` (each a list of fields), as the CSV parser returns them. */
export function csvRecords(name: string, text: string, quote: boolean): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  // The field was quoted: even empty, it makes its line a record.
  let quoted = false;
  let lineBreak: string | undefined;
  const endField = () => {
    fields.push(field);
    field = '';
    quoted = false;
  };
  const endRecord = () => {
    // An empty line (one empty, unquoted field) is skipped.
    const empty = fields.length === 0 && field === '' && !quoted;
    endField();
    if (!empty) records.push(fields);
    fields = [];
  };
  let i = 0;
  while (i < text.length) {
    if (quote && field === '' && !quoted && text[i] === '"') {
      // A quoted field: up to the quote that is not doubled.
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= text.length) throw new BuildError('USAGE', `input "${name}": a quote is not closed`, { hint: 'close the quoted item with "' });
        if (text[j] === '"') {
          if (text[j + 1] !== '"') break;
          value += '"';
          j += 2;
          continue;
        }
        value += text[j];
        j++;
      }
      const after = j + 1;
      if (after >= text.length || text[after] === ',' || recordBreakAt(text, after, lineBreak) !== undefined) {
        field = value;
        quoted = true;
      } else {
        // Text after the closing quote: the field keeps its quotes (doubled ones read as one) and goes on.
        field = `"${value}"`;
      }
      i = after;
      continue;
    }
    if (text[i] === ',') {
      endField();
      i++;
      continue;
    }
    const br = recordBreakAt(text, i, lineBreak);
    if (br !== undefined) {
      lineBreak = br;
      endRecord();
      i += br.length;
      continue;
    }
    field += text[i];
    i++;
  }
  if (field !== '' || quoted || fields.length > 0) endRecord();
  return records;
}

/** The items of a list input's text. */
export function parseList(name: string, text: string, opts: ListOptions = {}): string[] {
  if (text === '') return [];
  const items: string[] = [];
  for (const record of csvRecords(name, text, opts.quote !== false)) {
    if (record.length === 1) items.push(...(opts.ignoreComma === true ? record : record[0]!.split(',')));
    else if (opts.ignoreComma === true) items.push(record.join(','));
    else items.push(...record);
  }
  // Empty items go before trimming: an item of spaces only stays, as an empty one.
  return items.filter((item) => item !== '').map((item) => (opts.trimWhitespace === false ? item : item.trim()));
}
