#!/usr/bin/env bash
# A short smoke of every fuzz target (CI): build them, seed the corpora from the
# captures, then run each target for a few seconds. A crash fails the script.
# Needs cargo-fuzz; runs on the stable toolchain through RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SMOKE_SECONDS:-5}"
export RUSTC_BOOTSTRAP=1
cargo fuzz build
./seed.sh >/dev/null
for t in $(cargo fuzz list); do
  log=$(mktemp)
  if ! cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 \
      -timeout=10 -max_len=65536 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz smoke: $t FAILED (reproducer in fuzz/artifacts/$t/)"
    exit 1
  fi
  echo "fuzz smoke: $t ok ($(grep -o 'Done [0-9]* runs' "$log" | head -1 | cut -d' ' -f2) runs in ${secs}s)"
  rm -f "$log"
done
