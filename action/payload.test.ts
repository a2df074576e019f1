import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tsbuildCommand } from './payload.js';

describe('tsbuildCommand (the repository checkout)', () => {
  it("is this Node running the checkout's bin/tsbuild.js", async () => {
    const cmd = await tsbuildCommand({});
    expect(cmd[0]).toBe(process.execPath);
    expect(cmd[1]).toMatch(/\/bin\/tsbuild\.js$/);
    expect(existsSync(cmd[1]!)).toBe(true);
  });
});
