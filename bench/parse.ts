/**
 * Parsing a 10,000-instruction Dockerfile: the parser alone, and the parser plus the AST dump.
 * Prints medians; asserts nothing.
 */
import { fileURLToPath } from 'node:url';
import { parseDockerfile } from '../frontend/index.js';
import { median, timeRuns } from './stats.js';

/** A large, varied Dockerfile: every instruction kind, flags, continuations, heredocs. */
export function syntheticDockerfile(instructions: number): string {
  const out: string[] = ['# syntax=docker/dockerfile:1', 'ARG BASE=busybox:test'];
  let n = 0;
  for (let stage = 0; n < instructions; stage++) {
    out.push(`FROM \${BASE} AS stage${stage}`);
    n++;
    for (let i = 0; i < 48 && n < instructions; i++, n++) {
      switch (i % 12) {
        case 0: out.push(`RUN --mount=type=cache,target=/var/cache/apt${i} apt-get update && \\\n    apt-get install -y --no-install-recommends pkg${i} \\\n    && rm -rf /var/lib/apt/lists/*`); break;
        case 1: out.push(`COPY --chown=1000:1000 --chmod=0644 src/file${i}.txt /app/dir${i}/`); break;
        case 2: out.push(`ENV PATH=/opt/bin${i}:$PATH LANG="C.UTF-8" KEY${i}=value${i}`); break;
        case 3: out.push(`LABEL org.example.k${i}="v${i}" other.label="some value"`); break;
        case 4: out.push(`RUN ["/bin/sh", "-c", "echo ${i} > /tmp/f${i}"]`); break;
        case 5: out.push(`WORKDIR /app/dir${i}`); break;
        case 6: out.push(`ARG VERSION${i}=1.${i}.0`); break;
        case 7: out.push(`RUN <<EOF\nset -e\necho heredoc ${i}\nEOF`); break;
        case 8: out.push(`EXPOSE ${8000 + i}/tcp ${9000 + i}/udp`); break;
        case 9: out.push(`COPY --from=stage0 /app/dir1/ /copy${i}/`); break;
        case 10: out.push(`USER ${1000 + i}:${1000 + i}`); break;
        default: out.push(`HEALTHCHECK --interval=30s --timeout=3s CMD ["wget", "-q", "http://localhost:${8000 + i}/"]`);
      }
    }
  }
  out.push('CMD ["/bin/sh"]');
  return out.join('\n') + '\n';
}

export async function run(): Promise<string[]> {
  const text = Buffer.from(syntheticDockerfile(10_000));
  parseDockerfile(text); // warm up
  const parse = median(await timeRuns(15, () => parseDockerfile(text)));
  const dump = median(await timeRuns(15, () => parseDockerfile(text).dump()));
  const kib = (text.length / 1024).toFixed(0);
  return [
    `parse   10,000 instructions (${kib} KiB)        median ${parse.toFixed(1)} ms  (${((10_000 / parse) * 1000).toFixed(0)} instructions/s)`,
    `parse + dump 10,000 instructions              median ${dump.toFixed(1)} ms`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await run()) process.stdout.write(line + '\n');
}
