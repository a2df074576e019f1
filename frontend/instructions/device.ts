/**
 * `RUN --device=…` (CDI device requests): `name[,required[=bool]]` or `name=…,required=…`.
 * A first field that is not a known key is the device name, even when it contains `=`
 * (CDI names such as `vendor.com/class=device` do).
 */
import type { SourceRange } from '../../errors/index.js';
import type { RunDevice } from './types.js';
import { CsvError, csvFields } from './csv.js';
import { fail, hintFor } from './errors.js';
import { goParseBool } from './gostrconv.js';

export function parseRunDevice(value: string, range?: SourceRange): RunDevice {
  let list: string[];
  try {
    list = csvFields(value);
  } catch (e) {
    if (e instanceof CsvError) fail('BAD_FLAG', `failed to parse csv devices: ${e.message}`, range);
    throw e;
  }
  let name = '';
  let required = false;
  for (const field of list) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'required') required = true;
      else if (name === '') name = field;
      else fail('BAD_FLAG', `invalid field '${field}' must be a key=value pair`, range);
      continue;
    }
    const v = field.slice(eq + 1);
    switch (key) {
      case 'name':
        if (name !== '') fail('BAD_FLAG', `device name already set to ${name}`, range);
        name = v;
        break;
      case 'required': {
        const b = goParseBool(v);
        if (b === undefined) fail('BAD_FLAG', `invalid value for ${key}: ${v}`, range);
        required = b;
        break;
      }
      default:
        if (name !== '') {
          fail('BAD_FLAG', `unexpected key '${key}' in '${field}'`, range, hintFor(key, ['name', 'required'], true));
        }
        name = field;
    }
  }
  return { name, required };
}
