/**
 * Writing to standard output without process.stdout. Making that stream loads node:stream,
 * and node:net for a pipe, a few milliseconds at every start for what is mostly one line (an
 * image id, a table); a blocking write(2) to fd 1 is what the stream would end up doing for a
 * file or a terminal anyway. When fd 1 turns out to be non-blocking and full (EAGAIN), the
 * rest and everything after go through process.stdout, which waits for it properly.
 */
import { writeSync } from 'node:fs';

/** A closed reader (`tsbuild images | head`) ends the output, not the program with a stack. */
function onStreamError(e: NodeJS.ErrnoException): never {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
}

export type StdoutWriter = (data: string | Uint8Array) => void;

export function stdoutWriter(fd = 1): StdoutWriter {
  let stream: NodeJS.WriteStream | undefined;
  const viaStream = (data: Uint8Array): void => {
    if (stream === undefined) {
      stream = process.stdout;
      stream.on('error', onStreamError);
    }
    stream.write(data);
  };
  return (chunk) => {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (stream !== undefined) return viaStream(data);
    let done = 0;
    while (done < data.length) {
      try {
        done += writeSync(fd, data, done);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return viaStream(data.subarray(done));
        onStreamError(e as NodeJS.ErrnoException);
      }
    }
  };
}
