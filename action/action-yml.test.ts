import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INPUT_NAMES, readInputs } from './inputs.js';

const repoRoot = join(import.meta.dirname, '..');
const actionYml = parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description?: string; default?: string }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string };
};

// build-push-action's inputs, as its action.yml declares them today.
const BUILD_PUSH_ACTION = [
  'add-hosts', 'allow', 'annotations', 'attests', 'build-args', 'build-contexts', 'builder', 'cache-from', 'cache-to', 'call',
  'cgroup-parent', 'context', 'file', 'github-token', 'labels', 'load', 'network', 'no-cache', 'no-cache-filters', 'outputs',
  'platforms', 'provenance', 'pull', 'push', 'sbom', 'secret-envs', 'secret-files', 'secrets', 'shm-size', 'ssh', 'tags',
  'target', 'ulimit',
];

describe('action.yml', () => {
  it('declares exactly the inputs inputs.ts handles', () => {
    expect(Object.keys(actionYml.inputs).sort()).toEqual([...INPUT_NAMES]);
  });

  it('has readInputs read every declared input, and nothing else', () => {
    const read = new Set<string>();
    const env = new Proxy({} as Record<string, string | undefined>, {
      get(_t, key) {
        if (typeof key === 'string') read.add(key);
        const name = typeof key === 'string' ? key.replace(/^INPUT_/, '').toLowerCase() : '';
        return actionYml.inputs[name]?.default;
      },
    });
    readInputs(env);
    expect([...read].sort()).toEqual(Object.keys(actionYml.inputs).map((n) => `INPUT_${n.toUpperCase()}`).sort());
  });

  it("holds build-push-action's inputs, with its defaults, and the summary switch", () => {
    expect(Object.keys(actionYml.inputs).sort()).toEqual([...BUILD_PUSH_ACTION, 'summary'].sort());
    const defaults = Object.fromEntries(Object.entries(actionYml.inputs).flatMap(([k, v]) => (v.default === undefined ? [] : [[k, v.default]])));
    expect(defaults).toEqual({
      load: 'false',
      'no-cache': 'false',
      pull: 'false',
      push: 'false',
      'github-token': '${{ github.token }}',
      summary: 'true',
    });
    for (const [name, spec] of Object.entries(actionYml.inputs)) expect(spec.description, name).toMatch(/\S/);
  });

  it('has the outputs and runs the bundle on node24', () => {
    expect(Object.keys(actionYml.outputs).sort()).toEqual(['cache-hit-ratio', 'digest', 'imageid', 'metadata']);
    expect(actionYml.runs).toEqual({ using: 'node24', main: 'action-dist/main.cjs' });
    // A runner has only what is committed: the payload must not be ignored (dist/ is).
    const ignored = spawnSync('git', ['check-ignore', '--no-index', '-q', actionYml.runs.main], { cwd: repoRoot });
    expect(ignored.status).toBe(1);
  });
});
