import { describe, expect, it } from 'vitest';
import { parseDockerfile, planBuild } from '../index.js';
import { fillHistoryTimes, historyFor } from './history.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('fillHistoryTimes (as BuildKit exports history)', () => {
  it('gives layers their creation time, and steps without a layer the first new layer time, then the previous one', () => {
    const history = [
      { created: '2020-01-01T00:00:00Z', created_by: 'base layer' },
      { created: '2020-01-01T00:00:01Z', created_by: 'base CMD', empty_layer: true },
      { created_by: 'ENV A=1', empty_layer: true },
      { created_by: 'RUN one' },
      { created_by: 'WORKDIR', empty_layer: true },
      { created_by: 'RUN two' },
      { created_by: 'CMD', empty_layer: true },
    ];
    const out = fillHistoryTimes(history, [t(0), t(10), t(20)]);
    expect(out.map((h) => h.created)).toEqual([
      '2020-01-01T00:00:00Z', // a base image's own times are kept
      '2020-01-01T00:00:01Z',
      t(10), // before any new layer: the first new layer's time
      t(10),
      t(10), // after: the layer before it
      t(20),
      t(20),
    ]);
  });

  it('is the same for the same layers: a cached rebuild makes the same history', () => {
    const history: { created?: Date; created_by: string; empty_layer?: boolean }[] = [{ created_by: 'COPY' }, { created_by: 'CMD', empty_layer: true }];
    expect(fillHistoryTimes(history, [t(5)])).toEqual(fillHistoryTimes(history, [t(5)]));
    expect(fillHistoryTimes(history, [t(5)]).map((h) => h.created)).toEqual([t(5), t(5)]);
  });

  it('leaves steps without any time when nothing has one (no layers at all)', () => {
    expect(fillHistoryTimes([{ created_by: 'CMD', empty_layer: true }], [])).toEqual([{ created_by: 'CMD', empty_layer: true }]);
  });
});

describe('historyFor (created_by as BuildKit words it)', () => {
  const history = async (text: string, buildArgs: Record<string, string> = {}) => {
    const plan = await planBuild(parseDockerfile(text, { file: 'Dockerfile' }).ast, {
      buildPlatform: { os: 'linux', architecture: 'amd64' },
      buildArgs: new Map(Object.entries(buildArgs)),
    });
    const last = plan.stages[plan.stages.length - 1]!;
    return last.steps.map((s) => historyFor(s, s.instruction.kind === 'run' ? ['/bin/sh', '-c', 'true'] : undefined)?.createdBy);
  };

  it('prefixes RUN with the ARGs in scope: first place kept, last value, the parent stage first, none as K=', async () => {
    const h = await history('FROM scratch AS base\nARG SHARED=a\nARG NOVALUE\nFROM base\nARG foo=bar\nARG bar=123\nARG foo=bar2\nARG SHARED\nRUN true\n');
    expect(h).toEqual([
      'ARG foo=bar',
      'ARG bar=123',
      'ARG foo=bar2',
      'ARG SHARED',
      'RUN |4 SHARED=a NOVALUE= foo=bar2 bar=123 /bin/sh -c true # buildkit',
    ]);
  });

  it('leaves proxy build args out of RUN history unless an ARG declares them', async () => {
    const proxy = { http_proxy: 'http://p:3128', HTTPS_PROXY: 'http://s:3128' };
    expect(await history('FROM scratch\nRUN true\n', proxy)).toEqual(['RUN /bin/sh -c true # buildkit']);
    expect(await history('FROM scratch\nARG http_proxy\nRUN true\n', proxy)).toEqual([
      'ARG http_proxy=http://p:3128',
      'RUN |1 http_proxy=http://p:3128 /bin/sh -c true # buildkit',
    ]);
  });

  it('lists every port of an EXPOSE range, protocols in lower case, in the byte order of the words as written ($P sorts first)', async () => {
    expect(await history('FROM scratch\nARG P="9000 8000"\nEXPOSE 8000-8002/tcp 80/UDP $P 443\n')).toEqual([
      'ARG P=9000 8000',
      'EXPOSE [9000/tcp 8000/tcp 443/tcp 80/udp 8000/tcp 8001/tcp 8002/tcp]',
    ]);
  });
});
