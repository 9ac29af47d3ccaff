#!/usr/bin/env bash
# The main job on the embedded default, with the repository's own fixture images: into the
# local store, out again as one multi-image archive, and back in from that archive.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$PWD/.demo
export REGTOOL_HOME=$work/store
rm -rf "$work" && mkdir -p "$work"
rt() { node bin/regtool "$@"; }

echo "== 1. put the fixture images into the local store ($REGTOOL_HOME)"
for image in alpha:1.0 beta:1.0 multi:1.0; do
  rt -q copy "$image" --from dir:fixtures/images --to dir
done
rt ls

echo
echo "== 2. save them as one archive; the layer alpha and beta share is stored once"
rt save -o "$work/images.tar.gz" alpha:1.0 beta:1.0 multi:1.0
rt ls "$work/images.tar.gz"

echo
echo "== 3. load the archive into a fresh local store and verify every blob"
export REGTOOL_HOME=$work/store2
rt load -i "$work/images.tar.gz"
rt verify
echo
echo "done: the images went into the local store, out to $work/images.tar.gz, and back."
