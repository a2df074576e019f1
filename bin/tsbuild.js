#!/bin/sh
":" //; m="$(readlink -f "$0")"; m="${m%/*}/start.cjs"; if [ -n "$NODE_EXTRA_CA_CERTS" ]; then export TSBUILD_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; fi; if [ -O / ] && [ -z "$TSBUILD_MOUNT_NAMESPACE" ] && command -v unshare >/dev/null 2>&1; then export TSBUILD_MOUNT_NAMESPACE=1; exec unshare --mount --propagation private -- node "$m" "$@"; fi; exec node "$m" "$@"
// The `tsbuild` command, written to run two ways. Executed directly (the npm bin), the line
// above is a shell command: as root it enters a private mount namespace of its own by exec
// (the builder mounts snapshot views there; they die with the process), so one process runs
// and a kill reaches the builder itself. That line starts no process it can do without (each
// costs a millisecond at every command): `[ -O / ]`, true for the owner of /, stands for "is
// root", and a root that does not own / takes the other way, where start.cjs enters the
// namespace itself. NODE_EXTRA_CA_CERTS, which Node would load as it starts, is handed over
// as TSBUILD_EXTRA_CA_CERTS, for the CLI to take back (cli/extra-ca.ts; registry/http.ts says
// why). Run as `node bin/tsbuild.js`, that line is a string and a comment, and this
// JavaScript starts the CLI (start.cjs), which re-executes itself into the namespace when it
// needs one.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./start.cjs');
