#!/bin/sh
# Print tshark's view of every capture: one line per WebSocket frame (stream, direction port,
# FIN, RSV, opcode, MASK, length, close code, text; comma-joined when a packet ends several frames) plus tshark's expert notes on it.
# Usage: captures/make/verify.sh [FILE ...]   (default: every pcap in captures/)
cd "$(dirname "$0")/.." || exit 1
[ $# -eq 0 ] && set -- *.pcap *.pcapng
for f in "$@"; do
  echo "== $f ($(capinfos -c -M "$f" 2>/dev/null | awk -F': *' '/Number of packets/{print $2}') packets)"
  # the mid-stream capture has no Upgrade for tshark to follow: tell it the port is WebSocket
  case "$f" in *midstream*) da="tcp.port==8080,websocket" ;; *) da="tcp.port==19101-19111,http" ;; esac
  tshark -r "$f" -d "$da" -o tcp.reassemble_out_of_order:TRUE \
    -Y 'websocket || http.response.code || http.request || tcp.analysis.flags || tcp.flags.reset==1' \
    -T fields -E occurrence=a -e frame.number -e tcp.stream -e tcp.srcport \
    -e http.request.method -e http.response.code -e websocket.fin -e websocket.rsv -e websocket.opcode \
    -e websocket.mask -e websocket.payload_length -e websocket.payload.close.status_code \
    -e websocket.payload.text -e _ws.expert.message 2>&1 | grep -v '^Running as' | cut -c1-150
done
