#!/usr/bin/env bash
# The terminal view on a large capture, measured as a person sees it (issue 12):
# time to the first screen, peak memory over the whole reading of the file, and how
# long one filter keystroke takes to answer.
#
#   bench/view.sh [SIZE_MB] [MIX]        e.g. bench/view.sh 1000 chat
#
# The capture is generated once (../shared/tools/gen_ws_pcap.py) in $WORK
# (/tmp/view-bench). The view runs in a tmux pane 160x50 under /usr/bin/time:
#   first screen  the pane shows the connection list (polled every 10 ms; this
#                 includes starting the shell command in the pane), and the
#                 view's own figure from its start (WSSCOPE_VIEW_TRACE, a file
#                 of timings the view writes only when asked, for benchmarks);
#   done          the status bar no longer says "indexing";
#   End key       from reading End (every event revealed) to the next screen;
#   filter        after End, '/' then FILTER_TEXT one key at a time: the time from sending a
#                 key to the pane showing it in the prompt (the prompt and the
#                 filtered lists are drawn together), the slowest key (tmux's
#                 own round trip, tens of ms, included), and the view's own
#                 figure: from reading the key to the next screen drawn;
#   peak RSS      /usr/bin/time's maximum resident set size after `q`.
# Needs tmux, python3, /usr/bin/time and a release build (cargo build --release).
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-1000}
MIX=${2:-chat}
WORK=${WORK:-/tmp/view-bench}
# A text no row shows and no event's label holds: the most a filter has to look at.
FILTER_TEXT=${FILTER_TEXT:-xq}
BIN=${BIN:-target/release/wsscope}
mkdir -p "$WORK"
CAP=${CAP:-$WORK/ws-${MB}mb-${MIX}.pcap}
GEN=${GEN:-../shared/tools/gen_ws_pcap.py}
[ -f "$GEN" ] || GEN=../../shared/tools/gen_ws_pcap.py # from a worktree in wt/
if [ ! -f "$CAP" ]; then
  python3 "$GEN" --out "$CAP" --target-mb "$MB" --mix "$MIX" 2>"$CAP.facts.json" >/dev/null
fi
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }

S=wsscope-view-bench-$$
RSS="$WORK/rss.$$"
TRACE="$WORK/trace.$$"
rm -f "$RSS" "$TRACE"
touch "$TRACE" # a view without WSSCOPE_VIEW_TRACE leaves it empty
now() { date +%s.%N; }
cleanup() { tmux kill-session -t "$S" 2>/dev/null || true; }
trap cleanup EXIT
tmux new-session -d -s "$S" -x 160 -y 50
# Drop the page cache's advantage evenly: read the file once before (the view's
# first screen should not depend on whether the disk is cold).
cat "$CAP" >/dev/null
start=$(now)
tmux send-keys -t "$S" "WSSCOPE_VIEW_TRACE=$TRACE /usr/bin/time -f %M -o $RSS $BIN view -r $CAP; tmux wait-for -S $S-done" Enter
first=""
while :; do
  if tmux capture-pane -p -t "$S" | grep -q "Connections ("; then
    first=$(now); break
  fi
  if [ "$(echo "$(now) - $start > 60" | bc)" = 1 ]; then echo "no first screen in 60 s" >&2; exit 1; fi
  sleep 0.01
done
while tmux capture-pane -p -t "$S" | grep -q "indexing"; do sleep 0.05; done
done_t=$(now)
# End: everything revealed (every row's summary folded), then one filter: '/',
# FILTER_TEXT typed one key at a time (each answered before the next).
tmux send-keys -t "$S" End
sleep 1
tmux send-keys -t "$S" "/"
sleep 0.3
slowest=0
for ((k = 0; k < ${#FILTER_TEXT}; k++)); do
  want="/${FILTER_TEXT:0:$((k + 1))}█"
  t0=$(now)
  tmux send-keys -t "$S" -l "${FILTER_TEXT:$k:1}"
  until tmux capture-pane -p -t "$S" | grep -qF "$want"; do sleep 0.002; done
  dt=$(echo "($(now) - $t0) * 1000" | bc)
  slowest=$(echo "if ($dt > $slowest) $dt else $slowest" | bc)
  sleep 0.2
done
tmux send-keys -t "$S" Enter
sleep 0.3
tmux send-keys -t "$S" q
tmux wait-for "$S-done"
echo "capture:        $CAP ($(du -m "$CAP" | cut -f1) MB)"
echo "first screen:   $(echo "$first - $start" | bc) s in tmux, $(awk '/^first_screen/ { print $2 }' "$TRACE") ms in the view"
echo "fully read:     $(echo "$done_t - $start" | bc) s"
echo "End key:        $(awk '/^key/ { print $2; exit }' "$TRACE") ms in the view (reveals every event)"
printf "filter key:     %.0f ms in tmux, %s ms in the view (slowest of %d keys)\n" "$slowest" \
  "$(awk '/^key/ { if (++n > 2 && $2 > m) m = $2 } END { print m }' "$TRACE")" "${#FILTER_TEXT}"
echo "peak RSS:       $(( $(cat "$RSS" | tail -1) / 1024 )) MiB"
rm -f "$RSS" "$TRACE"
