import { describe, expect, it } from 'vitest';
import {
  chompHeredoc, exposedPortKeys, heredocWord, parseChmod, parseExposePort, parseGoDuration, planRunCommand,
} from './index.js';
import { DurationError } from './duration.js';
import { thrown } from './testing.js';

describe('parseChmod', () => {
  it('reads octal modes up to 07777', () => {
    expect(parseChmod('755')).toEqual({ kind: 'octal', mode: 0o755 });
    expect(parseChmod('0644')).toEqual({ kind: 'octal', mode: 0o644 });
    expect(parseChmod('4755')).toEqual({ kind: 'octal', mode: 0o4755 });
    expect(parseChmod('0')).toEqual({ kind: 'octal', mode: 0 });
  });
  it('rejects numbers that are not octal modes with BuildKit message', () => {
    const msg = (v: string): string => `invalid chmod parameter: '${v}'. it should be octal string and between 0 and 07777`;
    for (const v of ['10000', '0999', '8', '0o755', '755x']) {
      expect(thrown(() => parseChmod(v))).toMatchObject({ code: 'BAD_FLAG', message: msg(v) });
    }
  });
  it('reads symbolic modes', () => {
    expect(parseChmod('u+x,g-w')).toEqual({
      kind: 'symbolic', text: 'u+x,g-w',
      clauses: [{ who: 'u', actions: [{ op: '+', perms: 'x' }] }, { who: 'g', actions: [{ op: '-', perms: 'w' }] }],
    });
    expect(parseChmod('a=rX,u+w-x')).toMatchObject({
      clauses: [{ who: 'a', actions: [{ op: '=', perms: 'rX' }] }, { who: 'u', actions: [{ op: '+', perms: 'w' }, { op: '-', perms: 'x' }] }],
    });
    for (const ok of ['+x', '=', 'go=', 'u=g', 'ug+s', '+t', 'o-rwx']) expect(parseChmod(ok).kind).toBe('symbolic');
  });
  it('rejects bad symbolic modes', () => {
    for (const bad of ['u', 'u+x,', 'x', 'u+z', 'q+x', '+755', '', 'u*x']) {
      expect(thrown(() => parseChmod(bad))).toMatchObject({ code: 'BAD_FLAG', message: 'invalid syntax' });
    }
  });
});

describe('parseExposePort', () => {
  it('reads ports, ranges and protocols', () => {
    expect(parseExposePort('80')).toEqual({ start: 80, end: 80, proto: 'tcp', protoText: '' });
    expect(parseExposePort('53/UDP')).toEqual({ start: 53, end: 53, proto: 'udp', protoText: 'UDP' });
    expect(parseExposePort('8000-8002/sctp')).toEqual({ start: 8000, end: 8002, proto: 'sctp', protoText: 'sctp' });
    expect(parseExposePort('90-90')).toMatchObject({ start: 90, end: 90 });
    expect(exposedPortKeys(parseExposePort('8000-8002/tcp'))).toEqual(['8000/tcp', '8001/tcp', '8002/tcp']);
  });
  it('accepts the host forms BuildKit lints', () => {
    expect(parseExposePort('127.0.0.1:8080:80')).toEqual({
      start: 80, end: 80, proto: 'tcp', protoText: '', hostIP: '127.0.0.1', hostPort: '8080',
    });
    expect(parseExposePort('[::1]:80:80/udp')).toMatchObject({ hostIP: '[::1]', proto: 'udp' });
    expect(parseExposePort('::1:80:80')).toMatchObject({ hostIP: '::1' });
    expect(parseExposePort('8000-8001:80-81')).toMatchObject({ start: 80, end: 81, hostPort: '8000-8001' });
  });
  it('reports BuildKit errors', () => {
    const e = (w: string): string => thrown(() => parseExposePort(w)).message;
    expect(e('/tcp')).toBe('invalid port: "/tcp": no port specified');
    expect(e('80/http')).toBe('invalid port: "80/http": invalid proto: http');
    expect(e('abc')).toBe('invalid containerPort: abc');
    expect(e('70000')).toBe('invalid containerPort: 70000');
    expect(e('90-80')).toBe('invalid containerPort: 90-80');
    expect(e('80-')).toBe('invalid containerPort: 80-');
    expect(e('x:80')).toBe('invalid hostPort: x');
    expect(e('1000-1002:80-81')).toBe('invalid ranges specified for container and host Ports: 80-81 and 1000-1002');
    expect(e('999.1.1.1:80:80')).toBe('invalid IP address: 999.1.1.1');
    expect(thrown(() => parseExposePort('abc')).code).toBe('BAD_INSTRUCTION');
  });
});

describe('parseGoDuration', () => {
  it('reads Go durations in nanoseconds', () => {
    expect(parseGoDuration('0')).toBe(0n);
    expect(parseGoDuration('1h30m')).toBe(5_400_000_000_000n);
    expect(parseGoDuration('1.5s')).toBe(1_500_000_000n);
    expect(parseGoDuration('.5ms')).toBe(500_000n);
    expect(parseGoDuration('2us')).toBe(2000n);
    expect(parseGoDuration('2µs')).toBe(2000n);
    expect(parseGoDuration('2μs')).toBe(2000n);
    expect(parseGoDuration('-1m')).toBe(-60_000_000_000n);
    expect(parseGoDuration('+3ns')).toBe(3n);
    expect(parseGoDuration('1s500ms')).toBe(1_500_000_000n);
    expect(parseGoDuration('2562047h47m16.854775807s')).toBe((1n << 63n) - 1n);
  });
  it('rejects what Go rejects, with its messages', () => {
    const e = (s: string): string => {
      try {
        parseGoDuration(s);
      } catch (err) {
        if (err instanceof DurationError) return err.message;
      }
      return 'no error';
    };
    expect(e('')).toBe('time: invalid duration ""');
    expect(e('1')).toBe('time: missing unit in duration "1"');
    expect(e('1d')).toBe('time: unknown unit "d" in duration "1d"');
    expect(e('.s')).toBe('time: invalid duration ".s"');
    expect(e('s')).toBe('time: invalid duration "s"');
    expect(e('-')).toBe('time: invalid duration "-"');
    expect(e('1µ')).toBe('time: unknown unit "\\xc2\\xb5" in duration "1\\xc2\\xb5"');
    expect(e('9223372036854775808ns')).toBe('time: invalid duration "9223372036854775808ns"');
    expect(e('3000000h')).toBe('time: invalid duration "3000000h"');
  });
});

describe('heredocs', () => {
  it('recognises heredoc words', () => {
    expect(heredocWord('<<EOF')).toEqual({ name: 'EOF', expand: true, chomp: false });
    expect(heredocWord('<<-"EOF"')).toEqual({ name: 'EOF', expand: false, chomp: true });
    expect(heredocWord('3<<E\'O\'F')).toMatchObject({ name: 'EOF', expand: false });
    expect(heredocWord('file')).toBeUndefined();
    expect(heredocWord('<<')).toBeUndefined();
  });
  it('chomps leading tabs on every line', () => {
    expect(chompHeredoc('\t\ta\n\tb\n c\n')).toBe('a\nb\n c\n');
    expect(chompHeredoc('a\r\tb')).toBe('a\r\tb');
  });
  it('plans a RUN with heredocs as BuildKit converts it', () => {
    const file = (data: string, chomp = false): { name: string; data: string; chomp: boolean; expand: boolean } => ({
      name: 'EOF', data, chomp, expand: true,
    });
    expect(planRunCommand({ args: ['echo'], prependShell: true, files: [] }, 'linux')).toEqual({ kind: 'plain', args: ['echo'] });
    expect(planRunCommand({ args: ['<<EOF'], prependShell: true, files: [file('echo hi\n')] }, 'linux')).toEqual({
      kind: 'inline', args: ['echo hi\n'],
    });
    expect(planRunCommand({ args: ['<<-EOF'], prependShell: true, files: [file('\techo hi\n', true)] }, 'linux')).toEqual({
      kind: 'inline', args: ['echo hi\n'],
    });
    expect(planRunCommand({ args: ['<<EOF'], prependShell: true, files: [file('#!/usr/bin/env python\nprint(1)\n')] }, 'linux')).toEqual({
      kind: 'script', name: 'EOF', data: '#!/usr/bin/env python\nprint(1)\n', path: '/dev/pipes/EOF', args: ['/dev/pipes/EOF'],
    });
    expect(planRunCommand({ args: ['<<EOF'], prependShell: true, files: [file('#!x\n')] }, 'windows')).toMatchObject({ kind: 'inline' });
    expect(planRunCommand({ args: ['cat <<EOF > /f'], prependShell: true, files: [file('\thi\n', true)] }, 'linux')).toEqual({
      kind: 'shell', args: ['cat <<EOF > /f\n\thi\nEOF'],
    });
    expect(planRunCommand({ args: ['a', 'b'], prependShell: false, files: [file('x')] }, 'linux')).toEqual({
      error: 'parsing produced an invalid run command: [a b]',
    });
  });
});
