#!/usr/bin/env bash
# Whole-process benchmark of `wsscope stats` against tshark and a raw libpcap read,
# on the reference workload (../shared/tools/gen_ws_pcap.py).
#
#   bench/run.sh [SIZE_MB] [MIX]        e.g. bench/run.sh 200 chat
#
# MIX is the generator's: chat (the reference: 100 MB, 200 concurrent), small
# (2..125-byte messages: per-frame costs) or bulk (up to 1 MiB messages: per-byte
# costs; generated with 8 connections at once and 20 messages each, since 200 at
# once would write tens of GB). CONCURRENT and MESSAGES override.
#
# Prints wall time, CPU time (user + sys) and peak memory of each command, the
# median of RUNS runs (default 5; bench/measure.py), and the ratios. On a shared
# machine the CPU time is the steadier figure. Needs python3, tshark for the
# comparison (apt-get install -y tshark time), and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
MIX=${2:-chat}
RUNS=${RUNS:-5}
WORK=${WORK:-/tmp/wsscope-bench}
mkdir -p "$WORK"
CAP="$WORK/ws-${MB}mb-${MIX}.pcap"
if [ "$MIX" = bulk ]; then
  CONCURRENT=${CONCURRENT:-8}; MESSAGES=${MESSAGES:-20}
fi
GEN=${GEN:-../shared/tools/gen_ws_pcap.py}
[ -f "$GEN" ] || GEN=../../shared/tools/gen_ws_pcap.py # from a worktree in wt/
if [ ! -f "$CAP" ]; then
  python3 "$GEN" --out "$CAP" --target-mb "$MB" \
    --concurrent "${CONCURRENT:-200}" --messages "${MESSAGES:-200}" --mix "$MIX" 2>"$CAP.facts.json"
fi
cargo build --release --quiet --bin wsscope --example pcap_read
BIN=target/release/wsscope
READ=target/release/examples/pcap_read

measure() { # name cmd...: prints "name median_wall_s median_cpu_s max_rss_kib"
  python3 bench/measure.py "$RUNS" "$@"
}

echo "workload: $CAP ($(du -m "$CAP" | cut -f1) MiB), $RUNS runs each, median wall time"
r_read=$(measure pcap_read "$READ" "$CAP")
# The issue's "raw libpcap read": tcpdump copying the file to nowhere.
if command -v tcpdump >/dev/null; then
  r_tcpdump=$(measure tcpdump_raw_read tcpdump -Z root -r "$CAP" -w /dev/null)
else
  r_tcpdump=$r_read
fi
r_stats=$(measure wsscope_stats "$BIN" stats -r "$CAP")
r_json=$(measure wsscope_print_json "$BIN" print --json -r "$CAP")
printf '%-22s %10s %10s %12s\n' command wall_s cpu_s peak_MiB
for r in "$r_read" "$r_tcpdump" "$r_stats" "$r_json"; do
  set -- $r; printf '%-22s %10s %10s %12s\n' "$1" "$2" "$3" "$(( $4 / 1024 ))"
done
if command -v tshark >/dev/null; then
  r_tshark=$(RUNS=1 measure tshark_websocket tshark -r "$CAP" -Y websocket -T fields -e tcp.stream -e websocket.opcode)
  set -- $r_tshark; printf '%-22s %10s %10s %12s\n' "$1" "$2" "$3" "$(( $4 / 1024 ))"
  t_tshark=$2
  set -- $r_stats
  awk -v a="$t_tshark" -v b="$2" 'BEGIN {printf "stats is %.1fx faster than tshark\n", a / b}'
fi
set -- $r_tcpdump; t_read=$2
set -- $r_stats; t_stats=$2
set -- $r_json; t_json=$2
# Speeds relative to the raw read (the issue's targets: stats >= 0.6x on small
# frames and >= 0.9x on chat, print --json >= 0.25x on small frames).
awk -v r="$t_read" -v s="$t_stats" -v j="$t_json" 'BEGIN {
  printf "speed relative to the raw read (tcpdump -r F -w /dev/null): stats %.2fx, print --json %.2fx\n", r / s, r / j }'
