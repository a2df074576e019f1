// The comparison behind "why a step missed": each kind of reason, from two explanations.
import { describe, expect, it } from 'vitest';
import { boundedStep, boundedValue, explainMiss, MAX_LISTED, MAX_VALUE, type MissContext, type StepExplanation } from './explain.js';

const step = (over: Partial<StepExplanation> = {}): StepExplanation => ({ step: 'stage-0: RUN make', fields: { command: '["make"]' }, inputs: ['aaaa'], ...over });
const noInputs: MissContext = { input: () => ({ name: 'unused' }) };

describe('explainMiss', () => {
  it('names a build arg with its old and new value, and an ENV value apart from it', () => {
    const before = step({ fields: { command: '["make"]', 'env:VERSION': '1.2', 'env:MODE': 'a' } });
    const now = step({ fields: { command: '["make"]', 'env:VERSION': '1.3', 'env:MODE': 'b' } });
    expect(explainMiss(before, now, { ...noInputs, buildArgs: ['VERSION'] })).toEqual([
      { kind: 'env', name: 'MODE', before: 'a', now: 'b' },
      { kind: 'build-arg', name: 'VERSION', before: '1.2', now: '1.3' },
    ]);
  });

  it('a variable set only before or only now has no value on the other side', () => {
    const r = explainMiss(step({ fields: { 'env:A': '1' } }), step({ fields: { 'env:B': '2' } }), { ...noInputs, buildArgs: ['A', 'B'] });
    expect(r).toEqual([
      { kind: 'build-arg', name: 'A', before: '1' },
      { kind: 'build-arg', name: 'B', now: '2' },
    ]);
  });

  it('names the base image with both manifest digests, before the other fields', () => {
    const before = step({ fields: { 'image:busybox:1': 'sha256:old', platform: 'linux/amd64' }, inputs: [] });
    const now = step({ fields: { 'image:busybox:1': 'sha256:new', platform: 'linux/arm64' }, inputs: [] });
    expect(explainMiss(before, now, noInputs)).toEqual([
      { kind: 'base-image', ref: 'busybox:1', before: 'sha256:old', now: 'sha256:new' },
      { kind: 'field', name: 'platform', before: 'linux/amd64', now: 'linux/arm64' },
    ]);
  });

  it('lists the files of the context added, removed and changed', () => {
    const before = step({ files: { count: 3, sum: 's1', paths: { 'a.txt': '1', 'b.txt': '2', 'gone.txt': '3' } } });
    const now = step({ files: { count: 3, sum: 's2', paths: { 'a.txt': '1', 'b.txt': '9', 'new.txt': '4' } } });
    expect(explainMiss(before, now, noInputs)).toEqual([{ kind: 'files', added: ['new.txt'], removed: ['gone.txt'], changed: ['b.txt'], more: 0 }]);
  });

  it(`names at most ${MAX_LISTED} files and counts the rest`, () => {
    const paths = (v: string) => Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`f${String(i).padStart(2, '0')}`, v]));
    const [r] = explainMiss(step({ files: { count: 15, sum: 'x', paths: paths('1') } }), step({ files: { count: 15, sum: 'y', paths: paths('2') } }), noInputs);
    expect(r).toMatchObject({ kind: 'files', more: 5 });
    expect(r?.kind === 'files' && r.changed).toEqual(['f00', 'f01', 'f02', 'f03', 'f04', 'f05', 'f06', 'f07', 'f08', 'f09']);
  });

  it('past the cap of listed paths says the files changed and how many there are', () => {
    const r = explainMiss(step({ files: { count: 200, sum: 'x' } }), step({ files: { count: 201, sum: 'y' } }), noInputs);
    expect(r).toEqual([{ kind: 'many-files', before: 200, now: 201 }]);
    // Unchanged content: no reason from the files (the same sum).
    expect(explainMiss(step({ files: { count: 200, sum: 'x' } }), step({ files: { count: 200, sum: 'x' } }), noInputs)).toEqual([{ kind: 'unavailable' }]);
  });

  it("an input that changed is named, or the first step down its chain that changed by itself", () => {
    const before = step({ inputs: ['k1', 'k2'] });
    const now = step({ inputs: ['k1', 'k3'] });
    // The input itself changed (its own reason is a file): it is the cause.
    expect(explainMiss(before, now, { input: () => ({ name: '[2/4] COPY app.txt /', reasons: [{ kind: 'files', added: [], removed: [], changed: ['app.txt'], more: 0 }] }) })).toEqual([
      { kind: 'input', step: '[2/4] COPY app.txt /' },
    ]);
    // The input changed only because its input did: that one's name passes on.
    expect(explainMiss(before, now, { input: () => ({ name: '[3/4] RUN make', reasons: [{ kind: 'input', step: '[2/4] COPY app.txt /' }] }) })).toEqual([
      { kind: 'input', step: '[2/4] COPY app.txt /' },
    ]);
    // An input with no record of its own: named as it is.
    expect(explainMiss(before, now, { input: (i) => ({ name: `input ${i}` }) })).toEqual([{ kind: 'input', step: 'input 1' }]);
  });

  it('its own change comes before its inputs', () => {
    const before = step({ fields: { 'env:V': '1' }, inputs: ['k1'] });
    const now = step({ fields: { 'env:V': '2' }, inputs: ['k2'] });
    expect(explainMiss(before, now, { input: () => ({ name: 'base' }) })).toEqual([
      { kind: 'env', name: 'V', before: '1', now: '2' },
      { kind: 'input', step: 'base' },
    ]);
  });

  it('nothing different: the record under the same key is gone', () => {
    expect(explainMiss(step(), step(), noInputs)).toEqual([{ kind: 'unavailable' }]);
  });
});

describe('boundedValue, boundedStep', () => {
  it('keeps a short value and replaces a long one by its length and a short digest', () => {
    expect(boundedValue('1.3')).toBe('1.3');
    const long = 'x'.repeat(MAX_VALUE + 1);
    expect(boundedValue(long)).toMatch(new RegExp(`^<${MAX_VALUE + 1} characters, sha256 [0-9a-f]{16}…>$`));
    expect(boundedValue(long)).not.toBe(boundedValue(long + 'y'));
  });

  it('keeps the start of a long step identity, told apart by a digest of the whole', () => {
    const run = `stage-0: RUN ${'apk add x && '.repeat(20)}`;
    expect(boundedStep('stage-0: RUN make')).toBe('stage-0: RUN make');
    expect(boundedStep(run)).toBe(`${run.slice(0, 64)}… (sha256 ${boundedStep(run).slice(-17, -1)})`);
    expect(boundedStep(run)).toMatch(/… \(sha256 [0-9a-f]{16}\)$/);
    expect(boundedStep(run)).not.toBe(boundedStep(run + 'y'));
  });
});
