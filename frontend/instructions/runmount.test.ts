import { describe, expect, it } from 'vitest';
import { checkRunMountSyntax, parseRunDevice, parseRunMount } from './index.js';
import { thrown } from './testing.js';

const err = (v: string): string => thrown(() => parseRunMount(v)).message;

describe('parseRunMount defaults per type', () => {
  it('bind is the default type, read-only, from the context', () => {
    expect(parseRunMount('target=/src')).toEqual({ type: 'bind', target: '/src', readOnly: true, from: '', source: '' });
  });
  it('cache is writable and shared', () => {
    expect(parseRunMount('type=cache,target=/root/.cache')).toEqual({
      type: 'cache', target: '/root/.cache', readOnly: false, id: '', sharing: 'shared', from: '', source: '',
    });
  });
  it('tmpfs is writable with no size limit', () => {
    expect(parseRunMount('type=tmpfs,target=/tmp')).toEqual({ type: 'tmpfs', target: '/tmp', readOnly: false, size: 0 });
  });
  it('secret and ssh are read-only and optional', () => {
    expect(parseRunMount('type=secret,id=npm')).toEqual({
      type: 'secret', target: '', readOnly: true, id: 'npm', source: '', required: false,
    });
    expect(parseRunMount('type=ssh')).toEqual({ type: 'ssh', target: '', readOnly: true, id: '', required: false });
  });
});

describe('parseRunMount options and aliases', () => {
  it('accepts target/dst/destination and source/src, keys in any case', () => {
    for (const k of ['target', 'dst', 'destination', 'TARGET']) expect(parseRunMount(`${k}=/a`).target).toBe('/a');
    for (const k of ['source', 'src']) expect(parseRunMount(`${k}=x,target=/a`)).toMatchObject({ source: 'x' });
  });
  it('reads ro/readonly/rw/readwrite as bare words or booleans', () => {
    expect(parseRunMount('type=cache,target=/a,ro').readOnly).toBe(true);
    expect(parseRunMount('type=cache,target=/a,readonly=1').readOnly).toBe(true);
    expect(parseRunMount('target=/a,rw').readOnly).toBe(false);
    expect(parseRunMount('target=/a,readwrite=true').readOnly).toBe(false);
    expect(parseRunMount('target=/a,rw=false').readOnly).toBe(true);
    expect(parseRunMount('target=/a,ro=F').readOnly).toBe(false);
    expect(err('target=/a,ro=maybe')).toBe('invalid value for ro: maybe');
  });
  it('reads cache options', () => {
    expect(parseRunMount('type=CACHE,id=go,sharing=Locked,from=base,source=/x,mode=0700,uid=1000,gid=1000,target=/c')).toEqual({
      type: 'cache', target: '/c', readOnly: false, id: 'go', sharing: 'locked', from: 'base', source: '/x',
      mode: 0o700, uid: 1000, gid: 1000,
    });
    expect(parseRunMount('type=cache,sharing=private,target=/c')).toMatchObject({ sharing: 'private' });
  });
  it('reads tmpfs size like docker (binary units)', () => {
    expect(parseRunMount('type=tmpfs,target=/t,size=64m')).toMatchObject({ size: 64 * 1024 * 1024 });
    expect(parseRunMount('type=tmpfs,target=/t,size=1.5GiB')).toMatchObject({ size: 1.5 * 1024 ** 3 });
    expect(parseRunMount('type=tmpfs,target=/t,size=100')).toMatchObject({ size: 100 });
    expect(parseRunMount('type=tmpfs,target=/t,size=2 kb')).toMatchObject({ size: 2048 });
    expect(err('type=tmpfs,target=/t,size=lots')).toBe('invalid value for size: lots');
    expect(err('type=tmpfs,target=/t,size=1q')).toBe('invalid value for size: 1q');
  });
  it('reads secret options', () => {
    expect(parseRunMount('type=secret,id=aws,target=/run/aws,required,env=AWS,mode=0440,uid=1,gid=2')).toEqual({
      type: 'secret', target: '/run/aws', readOnly: true, id: 'aws', source: '', required: true, env: 'AWS',
      mode: 0o440, uid: 1, gid: 2,
    });
    expect(parseRunMount('type=secret,src=tok,required=false')).toMatchObject({ source: 'tok', required: false });
    expect(parseRunMount('type=secret,target=/x')).toMatchObject({ id: '', target: '/x' });
  });
  it('reads ssh options', () => {
    expect(parseRunMount('type=ssh,id=gh,target=/s.sock,required=true,mode=0600')).toEqual({
      type: 'ssh', target: '/s.sock', readOnly: true, id: 'gh', required: true, mode: 0o600,
    });
  });
  it('expands values, never keys', () => {
    const env: Record<string, string> = { T: '/cache', ID: 'go' };
    const expand = (w: string): string => w.replace(/\$(\w+)/g, (_, n: string) => env[n] ?? '');
    expect(parseRunMount('type=cache,target=$T,id=$ID', expand)).toMatchObject({ target: '/cache', id: 'go' });
  });
  it('reads quoted CSV fields', () => {
    expect(parseRunMount('type=bind,"target=/a,b",source=x').target).toBe('/a,b');
  });
});

describe('parseRunMount errors', () => {
  it('reports BuildKit messages with suggestions', () => {
    expect(thrown(() => parseRunMount('type=bnid'))).toMatchObject({
      code: 'BAD_FLAG', message: 'unsupported mount type "bnid"', hint: 'did you mean "bind"?',
    });
    expect(thrown(() => parseRunMount('type=cache,sharing=lokced'))).toMatchObject({
      message: 'unsupported sharing value "lokced"', hint: 'did you mean "locked"?',
    });
    expect(thrown(() => parseRunMount('type=cache,traget=/x'))).toMatchObject({
      message: "unexpected key 'traget' in 'traget=/x'", hint: 'did you mean "target"?',
    });
    expect(err('target=/a,foo')).toBe("invalid field 'foo' must be a key=value pair");
    expect(err('target=/a,required')).toBe("unexpected key 'required' for mount type 'bind'");
    expect(err('required,type=secret,id=x')).toBe("unexpected key 'required' for mount type 'bind'");
    expect(err('type=cache,required=true')).toBe("unexpected key 'required' for mount type 'cache'");
    expect(err('type=cache,size=1m')).toBe("unexpected key 'size' for mount type 'cache'");
    expect(err('type=cache,mode=0999')).toBe('invalid value 0999 for mode');
    expect(err('type=cache,uid=-1')).toBe('invalid value -1 for uid');
    expect(err('type=cache,gid=x')).toBe('invalid value x for gid');
    expect(err('type=bind,mode=0755')).toBe('mode not allowed for "bind" type mounts');
    expect(err('type=tmpfs,uid=1')).toBe('uid not allowed for "tmpfs" type mounts');
    expect(err('type=bind,gid=1')).toBe('gid not allowed for "bind" type mounts');
    expect(err('type=secret,id=a,from=b')).toBe('secret mount should not have a from');
    expect(err('type=secret,id=a,sharing=shared')).toBe('secret mount should not define sharing');
    expect(err('type=secret')).toBe('invalid secret mount. one of source, target required');
    expect(err('type=secret,id=a,source=b')).toBe("both source and id can't be set");
    expect(err('type=tmpfs,sharing=locked')).toBe('invalid cache sharing set for tmpfs mount');
    expect(err('type=ssh,source=x')).toBe('ssh does not support source');
    expect(err('')).toBe('failed to parse csv mounts: EOF');
    expect(err('"target=/a')).toBe('failed to parse csv mounts: parse error on line 1, column 2: extraneous or missing " in quoted-field');
    expect(err('"a"b')).toBe('failed to parse csv mounts: parse error on line 1, column 3: extraneous or missing " in quoted-field');
  });
});

describe('checkRunMountSyntax (parse time)', () => {
  it('allows anything but bad CSV and variables in from', () => {
    expect(() => checkRunMountSyntax('type=nonsense,what=ever,bare')).not.toThrow();
    expect(() => checkRunMountSyntax('from=stage$')).not.toThrow();
    expect(thrown(() => checkRunMountSyntax('FROM=${X}')).message).toBe(
      "'from' doesn't support variable expansion, define alias stage instead",
    );
    expect(thrown(() => checkRunMountSyntax('a"')).message).toMatch(/^failed to parse csv mounts: /);
  });
});

describe('parseRunDevice', () => {
  it('reads a name first, then options', () => {
    expect(parseRunDevice('nvidia.com/gpu=all')).toEqual({ name: 'nvidia.com/gpu=all', required: false });
    expect(parseRunDevice('name=x,required=true')).toEqual({ name: 'x', required: true });
    expect(parseRunDevice('x,required')).toEqual({ name: 'x', required: true });
  });
  it('reports errors', () => {
    expect(thrown(() => parseRunDevice('x,name=y')).message).toBe('device name already set to x');
    expect(thrown(() => parseRunDevice('x,required=maybe')).message).toBe('invalid value for required: maybe');
    expect(thrown(() => parseRunDevice('x,reqired=1'))).toMatchObject({
      message: "unexpected key 'reqired' in 'reqired=1'", hint: 'did you mean "required"?',
    });
    expect(thrown(() => parseRunDevice('')).message).toBe('failed to parse csv devices: EOF');
  });
});
