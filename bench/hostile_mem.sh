#!/usr/bin/env bash
# Peak memory (RSS, MiB) of `stats`, `print` and `print --json` on captures built to
# exhaust memory across many connections (bench/gen_hostile.py), and the time taken.
#
#   bench/hostile_mem.sh [EXTRA wsscope ARGS...]      e.g. bench/hostile_mem.sh --max-memory 32M
#
# Needs python3, GNU time (/usr/bin/time) and a release build (built here).
# WORK (default /tmp/wsscope-hostile) keeps the generated captures between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/wsscope-hostile}
mkdir -p "$WORK"
BIN=${BIN:-target/release/wsscope}
EXTRA=("$@")
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet --bin wsscope
# shape, connections, bytes per connection
CASES=(
  "syn-flood 300000 0"
  "http-heads 4000 49152"
  "ooo 400 524288"
  "ws-half 400 524288"
  "ws-deflate 65536 64"
  "iface-flood 300000 0"
)
printf '%-12s %8s %9s %14s %14s %14s\n' shape conns MiB_file stats_MiB/s print_MiB/s json_MiB/s
for c in "${CASES[@]}"; do
  set -- $c
  f="$WORK/$1-$2-$3.pcap"
  [ -f "$f" ] || python3 bench/gen_hostile.py "$1" --out "$f" --conns "$2" --bytes "$3" >/dev/null
  row=$(printf '%-12s %8s %9s' "$1" "$2" "$(( $(stat -c %s "$f") >> 20 ))")
  for cmd in "stats" "print" "print --json"; do
    # shellcheck disable=SC2086
    /usr/bin/time -f '%M %e' -o "$WORK/time" "$BIN" $cmd -r "$f" "${EXTRA[@]}" >/dev/null 2>"$WORK/err" || true
    read -r kb secs <"$WORK/time"
    row+=$(printf ' %14s' "$(( kb / 1024 ))/$secs")
  done
  echo "$row"
done
