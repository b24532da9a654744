#!/bin/sh
# Re-make wsscope's capture corpus (see README.md).
#
#   captures/make.sh            crafted files, then the live ones (needs root for tcpdump)
#   captures/make.sh crafted    only the crafted files, hostile/ included (pure Python 3, no network, no root)
#   captures/make.sh live [NAME.pcap ...]   only the live ones (all or the named ones)
#   captures/make.sh check      re-make the crafted files in a temp dir and compare bytes
#
# Live captures need: tcpdump (run as root), python3 with `websockets` (pip install websockets),
# node + npm (`ws` is installed into a temp dir here), chromium (Debian package).
# captures/make/verify.sh prints tshark's view of each file.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
what=${1:-all}
[ $# -gt 0 ] && shift

crafted() { python3 make/crafted.py "$here" && python3 make/hostile.py "$here/hostile"; }

live() {
  tmp=$(mktemp -d)
  npm install --silent --no-audit --no-fund --prefix "$tmp" ws@8 >/dev/null
  NODE_PATH="$tmp/node_modules" python3 make/live.py "$here" "$@" || rc=$?
  rm -rf "$tmp"
  return ${rc:-0}
}

check() {
  tmp=$(mktemp -d)
  python3 make/crafted.py "$tmp" >/dev/null
  python3 make/hostile.py "$tmp/hostile" >/dev/null
  bad=0
  for f in "$tmp"/*.pcap "$tmp"/*.pcapng; do
    cmp -s "$f" "$here/$(basename "$f")" || { echo "differs: $(basename "$f")"; bad=1; }
  done
  for f in "$tmp"/hostile/*.pcap; do
    cmp -s "$f" "$here/hostile/$(basename "$f")" || { echo "differs: hostile/$(basename "$f")"; bad=1; }
  done
  rm -rf "$tmp"
  [ $bad -eq 0 ] && echo "crafted captures: byte-identical"
  return $bad
}

case "$what" in
  all) crafted; live ;;
  crafted) crafted ;;
  live) live "$@" ;;
  check) check ;;
  *) echo "usage: $0 [all|crafted|live [NAME ...]|check]" >&2; exit 2 ;;
esac
