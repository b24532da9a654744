#!/usr/bin/env bash
# Decryption speed through the whole pipeline: `wsscope stats --keylog` on a big wss
# capture made by real peers on lo (bench/gen_wss.py: Python ssl + websockets,
# tcpdump; needs root), against the same capture read without keys (TLS records
# only, nothing decrypted or decoded above them).
#
#   bench/tls.sh [SIZE_MB] [SUITE]      e.g. bench/tls.sh 100 tls13
#
# SIZE_MB of WebSocket payload each way (default 100: about 2 x 100 MiB on the wire);
# SUITE: tls13 (TLS_AES_256_GCM_SHA384, default), tls12-gcm, tls12-chacha, tls12-cbc.
# Prints the median of RUNS runs (default 5; bench/measure.py) of wall time, CPU
# time and peak memory (/usr/bin/time), and MB/s of capture file and of decrypted
# application data. Needs a release build (made here once), python3 with websockets,
# tcpdump, openssl, /usr/bin/time (apt-get install -y tcpdump time).
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-100}
SUITE=${2:-tls13}
RUNS=${RUNS:-5}
WORK=${WORK:-/tmp/wsscope-bench}
mkdir -p "$WORK"
CAP="$WORK/wss-$SUITE-${MB}mb.pcap"
KEYS="${CAP%.pcap}.keylog"
if [ ! -f "$CAP" ] || [ ! -f "$KEYS" ]; then
  python3 bench/gen_wss.py "$CAP" "$MB" "$SUITE"
fi
cargo build --release --quiet --bin wsscope
BIN=target/release/wsscope

# The capture must decrypt in full, or the figure means nothing.
check=$("$BIN" stats --json -r "$CAP" --keylog "$KEYS" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
ok = [r for r in rows if r["tls"] and r["tls"]["decrypted"] and r["kind"] == "websocket" and r["violations"] == 0 and r["gap_bytes"] == 0]
payload = sum(r["bytes"]["payload"] for r in ok)
print(len(rows), len(ok), payload, rows[0]["tls"]["version"].replace(" ", "_"), rows[0]["tls"]["cipher"])')
set -- $check
if [ "$1" != "$2" ] || [ "$1" = 0 ]; then
  echo "only $2 of $1 connections decrypted cleanly: not a benchmark" >&2
  exit 1
fi
PAYLOAD=$3
echo "workload: $CAP ($(du -m "$CAP" | cut -f1) MiB, $1 connections, $4 $5), $RUNS runs each"
r_keys=$(python3 bench/measure.py "$RUNS" stats_keylog "$BIN" stats -r "$CAP" --keylog "$KEYS")
r_none=$(python3 bench/measure.py "$RUNS" stats_no_keys "$BIN" stats -r "$CAP")
SIZE=$(stat -c %s "$CAP")
printf '%-16s %8s %8s %9s %13s %15s\n' command wall_s cpu_s peak_MiB capture_MB/s plaintext_MB/s
for r in "$r_keys" "$r_none"; do
  set -- $r
  python3 -c "
import sys
name, wall, cpu, rss = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
size, payload = int(sys.argv[5]), int(sys.argv[6])
plain = f'{payload / wall / 1e6:.0f}' if name == 'stats_keylog' else '-'
print(f'{name:<16} {wall:8.3f} {cpu:8.3f} {rss // 1024:9d} {size / wall / 1e6:13.0f} {plain:>15}')
" "$1" "$2" "$3" "$4" "$SIZE" "$PAYLOAD"
done
echo "(MB = 10^6 bytes; plaintext = WebSocket payload bytes decrypted and decoded, both ways)"
