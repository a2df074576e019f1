import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stdoutWriter } from './stdout.js';

// The built module, for child processes whose fd 1 is a pipe (`npm test` builds first).
const built = resolve(fileURLToPath(new URL('../dist/cli/stdout.js', import.meta.url)));

/** A child that writes `count` lines of `size` bytes (line i all of letter i mod 26) through stdoutWriter. */
function writerScript(count: number, size: number, touchStdout: boolean): string {
  return (
    `import(${JSON.stringify(built)}).then(({ stdoutWriter }) => {` +
    // process.stdout on a pipe makes fd 1 non-blocking, as a parent's stream may leave it.
    (touchStdout ? 'void process.stdout;' : '') +
    'const write = stdoutWriter();' +
    `for (let i = 0; i < ${count}; i++) write(String.fromCharCode(97 + (i % 26)).repeat(${size - 1}) + '\\n');` +
    '});'
  );
}

function expectLines(out: Buffer, count: number, size: number): void {
  expect(out.length).toBe(count * size);
  for (let i = 0; i < count; i++) {
    const line = out.subarray(i * size, (i + 1) * size).toString();
    expect(line).toBe(String.fromCharCode(97 + (i % 26)).repeat(size - 1) + '\n');
  }
}

describe('stdoutWriter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsbuild-stdout-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes strings and bytes, in order, to the descriptor', () => {
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    try {
      const write = stdoutWriter(fd);
      write('sha256:');
      write(new Uint8Array([0x61, 0x62]));
      write('ü\n');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(file, 'utf8')).toBe('sha256:abü\n');
  });

  it('writes everything to a blocking pipe', () => {
    const r = spawnSync(process.execPath, ['-e', writerScript(300, 10_000, false)], { maxBuffer: 1 << 25 });
    expect(r.status).toBe(0);
    expectLines(r.stdout, 300, 10_000);
  });

  it('hands over to process.stdout when a non-blocking pipe is full, losing and reordering nothing', async () => {
    const child = spawn(process.execPath, ['-e', writerScript(200, 50_000, true)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.pause(); // the pipe fills up before anything is read
    await new Promise((r) => setTimeout(r, 300));
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stdout.resume();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expectLines(Buffer.concat(chunks), 200, 50_000);
  });

  it('ends quietly, with status 0, when the reader goes away', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" -e "$SCRIPT" | head -c 10 >/dev/null`], {
      env: { ...process.env, SCRIPT: writerScript(1000, 10_000, false) },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
