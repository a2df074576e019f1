#!/bin/sh
# Fails when the GitHub Action's payload, action-dist/ (remade by `npm run build`, which .ci/run
# has just run), differs from what is committed: a changed, deleted or new file. A runner runs
# the committed payload, so a stale one would ship code the sources no longer say.
# Usage: check-payload.sh [REPO_DIR]
set -eu
repo=${1:-.}
changes=$(git -C "$repo" status --porcelain --untracked-files=all -- action-dist)
if [ -n "$changes" ]; then
  printf '%s\n' "$changes" | head -n 20 >&2
  echo "action-dist/ is stale: run npm run build and commit action-dist/" >&2
  exit 1
fi
