import { describe, expect, it } from 'vitest';
import { describeMissReason } from './miss-reason.js';

describe('describeMissReason', () => {
  it('says each kind of reason in words', () => {
    expect(describeMissReason({ kind: 'files', changed: ['app.txt'], added: ['new.txt', 'x'], removed: ['old.txt'], more: 3 })).toBe(
      'files of the context changed: changed app.txt; added new.txt, x; removed old.txt; 3 more',
    );
    expect(describeMissReason({ kind: 'many-files', before: 400, now: 401 })).toBe('files of the context changed (401 files, 400 before; too many to name them)');
    expect(describeMissReason({ kind: 'build-arg', name: 'V', now: '2' })).toBe('build arg V changed ((unset) → "2")');
    expect(describeMissReason({ kind: 'env', name: 'PATH', before: '/bin', now: '/usr/bin' })).toBe('env PATH changed ("/bin" → "/usr/bin")');
    expect(describeMissReason({ kind: 'base-image', ref: 'busybox:1', before: 'sha256:a', now: 'sha256:b' })).toBe('base image busybox:1 changed (sha256:a → sha256:b)');
    expect(describeMissReason({ kind: 'field', name: 'user', before: 'root', now: 'app' })).toBe('its user changed ("root" → "app")');
    expect(describeMissReason({ kind: 'input', step: '[2/3] COPY . /' })).toBe('its input step changed: [2/3] COPY . /');
    expect(describeMissReason({ kind: 'unavailable' })).toBe('the result cached under the same key is no longer available');
  });
});
