/**
 * The `docker load` archive: `manifest.json` (Config, RepoTags, Layers as paths in the tar),
 * the blobs under `blobs/sha256/`, a `repositories` file for old loaders, and — as Docker 25
 * writes it — `oci-layout` + `index.json`, so the same tar is also an OCI layout. Layers go in
 * as stored (gzip or not); `docker load` decompresses them. Non-distributable layers go in
 * too (their manifest descriptors keep their `urls`): `docker load` needs every layer.
 */
import type { Descriptor } from '../content/index.js';
import { BuildError } from '../errors/index.js';
import { digestHex } from '../content/index.js';
import { ExporterError } from './errors.js';
import { goJson } from '../oci/index.js';
import { addBlobs, blobPath, imageBlobList, layoutEntry, ociIndex, type ExportImage } from './oci-layout.js';
import { dockerNormalizedName, familiarName, parseImageName } from '../images/index.js';
import { writeTarFile } from './tar.js';

export async function writeDockerArchive(dest: string, image: ExportImage, names: readonly string[]): Promise<void> {
  // RepoTags in Docker's short form (`app:latest`, `org/app:1`), as containerd's export writes
  // them; index.json has the normalised names, as in an OCI layout.
  const repoTags = names.map((n) => {
    const parsed = parseImageName(n);
    if (parsed.tag === undefined) throw new ExporterError('BAD_REFERENCE', `docker archives name images by tag; "${n}" has none`);
    const familiar = parseImageName(familiarName(dockerNormalizedName(`${parsed.repository}:${parsed.tag}`)));
    return { repository: familiar.repository, tag: parsed.tag, name: familiar.name };
  });
  const blobs = await imageBlobList(image.provider, image.image);
  // `docker load` reads every layer from the archive: a non-distributable one must be here too.
  const absent = image.image.layers.find((l) => !blobs.some((b) => b.digest === l.digest));
  if (absent !== undefined) {
    throw new BuildError('IO', `docker archives need every layer, and the non-distributable layer ${absent.digest} is not in the content store`, {
      hint: 'pull the base image again (tsbuild build --pull), then export',
    });
  }
  const manifestJson = Buffer.from(goJson([{
    Config: blobPath(image.image.config),
    RepoTags: repoTags.map((r) => r.name),
    Layers: image.image.layers.map((l: Descriptor) => blobPath(l)),
  }]));
  const top = image.image.layers.at(-1);
  const repositories: Record<string, Record<string, string>> = {};
  if (top) for (const r of repoTags) (repositories[r.repository] ??= {})[r.tag] = digestHex(top.digest);
  const repositoriesJson = Buffer.from(goJson(repositories));
  const index = Buffer.from(goJson(ociIndex({ ...image, names })));
  const layout = Buffer.from('{"imageLayoutVersion":"1.0.0"}');
  await writeTarFile(dest, async (w) => {
    await w.add(layoutEntry('blobs'));
    await w.add(layoutEntry('blobs/sha256'));
    await addBlobs(w, image.provider, blobs);
    const file = (name: string, bytes: Buffer) => w.addBytes(layoutEntry(name, bytes.length), bytes);
    await file('oci-layout', layout);
    await file('index.json', index);
    await file('manifest.json', manifestJson);
    await file('repositories', repositoriesJson);
  });
}
