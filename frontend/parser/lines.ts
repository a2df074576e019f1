/**
 * Physical lines of a Dockerfile, read the way BuildKit's scanner reads them: split after each
 * "\n" (the ending is kept), a line longer than the scanner's 64 KiB token limit ends the file
 * with an error, and only the first line loses a byte-order mark.
 */

/** bufio.MaxScanTokenSize: a line, with its "\n", may not be longer. */
export const MAX_LINE_BYTES = 64 * 1024;

export interface PhysicalLine {
  /** The line's bytes as a binary string, line ending included. */
  readonly text: string;
  /** Byte offset of the line in the file. */
  readonly offset: number;
}

export class LineReader {
  private pos = 0;
  /** Lines handed out so far. */
  count = 0;
  /** Set when reading stopped at a line over the size limit. */
  tooLong = false;

  constructor(private readonly data: string) {}

  /** The next line, or undefined at the end of the file or at an over-long line. */
  next(): PhysicalLine | undefined {
    if (this.tooLong || this.pos >= this.data.length) return undefined;
    const nl = this.data.indexOf('\n', this.pos);
    const end = nl < 0 ? this.data.length : nl + 1;
    // A final line without "\n" fails one byte earlier: the scanner's buffer fills up
    // before it learns that the input has ended.
    const limit = nl < 0 ? MAX_LINE_BYTES - 1 : MAX_LINE_BYTES;
    if (end - this.pos > limit) {
      this.tooLong = true;
      return undefined;
    }
    const line = { text: this.data.slice(this.pos, end), offset: this.pos };
    this.pos = end;
    this.count++;
    return line;
  }
}

/** bytes.TrimRight(line, "\r\n") */
export function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 0x0a && c !== 0x0d) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

const BOM = '\xef\xbb\xbf';

export function discardBOM(s: string): string {
  return s.startsWith(BOM) ? s.slice(3) : s;
}

/**
 * If the line ends with the escape character (then only spaces or tabs), it continues on the
 * next line: returns the line without that escape and the blanks after it. An escape that is
 * itself escaped (two in a row) does not continue the line.
 */
export function trimContinuation(line: string, escape: string): { text: string; continues: boolean } {
  let end = line.length;
  while (end > 0) {
    const c = line.charCodeAt(end - 1);
    if (c !== 0x20 && c !== 0x09) break;
    end--;
  }
  if (end === 0 || line[end - 1] !== escape || (end >= 2 && line[end - 2] === escape)) {
    return { text: line, continues: false };
  }
  return { text: line.slice(0, end - 1), continues: true };
}
