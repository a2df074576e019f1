import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOutputPaths } from './output-paths.js';
import { resolveOutputs } from './outputs.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbuild-output-paths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = join(dir, 'file');
writeFileSync(file, 'x');
const sub = join(dir, 'sub');
mkdirSync(sub);
const fifo = join(dir, 'fifo');
execFileSync('mkfifo', [fifo]);
const link = join(dir, 'link');
symlinkSync(file, link);

const check = (specs: string[], side: { iidfile?: string; metadataFile?: string } = {}) => () => checkOutputPaths(resolveOutputs(specs, [], false), side);
const usage = (f: () => void, message: string) => expect(f).toThrow(expect.objectContaining({ code: 'USAGE', message }));

describe('output paths checked before the build', () => {
  it('takes new paths below missing directories for outputs, existing files and directories of the right kind', () => {
    expect(check([`type=local,dest=${join(dir, 'a/b/c')}`, `type=tar,dest=${join(dir, 'd/e.tar')}`, `type=oci,dest=${file}`, `type=local,dest=${sub}`])).not.toThrow();
    expect(check([`type=oci,tar=false,dest=${join(dir, 'layout')}`, `type=docker,dest=${join(dir, 'img.tar')}`])).not.toThrow();
    expect(check([], { iidfile: join(dir, 'iid'), metadataFile: file })).not.toThrow();
    // Nothing was made by checking.
    expect(readdirSync(dir).sort()).toEqual(['fifo', 'file', 'link', 'sub']);
  });

  it('refuses a directory output that is a file, and a file output that is a directory, in buildx\'s words', () => {
    usage(check([`type=local,dest=${file}`]), `destination directory ${file} is a file`);
    usage(check([`type=oci,tar=false,dest=${file}`]), `destination directory ${file} is a file`);
    usage(check([`type=tar,dest=${sub}`]), `destination file ${sub} is a directory`);
    usage(check([`type=docker,dest=${sub}`]), `destination file ${sub} is a directory`);
    usage(check([`type=oci,dest=${sub}`]), `destination file ${sub} is a directory`);
  });

  it('refuses a file output that would replace a device or a FIFO', () => {
    usage(check([`type=tar,dest=${fifo}`]), `destination file ${fifo} is not a regular file`);
    usage(check(['type=tar,dest=/dev/null']), 'destination file /dev/null is not a regular file');
  });

  it('refuses an output below a file', () => {
    usage(check([`type=local,dest=${join(file, 'out')}`]), `invalid output path ${join(file, 'out')}: a parent is not a directory`);
    usage(check([`type=tar,dest=${join(file, 'x/out.tar')}`]), `invalid output path ${join(file, 'x/out.tar')}: a parent is not a directory`);
  });

  it('refuses an --iidfile or --metadata-file that is a directory, not a regular file, or in a missing directory', () => {
    usage(check([], { iidfile: sub }), `--iidfile ${sub}: cannot write to a directory`);
    usage(check([], { metadataFile: sub }), `--metadata-file ${sub}: cannot write to a directory`);
    usage(check([], { metadataFile: fifo }), `--metadata-file ${fifo}: cannot write to a named pipe (FIFO)`);
    usage(check([], { iidfile: link }), `--iidfile ${link}: cannot write to a symbolic link directly`);
    usage(check([], { iidfile: '/dev/null' }), '--iidfile /dev/null: cannot write to a character device file');
    usage(check([], { iidfile: join(dir, 'missing/iid') }), `--iidfile ${join(dir, 'missing/iid')}: invalid output path: the directory ${join(dir, 'missing')} does not exist`);
    usage(check([], { metadataFile: join(file, 'meta.json') }), `--metadata-file ${join(file, 'meta.json')}: invalid output path: ${file} is not a directory`);
  });

  it('refuses a directory that cannot be written', () => {
    // Root may write anywhere but on a read-only file system: /proc/sys stands for one.
    usage(check([`type=local,dest=/proc/sys/tsbuild-out`]), 'invalid output path /proc/sys/tsbuild-out: /proc/sys is not writable');
    usage(check([], { iidfile: '/proc/sys/tsbuild-iid' }), '--iidfile /proc/sys/tsbuild-iid: invalid output path: /proc/sys is not writable');
  });
});
