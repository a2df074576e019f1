/**
 * What a COPY's key holds of each selected entry, kept beside the checksum so that a later
 * miss can name the files that changed: path → a short digest of the entry's line in the
 * checksum (type, permission bits, content hash, link target). Bounded: past MAX_PATHS entries
 * only the count is kept, so a `COPY . .` of a large context stays small in a cache record.
 */
import { posix } from 'node:path';
import { shortDigest, type FileDigests } from '../../core/index.js';

/** How many entries a record lists by path at most (about 40 bytes each in the record). */
export const MAX_PATHS = 64;

export class EntryDigests {
  private source = '';
  private count = 0;
  private paths: Record<string, string> | undefined = {};
  constructor(private readonly cap: number = MAX_PATHS) {}

  /** One line the checksum hashes (its fields joined by NULs): sources and entries are kept. */
  line(line: string): void {
    if (line.startsWith('source\0')) {
      this.source = line.slice('source\0'.length);
      return;
    }
    if (!line.startsWith('entry\0')) return;
    this.count++;
    if (this.paths === undefined) return;
    if (this.count > this.cap) {
      this.paths = undefined;
      return;
    }
    const start = 'entry\0'.length;
    const end = line.indexOf('\0', start);
    const sub = line.slice(start, end);
    const path = sub === '' ? this.source : posix.join(this.source, sub);
    this.paths[path] = shortDigest(line.slice(end + 1));
  }

  /** The digests of the entries seen, with `sum` (the checksum) shortened. */
  result(sum: string): FileDigests {
    return { count: this.count, sum: shortDigest(sum), ...(this.paths === undefined ? {} : { paths: this.paths }) };
  }
}
