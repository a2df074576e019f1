import { describe, expect, it } from 'vitest';
import {
  MAX_MOUNT_DATA,
  bindMount,
  commonDir,
  fitsMountData,
  mountData,
  overlayMount,
  relativeTo,
  renderForMount,
} from './mount-options.js';

const root = '/var/lib/tsbuild/snapshots';
const layer = (i: number): string => `${root}/${String(i).padStart(32, '0')}/fs`;

describe('overlayMount', () => {
  it('keeps the upper dir a faithful diff and lists lowers topmost first', () => {
    const m = overlayMount([layer(2), layer(1)], layer(3), `${root}/w/work`);
    expect(m).toEqual({
      type: 'overlay',
      source: 'overlay',
      options: ['index=off', 'redirect_dir=off', 'metacopy=off', 'volatile', `workdir=${root}/w/work`, `upperdir=${layer(3)}`, `lowerdir=${layer(2)}:${layer(1)}`],
    });
    expect(mountData(m)).toBe(m.options.join(','));
  });

  it('refuses paths the option string cannot carry', () => {
    expect(() => overlayMount(['/a:b'], '/u', '/w')).toThrow(expect.objectContaining({ reason: 'MOUNT' }));
    expect(() => overlayMount(['/a,b'], '/u', '/w')).toThrow(expect.objectContaining({ reason: 'MOUNT' }));
    expect(() => overlayMount(['relative'], '/u', '/w')).toThrow(expect.objectContaining({ reason: 'MOUNT' }));
  });

  it('leaves flag options out of the data string', () => {
    expect(mountData(bindMount('/x', true))).toBe('');
  });
});

describe('rendering long overlay options', () => {
  const lowers = Array.from({ length: 100 }, (_, i) => layer(i));
  const long = overlayMount(lowers, layer(100), `${root}/${'f'.repeat(32)}/work`);

  it('finds the directory every path shares', () => {
    expect(commonDir(long)).toBe(root);
    expect(commonDir(overlayMount([`${root}/a/fs`], `${root}/a/fs2`, `${root}/a/work`))).toBe(`${root}/a`);
  });

  it('renders paths relative to a cwd', () => {
    const rel = relativeTo(long, root);
    expect(rel.options).toContain(`upperdir=${String(100).padStart(32, '0')}/fs`);
    expect(rel.options.find((o) => o.startsWith('lowerdir='))!.split(':')[1]).toBe(`${String(1).padStart(32, '0')}/fs`);
    expect(fitsMountData(rel)).toBe(true);
  });

  it('keeps a mount that fits and relativises one that does not', () => {
    const short = overlayMount([layer(1)], layer(2), `${root}/w`);
    expect(renderForMount(short)).toEqual({ mount: short });
    expect(fitsMountData(long)).toBe(false);
    const rendered = renderForMount(long);
    expect(rendered.cwd).toBe(root);
    expect(Buffer.byteLength(mountData(rendered.mount))).toBeLessThanOrEqual(MAX_MOUNT_DATA);
  });

  it('throws when even relative paths do not fit', () => {
    const huge = overlayMount(Array.from({ length: 200 }, (_, i) => layer(i)), layer(300), `${root}/w`);
    expect(() => renderForMount(huge)).toThrow(expect.objectContaining({ reason: 'MOUNT' }));
    expect(() => relativeTo(long, '/elsewhere')).toThrow(expect.objectContaining({ reason: 'MOUNT' }));
  });
});
