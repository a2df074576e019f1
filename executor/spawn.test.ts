/** startWithInput: the addon's posix_spawn with the input on fd 0 and three pipes back. */
import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { startWithInput } from './spawn.js';

function text(stream: Socket): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => stream.once('close', () => resolve(Buffer.concat(chunks).toString('utf8'))));
}

describe('startWithInput', () => {
  it('gives the child its input on fd 0, whatever its size, and its fd 1 back', async () => {
    const input = 'x'.repeat(3 << 20) + '\nend\n';
    const child = startWithInput('/bin/cat', Buffer.from(input));
    const [out, err] = [text(child.stdout), text(child.stderr)];
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(await out).toBe(input);
    expect(await err).toBe('');
  });

  it('reports the exit status and a kill', async () => {
    expect(await startWithInput('/bin/false', Buffer.alloc(0)).exited).toEqual({ code: 1, signal: null });
    const sleeper = startWithInput('/bin/sh', Buffer.from('exec sleep 30\n'));
    sleeper.kill();
    expect(await sleeper.exited).toEqual({ code: null, signal: 'SIGKILL' });
    sleeper.kill(); // reaped: a no-op, never a signal to a recycled pid
  });

  it('throws as child_process does for a missing file', () => {
    expect(() => startWithInput('/nonexistent/tsbuild-runner', Buffer.alloc(0))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
