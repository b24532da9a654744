#!/usr/bin/env python3
"""Make the live captures: real peers on loopback, each run inside its own tcpdump.

  live.py OUT_DIR [NAME ...]      (no NAME: all of them)

For each capture: start `tcpdump -i lo -w FILE -U --immediate-mode 'tcp port N'`, wait until it says it is
listening, run the peers, wait a moment for the last segments, stop tcpdump with SIGINT.
Needs: tcpdump, python3 with `websockets`, node with `ws` on NODE_PATH, chromium.
"""
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = [sys.executable, os.path.join(HERE, "peers.py")]
NODE = ["node", os.path.join(HERE, "node_ws.js")]

# name -> (port, command); ports distinct so each filter sees only its own scenario
CAPTURES = {
    "python-websockets-deflate.pcap": (19101, PEERS + ["ws", "19101"]),
    "python-websockets-nocompress.pcap": (19102, PEERS + ["ws", "19102", "--no-compress"]),
    "node-ws-basic.pcap": (19103, NODE + ["19103"]),
    "node-ws-deflate.pcap": (19104, NODE + ["19104", "--deflate"]),
    "python-websockets-refused-426.pcap": (19105, PEERS + ["refused", "19105"]),
    "python-websockets-client-rst.pcap": (19106, PEERS + ["abort", "19106"]),
    "chromium-python-websockets.pcap": (19107, PEERS + ["browser", "19107"]),
    "http-short-polling.pcap": (19108, PEERS + ["poll", "19108"]),
    "http-long-polling.pcap": (19109, PEERS + ["longpoll", "19109"]),
    "http-sse.pcap": (19110, PEERS + ["sse", "19110"]),
    # the same node scenario seen through `-i any`: link type LINUX_SLL2 (276)
    "node-ws-any-sll2.pcap": (19111, NODE + ["19111"], "any"),
}


def capture(out, port, cmd, iface="lo"):
    tmp = out + ".part"
    td = subprocess.Popen(["tcpdump", "-i", iface, "-n", "-U", "--immediate-mode", "-B", "65536", "-w", tmp, f"tcp port {port}"],
                          stderr=subprocess.PIPE, text=True)
    # tcpdump prints "listening on lo ..." once the filter is attached (on `-i any` after
    # a line naming the link type)
    line = td.stderr.readline()
    if "data link type" in line:
        line = td.stderr.readline()
    if "listening" not in line:
        td.kill()
        raise RuntimeError(f"tcpdump did not start: {line}")
    time.sleep(0.3)
    rc = subprocess.run(cmd, timeout=120).returncode
    # without --immediate-mode the last packets sit in the kernel ring until a block
    # timeout and are lost at SIGINT; with it, half a second is plenty
    time.sleep(0.5)
    td.send_signal(signal.SIGINT)
    err = td.communicate(timeout=10)[1]
    os.replace(tmp, out)
    summary = "; ".join(l for l in err.splitlines() if "captured" in l or "dropped" in l)
    if "\n0 packets dropped by kernel" not in "\n" + err:
        # a burst (the 1 MiB message) overran the ring: the capture would have a hole
        raise RuntimeError(f"kernel dropped packets: {summary}")
    print(f"{os.path.basename(out)}: peers rc={rc}; {summary}; {os.path.getsize(out)} bytes")
    return rc


def main():
    out_dir = sys.argv[1]
    names = sys.argv[2:] or list(CAPTURES)
    failed = 0
    for name in names:
        port, cmd, *iface = CAPTURES[name]
        for attempt in range(3):
            try:
                failed += capture(os.path.join(out_dir, name), port, cmd, *iface) != 0
                break
            except Exception as e:  # retry, then keep going: one broken peer should not cost the others
                print(f"{name}: attempt {attempt + 1} FAILED {e}", file=sys.stderr)
        else:
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
