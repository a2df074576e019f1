// Every output, name and path of a build is checked before its first step: a bad one is one
// usage error (exit 2), no step runs, no image is stored, and nothing is written at any
// output path. Checked through the CLI against the local store and the host's files.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tsbuildSync } from './support/cli.js';
import { isCI, isRoot } from './support/env.js';
import { busyboxBaseContext, expectOk, writeContext } from './support/workspace.js';

const work = mkdtempSync(join(tmpdir(), 'tsbuild-checked-'));
const root = join(work, 'root');
const tsbuild = (args: string[]) => tsbuildSync([...args, '--root', root]);
const build = (extra: string[], dir: string) => tsbuildSync(['build', '--root', root, '--progress', 'plain', ...extra, dir]);

describe.skipIf(!isRoot && !isCI)('outputs checked before the build', () => {
  let app: string;
  beforeAll(async () => {
    expectOk(build(['-t', 'busybox:test'], await busyboxBaseContext(join(work, 'base'))));
    app = writeContext(join(work, 'app'), { Dockerfile: 'FROM busybox:test\nRUN echo ran > /ran\n' });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const images = () => {
    const r = tsbuild(['images']);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  it('refuses a bad -t, name=, -o dest, --iidfile or --metadata-file before any step, storing and writing nothing', () => {
    const aDir = join(work, 'a-dir');
    mkdirSync(aDir);
    writeFileSync(join(aDir, 'keep'), 'mine');
    const aFile = join(work, 'a-file');
    writeFileSync(aFile, 'mine too');
    const out = join(work, 'out');
    const cases: [string[], string][] = [
      [['-t', 'Foo'], 'invalid tag "Foo": repository name must be lowercase'],
      [['-t', 'my image'], 'invalid tag "my image": invalid reference format'],
      [['-t', 'app:-bad'], 'invalid tag "app:-bad": invalid reference format'],
      [['-o', `type=oci,dest=${out}.tar,name=Foo`], 'failed to parse Foo: invalid reference format: repository name (library/Foo) must be lowercase'],
      [['-o', `type=image,name=org/Bad:1`], 'failed to parse org/Bad:1: invalid reference format: repository name (org/Bad) must be lowercase'],
      [['--iidfile', aDir], `--iidfile ${aDir}: cannot write to a directory`],
      [['--iidfile', join(work, 'missing', 'iid')], `--iidfile ${join(work, 'missing', 'iid')}: invalid output path: the directory ${join(work, 'missing')} does not exist`],
      [['--metadata-file', aDir], `--metadata-file ${aDir}: cannot write to a directory`],
      [['--metadata-file', join(aFile, 'meta.json')], `--metadata-file ${join(aFile, 'meta.json')}: invalid output path: ${aFile} is not a directory`],
      [['-o', `type=local,dest=${aFile}`], `destination directory ${aFile} is a file`],
      [['-o', `type=tar,dest=${aDir}`], `destination file ${aDir} is a directory`],
      [['-o', `type=docker,dest=${aDir}`], `destination file ${aDir} is a directory`],
    ];
    const before = images();
    for (const [flags, message] of cases) {
      // Good side files beside the bad one, as a user would have them.
      const side = [
        ...(flags.includes('--iidfile') || /type=(local|tar)/.test(flags.join(' ')) ? [] : ['--iidfile', join(work, 'iid')]),
        ...(flags.includes('--metadata-file') ? [] : ['--metadata-file', join(work, 'meta.json')]),
      ];
      const r = build(['-t', 'checked:1', ...side, ...flags], app);
      expect(r.status, `${flags.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`error: ${message}`);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.stderr).not.toMatch(/^#\d+ /m); // no step started
    }
    // No image was stored, no output or side file written, and the user's files are as they were.
    expect(images()).toBe(before);
    expect(images()).not.toContain('checked');
    expect(readdirSync(work).sort()).toEqual(['a-dir', 'a-file', 'app', 'base', 'root']);
    expect(readdirSync(aDir)).toEqual(['keep']);
    expect(readFileSync(aFile, 'utf8')).toBe('mine too');

    // The same build with good paths runs and writes them, making the missing parents of an output.
    const tarOut = join(work, 'new', 'deeper', 'image.tar');
    const r = build(['-t', 'checked:1', '--iidfile', join(work, 'iid'), '--metadata-file', join(work, 'meta.json'), '-o', `type=docker,dest=${tarOut},name=checked:1`], app);
    expectOk(r);
    expect(readFileSync(join(work, 'iid'), 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(join(work, 'meta.json'), 'utf8'))).toHaveProperty('containerimage.config.digest', readFileSync(join(work, 'iid'), 'utf8'));
    expect(existsSync(tarOut)).toBe(true);
    // Nothing but the outputs themselves beside them: no temp file left.
    expect(readdirSync(join(work, 'new', 'deeper'))).toEqual(['image.tar']);
    expect(readdirSync(work).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});
