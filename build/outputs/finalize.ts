/**
 * What is left once every output is written: the image ID, `--iidfile` and `--metadata-file`
 * (the CLI renders the metadata; the files are written here, whole or not at all).
 */
import { writeFileAtomic } from '../../content/index.js';
import type { Written } from './types.js';

/**
 * The image ID as buildx takes it from the response: the config digest, else the manifest
 * digest; undefined when no output made an image.
 */
export function imageId(written: Written): string | undefined {
  return written.response['containerimage.config.digest'] ?? written.response['containerimage.digest'];
}

export async function writeIidFile(path: string, written: Written): Promise<void> {
  const id = imageId(written);
  if (id === undefined) throw new Error('internal: --iidfile without an image output');
  // Whole or not at all: an interrupted build leaves no half-written file.
  await writeFileAtomic(path, id);
}

/** The metadata file, as the CLI rendered it. */
export async function writeMetadataFile(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, text);
}
