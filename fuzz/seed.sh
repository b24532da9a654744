#!/usr/bin/env bash
# Seeds the fuzz corpora (fuzz/corpus/TARGET/) from the project's captures and the
# shared ones, at run time: nothing binary is committed.
#   pipeline, wire: the small pcap/pcapng files themselves (at most 64 KiB each);
#   ws_frames, http1, tls, h2, app: streams and messages extracted from them by
#   seedgen/ (in the step format of src/script.rs).
# Usage: fuzz/seed.sh [CAPTURE_DIR...]   (default: captures, captures/hostile,
# ../shared/captures*). Run from anywhere; safe to run again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
if [ $# -eq 0 ]; then
  set -- "$root/captures" "$root/captures/hostile"
  for d in "$root"/../shared/captures*/; do
    [ -d "$d" ] && set -- "$@" "$d"
  done
fi
mkdir -p "$here"/corpus/{pipeline,wire,ws_frames,http1,tls,h2,app}
files=()
for d in "$@"; do
  for f in "$d"/*.pcap "$d"/*.pcapng; do
    [ -f "$f" ] || continue
    files+=("$f")
    if [ "$(stat -c %s "$f")" -le 65536 ]; then
      cp -f "$f" "$here/corpus/pipeline/$(basename "$f")"
      cp -f "$f" "$here/corpus/wire/$(basename "$f")"
    fi
  done
done
# Key logs sit beside their captures (NAME.keylog): seedgen puts them in the tls seeds.
cargo run --quiet --release --manifest-path "$here/seedgen/Cargo.toml" -- "$here/corpus" "${files[@]}"
for t in pipeline wire ws_frames http1 tls h2 app; do
  printf '%-10s %5d seeds\n' "$t" "$(ls "$here/corpus/$t" | wc -l)"
done
