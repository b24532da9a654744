#!/usr/bin/env python3
"""Write a capture built to exhaust memory across many connections (standard library only).

  gen_hostile.py SHAPE --out FILE [--conns N] [--bytes B]

SHAPE is one of:
  syn-flood   N SYNs from distinct addresses and ports, never answered (SYN only)
  http-heads  N connections, each after its handshake sending B bytes of an HTTP request
              head that never ends (no blank line): held until the head is complete
  ooo         N connections, each sending B bytes after a missing first byte that never
              comes (the server never acknowledges): held for reassembly
  ws-half     N WebSocket connections, each with a message of B bytes begun (text frames
              without FIN) and never finished: held while whole payloads are kept
  ws-deflate  N WebSocket connections with permessage-deflate, each direction sending one
              compressed message of B bytes: the inflate state (window) of each is kept
  iface-flood a pcapng file: N times a new interface and one SYN on it (every packet
              after new header blocks: what a reader keeps to start again there)

Defaults: N = 300000 for syn-flood and iface-flood, 4000 otherwise; B = 48 KiB. Packets
are LINKTYPE_RAW (IPv4 headers first), deterministic (no clock, no random source), streamed to the file.
bench/hostile_mem.sh measures wsscope's peak memory on each shape.
"""
import argparse
import base64
import hashlib
import struct
import zlib

SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01
MSS = 1460
T0_US = 1_700_000_000_000_000
SERVER = bytes([192, 168, 200, 1])
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Writer:
    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101))
        self.t = T0_US
        self.ip_id = 0
        self.packets = 0

    def packet(self, src, sport, dst, dport, seq, ack, flags, data=b""):
        self.t += 10
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(data), self.ip_id, 0x4000, 64, 6, 0,
                         src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        pkt = ip + tcp + data
        self.f.write(struct.pack("<IIII", self.t // 1_000_000, self.t % 1_000_000, len(pkt),
                                 len(pkt)))
        self.f.write(pkt)
        self.packets += 1

    def close(self):
        self.f.close()


class NgWriter(Writer):
    """pcapng: a section header, then interfaces and enhanced packet blocks."""

    def __init__(self, path):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28))
        self.t = T0_US
        self.ip_id = 0
        self.packets = 0
        self.ifaces = 0

    def interface(self):
        self.f.write(struct.pack("<IIHHII", 1, 20, 101, 0, 262144, 20))
        self.ifaces += 1

    def packet(self, src, sport, dst, dport, seq, ack, flags, data=b""):
        # The classic record written to a buffer, then wrapped as a block on the last
        # interface.
        f, self.f = self.f, _Buffer()
        Writer.packet(self, src, sport, dst, dport, seq, ack, flags, data)
        record, self.f = self.f.data, f
        _, _, caplen, _ = struct.unpack("<IIII", record[:16])
        pkt = record[16:]
        padded = pkt + bytes(-len(pkt) % 4)
        size = 32 + len(padded)
        self.f.write(struct.pack("<IIIIIII", 6, size, self.ifaces - 1, self.t >> 32,
                                 self.t & 0xFFFFFFFF, caplen, caplen))
        self.f.write(padded + struct.pack("<I", size))


class _Buffer:
    def __init__(self):
        self.data = b""

    def write(self, b):
        self.data += b


class Conn:
    """Connection i: client 10.a.b.c:port to SERVER:80, sequence numbers tracked."""

    def __init__(self, w, i, sport=80):
        self.w = w
        self.c = bytes([10, (i >> 16) & 0xFF, (i >> 8) & 0xFF, i & 0xFF])
        self.cport = 1024 + (i * 7919) % 64000
        self.sport = sport
        self.nxt = {True: (i * 2654435761) & 0xFFFFFFFF, False: (i * 40503 + 7) & 0xFFFFFFFF}

    def seg(self, c2s, flags, data=b"", seq=None):
        s = self.nxt[c2s] if seq is None else seq
        a = self.nxt[not c2s] if flags & ACK else 0
        if c2s:
            self.w.packet(self.c, self.cport, SERVER, self.sport, s, a, flags, data)
        else:
            self.w.packet(SERVER, self.sport, self.c, self.cport, s, a, flags, data)

    def syn(self):
        self.seg(True, SYN)
        self.nxt[True] += 1

    def handshake(self):
        self.syn()
        self.seg(False, SYN | ACK)
        self.nxt[False] += 1
        self.seg(True, ACK)

    def send(self, c2s, data):
        for off in range(0, len(data), MSS):
            chunk = data[off:off + MSS]
            self.seg(c2s, PSH | ACK, chunk)
            self.nxt[c2s] += len(chunk)


def ws_frame(opcode, payload, fin=True, key=None, rsv1=False):
    b0 = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    m = 0x80 if key else 0
    if n < 126:
        h = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        h = struct.pack("!BBH", b0, m | 126, n)
    else:
        h = struct.pack("!BBQ", b0, m | 127, n)
    if key:
        payload = bytes(b ^ key[j % 4] for j, b in enumerate(payload))
        return h + key + payload
    return h + payload


def upgrade(conn, i, deflate=False):
    key = base64.b64encode(hashlib.sha1(b"k%d" % i).digest()[:16])
    ext = b"Sec-WebSocket-Extensions: permessage-deflate\r\n" if deflate else b""
    conn.send(True, b"GET /ws HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n" + ext + b"\r\n")
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    conn.send(False, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n" + ext + b"\r\n")


def text(n, seed):
    line = b"message %d: the quick brown fox jumps over the lazy dog. " % seed
    return (line * (n // len(line) + 1))[:n]


def syn_flood(w, n, _b):
    for i in range(n):
        Conn(w, i).syn()


def iface_flood(w, n, _b):
    for i in range(n):
        w.interface()
        Conn(w, i).syn()


def http_heads(w, n, b):
    for i in range(n):
        conn = Conn(w, i)
        conn.handshake()
        head = b"GET /held/%d HTTP/1.1\r\nHost: s\r\n" % i
        k = 0
        while len(head) < b:
            head += b"X-Filler-%05d: %s\r\n" % (k, b"a" * 64)
            k += 1
        conn.send(True, head[:b])


def ooo(w, n, b):
    for i in range(n):
        conn = Conn(w, i)
        conn.handshake()
        data = text(b + 1, i)
        start = conn.nxt[True]
        # byte 0 never comes: everything after it waits
        for off in range(1, len(data), MSS):
            conn.seg(True, PSH | ACK, data[off:off + MSS], seq=start + off)


def ws_half(w, n, b):
    key = b"\x11\x22\x33\x44"
    for i in range(n):
        conn = Conn(w, i)
        conn.handshake()
        upgrade(conn, i)
        data = text(b, i)
        frames = b""
        step = 16384
        for off in range(0, len(data), step):
            frames += ws_frame(1 if off == 0 else 0, data[off:off + step], fin=False, key=key)
        conn.send(True, frames)


def ws_deflate(w, n, b):
    key = b"\x55\x66\x77\x88"
    for i in range(n):
        conn = Conn(w, i)
        conn.handshake()
        upgrade(conn, i, deflate=True)
        for c2s in (True, False):
            z = zlib.compressobj(9, zlib.DEFLATED, -15)
            body = z.compress(text(b, i)) + z.flush(zlib.Z_SYNC_FLUSH)
            body = body[:-4]  # RFC 7692 7.2.1: the trailing 00 00 ff ff is removed
            conn.send(c2s, ws_frame(1, body, key=key if c2s else None, rsv1=True))


SHAPES = {
    "syn-flood": syn_flood,
    "http-heads": http_heads,
    "ooo": ooo,
    "ws-half": ws_half,
    "ws-deflate": ws_deflate,
    "iface-flood": iface_flood,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("shape", choices=sorted(SHAPES))
    ap.add_argument("--out", required=True)
    ap.add_argument("--conns", type=int)
    ap.add_argument("--bytes", type=int, default=48 * 1024)
    a = ap.parse_args()
    n = a.conns if a.conns is not None else (300_000 if "flood" in a.shape else 4000)
    w = NgWriter(a.out) if a.shape == "iface-flood" else Writer(a.out)
    SHAPES[a.shape](w, n, a.bytes)
    w.close()
    print(f"{a.out}: {a.shape}, {n} connections, {w.packets} packets")


if __name__ == "__main__":
    main()
