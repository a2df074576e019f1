import { describe, expect, it } from 'vitest';
import { parseAnnotation } from './annotations.js';

describe('parseAnnotation', () => {
  it('reads the level prefixes docker/metadata-action writes, and none as manifest', () => {
    expect(parseAnnotation('manifest:org.opencontainers.image.title=app')).toEqual({ level: 'manifest', key: 'org.opencontainers.image.title', value: 'app' });
    expect(parseAnnotation('index:org.opencontainers.image.description=a=b, c')).toEqual({
      level: 'index',
      key: 'org.opencontainers.image.description',
      value: 'a=b, c',
    });
    expect(parseAnnotation('org.example.k=v')).toEqual({ level: 'manifest', key: 'org.example.k', value: 'v' });
  });

  it('reads descriptor levels and a platform on manifest levels', () => {
    expect(parseAnnotation('manifest-descriptor[linux/arm64]:k=v')).toEqual({ level: 'manifest-descriptor', platform: 'linux/arm64', key: 'k', value: 'v' });
    expect(parseAnnotation('index-descriptor:k=')).toEqual({ level: 'index-descriptor', key: 'k', value: '' });
  });

  it.each([
    ['k', 'no "="'],
    ['layer:k=v', 'unknown level "layer"'],
    ['index[linux/amd64]:k=v', 'an index annotation takes no platform'],
    ['manifest:=v', 'the key is empty'],
  ])('refuses %j: %s', (item, why) => {
    expect(() => parseAnnotation(item)).toThrow(`input "annotations": invalid annotation ${JSON.stringify(item)}: ${why}`);
  });
});
