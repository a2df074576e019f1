import { describe, expect, it } from 'vitest';
import { endGroupCommand, errorCommand, groupCommand, maskCommand, verbatim, warningCommand } from './workflow.js';

describe('workflow commands', () => {
  it('escapes data (%, CR, LF) and properties (also : and ,) as the runner reads them back', () => {
    expect(errorCommand('50% done\r\nnext', { title: 'a: b, c', file: 'Dockerfile', line: 3, col: 1 })).toBe('::error title=a%3A b%2C c,file=Dockerfile,line=3,col=1::50%25 done%0D%0Anext\n');
    expect(warningCommand('plain')).toBe('::warning::plain\n');
    expect(maskCommand('p%w\nx')).toBe('::add-mask::p%25w%0Ax\n');
  });

  it('groups: a title on one line, then the end', () => {
    expect(groupCommand('#1 RUN echo a\nb')).toBe('::group::#1 RUN echo a%0Ab\n');
    expect(endGroupCommand()).toBe('::endgroup::\n');
  });

  it('verbatim text between stop-commands and its token; a text holding the token is refused', () => {
    expect(verbatim('error: x\n    ::error::quoted', 'tok-1')).toBe('::stop-commands::tok-1\nerror: x\n    ::error::quoted\n::tok-1::\n');
    expect(() => verbatim('::tok-1::', 'tok-1')).toThrow(/token occurs/);
  });
});
