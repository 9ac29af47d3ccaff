#!/usr/bin/env bash
# The main job on the embedded default: the repository's fixture images go into the local
# store, out again as one multi-image archive, and back in from it.
set -euo pipefail
cd "$(dirname "$0")/.."
export REGTOOL_HOME=${REGTOOL_HOME:-$PWD/.demo/store}
work=$PWD/.demo
rm -rf "$work" && mkdir -p "$work"
rt() { node bin/regtool "$@"; }

echo "== load the fixture images into the local store ($REGTOOL_HOME)"
for image in alpha:1.0 beta:1.0 multi:1.0; do
  rt copy "$image" --from dir:fixtures/images --to dir
done
rt ls
echo "== verify the local store"
rt verify
