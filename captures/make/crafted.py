#!/usr/bin/env python3
"""Write the crafted captures: WebSocket edge cases built byte by byte.

  crafted.py OUT_DIR

Everything is deterministic (fixed seeds, fixed timestamps starting at 2023-11-14 22:13:20 UTC),
so re-running writes byte-identical files: golden snapshot tests can rely on them.
Packets carry correct IPv4/IPv6 and TCP checksums; TCP has no options; clients are
10.0.0.1 / fd00::1, servers 10.0.0.2 / fd00::2 port 8080.

Each file is one or a few WebSocket connections (3-way handshake, HTTP Upgrade with a correct
Sec-WebSocket-Accept unless the point is otherwise, frames, close, FIN) with one twist.
Connections in a file follow each other in time; each gets its own client port.
"""
import base64
import hashlib
import os
import random
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
T0_US = 1_700_000_000_000_000
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10
MSS = 1448

LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL2 = 0, 1, 101, 276


# ------------------------------------------------------------------ WebSocket frames
def mask_bytes(payload, key):
    return bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def frame(opcode, payload=b"", fin=True, key=None, rsv=0, len_form=None, length=None):
    """One frame. key: 4-byte masking key (masked) or None. len_form forces the length
    encoding (7, 16 or 64) so non-minimal encodings can be written; length overrides the
    value written in the header (the payload bytes written stay `payload`)."""
    b0 = (0x80 if fin else 0) | (rsv << 4) | (opcode & 0x0F)
    n = len(payload) if length is None else length
    m = 0x80 if key is not None else 0
    form = len_form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        hdr = struct.pack("!BB", b0, m | n)
    elif form == 16:
        hdr = struct.pack("!BBH", b0, m | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, m | 127, n)
    if key is not None:
        return hdr + key + mask_bytes(payload, key)
    return hdr + payload


def close_payload(code, reason=b""):
    return struct.pack("!H", code) + reason


# ------------------------------------------------------------------ TCP/IP packets
def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Seg:
    """One TCP segment as it will appear in the capture (in list order)."""

    def __init__(self, c2s, flags, seq, ack, data, delay_us):
        self.c2s, self.flags, self.seq, self.ack, self.data, self.delay_us = c2s, flags, seq, ack, data, delay_us


class Conn:
    """A TCP connection whose segments are appended in capture order.

    Sequence numbers live in the stream model: `stream[c2s]` holds every byte sent so far,
    so a scenario can cut, repeat or overlap any byte range with `seg_at`."""

    def __init__(self, rng, cport, sport=8080, v6=False, cisn=None, sisn=None):
        self.rng, self.cport, self.sport, self.v6 = rng, cport, sport, v6
        self.isn = {True: cisn if cisn is not None else rng.getrandbits(32),
                    False: sisn if sisn is not None else rng.getrandbits(32)}
        # next sequence number = isn + 1 (SYN) + len(stream)
        self.stream = {True: b"", False: b""}
        self.syn_done = {True: False, False: False}
        self.fin_sent = {True: False, False: False}
        self.segs = []

    def nxt(self, c2s):
        return (self.isn[c2s] + int(self.syn_done[c2s]) + len(self.stream[c2s])
                + int(self.fin_sent[c2s])) & 0xFFFFFFFF

    def ackno(self, c2s):
        # what side c2s acknowledges: everything the other side sent
        return self.nxt(not c2s) if self.syn_done[not c2s] else 0

    def add(self, c2s, flags, data=b"", delay_us=1000, seq=None):
        s = Seg(c2s, flags, self.nxt(c2s) if seq is None else seq,
                self.ackno(c2s) if flags & ACK else 0, data, delay_us)
        self.segs.append(s)
        return s

    def handshake(self, delay_us=300):
        self.add(True, SYN, delay_us=0)
        self.syn_done[True] = True
        self.add(False, SYN | ACK, delay_us=delay_us)
        self.syn_done[False] = True
        self.add(True, ACK, delay_us=delay_us)

    def send(self, c2s, data, delay_us=2000, mss=MSS, ack=True, step_us=30):
        """Append data to the stream as MSS-sized segments, then (optionally) a bare ACK."""
        out = []
        for off in range(0, len(data), mss):
            chunk = data[off:off + mss]
            out.append(self.add(c2s, PSH | ACK, chunk, delay_us if off == 0 else step_us))
            self.stream[c2s] += chunk
        if ack:
            self.add(not c2s, ACK, delay_us=200)
        return out

    def seg_at(self, c2s, start, end, delay_us=1000, flags=PSH | ACK):
        """A segment carrying stream bytes [start, end) of one side (not appended)."""
        seq = (self.isn[c2s] + 1 + start) & 0xFFFFFFFF
        return Seg(c2s, flags, seq, self.ackno(c2s), self.stream[c2s][start:end], delay_us)

    def fin(self, c2s, delay_us=1000):
        self.add(c2s, FIN | ACK, delay_us=delay_us)
        self.fin_sent[c2s] = True

    def teardown(self, first_c2s=False):
        self.fin(first_c2s, 1000)
        self.fin(not first_c2s, 300)
        self.add(first_c2s, ACK, delay_us=100)


# addresses
C4, S4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
C6, S6 = bytes.fromhex("fd000000000000000000000000000001"), bytes.fromhex("fd000000000000000000000000000002")
MAC_C, MAC_S = bytes.fromhex("0200000000c1"), bytes.fromhex("0200000000c2")


def ip_packet(conn, seg, ip_id):
    src, dst = (C6, S6) if conn.v6 else (C4, S4)
    sp, dp = conn.cport, conn.sport
    if not seg.c2s:
        src, dst, sp, dp = dst, src, dp, sp
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seg.seq, seg.ack, 5 << 4, seg.flags, 65535, 0, 0) + seg.data
    if conn.v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(tcp), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(tcp))
    c = csum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    if conn.v6:
        return struct.pack("!IHBB", 0x60000000, len(tcp), 6, 64) + src + dst + tcp
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id, 0x4000, 64, 6, 0, src, dst)
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + tcp


def link_ethernet(c2s, ip, v6, tags=()):
    """Ethernet II, with optional VLAN tags: tags = ((tpid, vid), ...) outermost first."""
    macs = (MAC_S + MAC_C) if c2s else (MAC_C + MAC_S)
    hdr = macs
    for tpid, vid in tags:
        hdr += struct.pack("!HH", tpid, vid)
    return hdr + struct.pack("!H", 0x86DD if v6 else 0x0800) + ip


def link_sll2(c2s, ip, v6):
    # as `tcpdump -i any` on the client host (eth0 = ifindex 2): own packets OUTGOING (4),
    # the server's packets addressed to us (HOST, 0); the address is the packet's source MAC
    src_mac = MAC_C if c2s else MAC_S
    hdr = struct.pack("!HHIHBB", 0x86DD if v6 else 0x0800, 0, 2, 1, 4 if c2s else 0, 6) + src_mac + b"\0\0"
    return hdr + ip


def link_null(c2s, ip, v6):
    # BSD loopback: address family in the capturing host's byte order (little-endian here)
    return struct.pack("<I", 30 if v6 else 2) + ip


def link_raw(c2s, ip, v6):
    return ip


LINKS = {
    "ethernet": (LINKTYPE_ETHERNET, lambda c2s, ip, v6: link_ethernet(c2s, ip, v6)),
    "vlan": (LINKTYPE_ETHERNET, lambda c2s, ip, v6: link_ethernet(c2s, ip, v6, ((0x8100, 0x2000 | 42),))),
    "qinq": (LINKTYPE_ETHERNET, lambda c2s, ip, v6: link_ethernet(c2s, ip, v6, ((0x88A8, 100), (0x8100, 200)))),
    "sll2": (LINKTYPE_LINUX_SLL2, link_sll2),
    "null": (LINKTYPE_NULL, link_null),
    "raw": (LINKTYPE_RAW, link_raw),
}


def pcap_bytes(conns, link="ethernet", snaplen=262144, gap_between_us=50_000):
    """All connections' segments, one after the other, as a classic little-endian pcap."""
    linktype, enc = LINKS[link]
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype)]
    t = T0_US
    ip_id = 0x1000
    for i, conn in enumerate(conns):
        if i:
            t += gap_between_us
        for seg in conn.segs:
            t += seg.delay_us
            ip_id = (ip_id + 1) & 0xFFFF
            pkt = enc(seg.c2s, ip_packet(conn, seg, ip_id), conn.v6)
            cap = pkt[:snaplen]
            out.append(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(cap), len(pkt)) + cap)
    return b"".join(out)


def pcapng_bytes(conns, link="ethernet"):
    """The same packets as pcap_bytes, as pcapng: SHB, one IDB (microsecond resolution by
    default), one EPB per packet, little-endian."""
    linktype, enc = LINKS[link]

    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    def opt(code, val):
        return struct.pack("<HH", code, len(val)) + val + b"\0" * (-len(val) % 4)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                + opt(4, b"wsscope captures/make/crafted.py") + opt(0, b""))
    idb = block(1, struct.pack("<HHI", linktype, 0, 262144) + opt(2, b"eth0") + opt(0, b""))
    out = [shb, idb]
    t = T0_US
    ip_id = 0x1000
    for i, conn in enumerate(conns):
        if i:
            t += 50_000
        for seg in conn.segs:
            t += seg.delay_us
            ip_id = (ip_id + 1) & 0xFFFF
            pkt = enc(seg.c2s, ip_packet(conn, seg, ip_id), conn.v6)
            out.append(block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(pkt), len(pkt)) + pkt))
    return b"".join(out)


def pcap_be_ns_bytes(conns, link="ethernet"):
    """The same packets as pcap_bytes, as a big-endian nanosecond-resolution pcap
    (magic a1 b2 3c 4d as written by a big-endian host)."""
    le = pcap_bytes(conns, link)
    out = [struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, LINKS[link][0])]
    off = 24
    while off < len(le):
        sec, usec, incl, orig = struct.unpack_from("<IIII", le, off)
        out.append(struct.pack(">IIII", sec, usec * 1000 + 123, incl, orig) + le[off + 16:off + 16 + incl])
        off += 16 + incl
    return b"".join(out)


# ------------------------------------------------------------------ the WebSocket script
def upgrade_request(rng, path=b"/chat", version=b"13", connection=b"Upgrade", extra=b""):
    key = base64.b64encode(rng.randbytes(16))
    lines = [b"GET " + path + b" HTTP/1.1", b"Host: 10.0.0.2:8080", b"User-Agent: wsscope-crafted/1",
             b"Upgrade: websocket"]
    if connection is not None:
        lines.append(b"Connection: " + connection)
    lines += [b"Sec-WebSocket-Key: " + key, b"Sec-WebSocket-Version: " + version]
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n", key


def accept_for(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def upgrade_response(key, accept=None, extra=b""):
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + (accept or accept_for(key)) + b"\r\n" + extra + b"\r\n")


def open_ws(conn, **req_kw):
    """3WHS + Upgrade request/101 response."""
    conn.handshake()
    req, key = upgrade_request(conn.rng, **req_kw)
    conn.send(True, req, delay_us=500)
    conn.send(False, upgrade_response(key), delay_us=800)
    return key


def ckey(conn):
    return conn.rng.randbytes(4)


def cframe(conn, opcode, payload=b"", **kw):
    """A client frame (masked with a fresh key)."""
    return frame(opcode, payload, key=ckey(conn), **kw)


def close_ws(conn, code=1000, reason=b"bye", client_first=True):
    p = close_payload(code, reason)
    if client_first:
        conn.send(True, cframe(conn, 8, p), delay_us=5000)
        conn.send(False, frame(8, p), delay_us=400)
        conn.teardown(first_c2s=False)  # server closes TCP first (RFC 6455 7.1.1)
    else:
        conn.send(False, frame(8, p), delay_us=5000)
        conn.send(True, cframe(conn, 8, p), delay_us=400)
        conn.teardown(first_c2s=False)


BIG_TEXT = ("".join(f"line {i:04d}: the quick brown fox jumps over the lazy dog\n" for i in range(60))).encode()


def standard_conversation(conn, big=True):
    """The body every link-layer/IP variant shares: small text both ways, binary with a
    16-bit length, ping/pong, a 3.3 KB server text split over three TCP segments."""
    conn.send(True, cframe(conn, 1, b"hello server"), delay_us=3000)
    conn.send(False, frame(1, b"hello client"), delay_us=700)
    conn.send(True, cframe(conn, 2, bytes(range(16))), delay_us=4000)
    conn.send(False, frame(2, bytes(range(256)) + bytes(44)), delay_us=700)  # 300 B: 16-bit length
    conn.send(True, cframe(conn, 9, b"ping-1"), delay_us=4000)
    conn.send(False, frame(10, b"ping-1"), delay_us=300)
    if big:
        conn.send(False, frame(1, BIG_TEXT), delay_us=5000)
    conn.send(True, cframe(conn, 1, b"thanks"), delay_us=3000)


def basic_conn(seed, cport=50000, v6=False, **kw):
    rng = random.Random(seed)
    conn = Conn(rng, cport, v6=v6, **kw)
    open_ws(conn)
    standard_conversation(conn)
    close_ws(conn)
    return conn


# ------------------------------------------------------------------ scenarios
def s_basic():
    # seed 2 like the link-layer variants: their TCP payloads are byte-identical to this file
    return [basic_conn(2)], {}


def s_link(link, v6=False):
    def make():
        return [basic_conn(2, v6=v6)], {"link": link}
    return make


def s_snaplen():
    return [basic_conn(2)], {"snaplen": 96}


def s_out_of_order():
    rng = random.Random(10)
    conn = Conn(rng, 50010)
    open_ws(conn)
    conn.send(True, cframe(conn, 1, b"send me the big one"), delay_us=3000)
    # the server's 3.3 KB text frame travels as segments 1,2,3 but is captured as 1,3,2
    segs = conn.send(False, frame(1, BIG_TEXT), delay_us=700, ack=False)
    i = conn.segs.index(segs[1])
    conn.segs[i], conn.segs[i + 1] = conn.segs[i + 1], conn.segs[i]
    conn.add(True, ACK, delay_us=200)
    # a client message of two frames in two segments, captured second-first
    a, b = cframe(conn, 1, b"first frame"), cframe(conn, 1, b"second frame")
    s1 = conn.send(True, a, delay_us=4000, ack=False)[0]
    s2 = conn.send(True, b, delay_us=100, ack=False)[0]
    i = conn.segs.index(s1)
    conn.segs[i], conn.segs[i + 1] = s2, s1
    conn.add(False, ACK, delay_us=200)
    conn.send(False, frame(1, b"got both"), delay_us=700)
    close_ws(conn)
    return [conn], {}


def s_retransmission():
    rng = random.Random(11)
    conn = Conn(rng, 50011)
    conn.handshake()
    req, key = upgrade_request(rng)
    conn.send(True, req, delay_us=500)
    # the 101 response is sent, not acknowledged, and sent again 200 ms later (RTO)
    resp = upgrade_response(key)
    s = conn.send(False, resp, delay_us=800, ack=False)[0]
    conn.segs.append(Seg(False, s.flags, s.seq, s.ack, s.data, 200_000))
    conn.add(True, ACK, delay_us=200)
    conn.send(True, cframe(conn, 1, b"hello server"), delay_us=3000)
    # the middle segment of the big frame is lost after the capture point (we see it once):
    # the client acknowledges only up to it (an ACK and a duplicate), the server retransmits
    # it (fast retransmit), then the client acknowledges everything
    segs = conn.send(False, frame(1, BIG_TEXT), delay_us=700, ack=False)
    m = segs[1]
    for d in (200, 60):
        conn.segs.append(Seg(True, ACK, conn.nxt(True), m.seq, b"", d))
    conn.segs.append(Seg(False, m.flags, m.seq, m.ack, m.data, 25_000))
    conn.add(True, ACK, delay_us=200)
    # a client frame retransmitted in full (spurious retransmission: the ACK was just slow)
    c = conn.send(True, cframe(conn, 1, b"are you there?"), delay_us=4000, ack=False)[0]
    conn.segs.append(Seg(True, c.flags, c.seq, c.ack, c.data, 210_000))
    conn.add(False, ACK, delay_us=300)
    conn.send(False, frame(1, b"yes"), delay_us=700)
    close_ws(conn)
    return [conn], {}


def s_overlap():
    rng = random.Random(12)
    conn = Conn(rng, 50012)
    open_ws(conn)
    conn.send(True, cframe(conn, 1, b"hello server"), delay_us=3000)
    # the server's big frame is sent as [0,1448) then a re-segmented retransmission
    # [1000, 2448) (overlapping 448 bytes with identical content) then [2448, end)
    base = len(conn.stream[False])
    f = frame(1, BIG_TEXT)
    conn.stream[False] += f
    end = len(conn.stream[False])
    for lo, hi, d in ((base, base + 1448, 700), (base + 1000, base + 2448, 20_000), (base + 2448, end, 50)):
        conn.segs.append(conn.seg_at(False, lo, hi, delay_us=d))
    conn.add(True, ACK, delay_us=200)
    # client: two frames; the second segment starts 5 bytes early and those 5 bytes differ
    # from what was first sent (an inconsistent overlap: receivers keep the first copy on Linux)
    a = cframe(conn, 1, b"overlap-one")
    b = cframe(conn, 1, b"overlap-two")
    base = len(conn.stream[True])
    conn.stream[True] += a + b
    s1 = conn.seg_at(True, base, base + len(a), delay_us=4000)
    s2 = conn.seg_at(True, base + len(a) - 5, base + len(a) + len(b), delay_us=100)
    s2.data = b"XXXXX" + s2.data[5:]
    conn.segs += [s1, s2]
    conn.add(False, ACK, delay_us=200)
    conn.send(False, frame(1, b"ok"), delay_us=700)
    close_ws(conn)
    return [conn], {}


def s_gap():
    rng = random.Random(13)
    conn = Conn(rng, 50013)
    open_ws(conn)
    conn.send(True, cframe(conn, 1, b"hello server"), delay_us=3000)
    # the middle of the three segments of a 3.3 KB frame is never captured; the client's
    # ACK covers it (the host got it, the capture did not)
    segs = conn.send(False, frame(1, BIG_TEXT), delay_us=700, ack=False)
    conn.segs.remove(segs[1])
    conn.add(True, ACK, delay_us=200)
    # data resumes cleanly at the next frame boundary
    conn.send(False, frame(1, b"after the gap"), delay_us=3000)
    conn.send(True, cframe(conn, 1, b"still here"), delay_us=3000)
    # a whole small frame lost in the other direction too
    lost = conn.send(True, cframe(conn, 1, b"this frame was not captured"), delay_us=3000, ack=False)
    conn.segs.remove(lost[0])
    conn.send(True, cframe(conn, 1, b"but this one was"), delay_us=2000)
    conn.send(False, frame(1, b"ack"), delay_us=700)
    close_ws(conn)
    return [conn], {}


def s_coalesced_split():
    rng = random.Random(16)
    conn = Conn(rng, 50016)
    conn.handshake()
    req, key = upgrade_request(rng)
    # the Upgrade request itself split in two segments in the middle of a header line
    conn.send(True, req[:40], delay_us=500, ack=False)
    conn.send(True, req[40:], delay_us=100)
    # the 101 response and the server's first two frames (text + ping) in one segment
    conn.send(False, upgrade_response(key) + frame(1, b"welcome") + frame(9, b"hi?"), delay_us=800)
    conn.send(True, cframe(conn, 10, b"hi?"), delay_us=300)
    # three client frames in one segment, the last one continued in the next segment
    f1, f2 = cframe(conn, 1, b"one"), cframe(conn, 1, b"two")
    f3 = cframe(conn, 2, bytes(range(200)))
    conn.send(True, f1 + f2 + f3[:50], delay_us=3000, ack=False)
    conn.send(True, f3[50:], delay_us=100)
    # a server frame whose header is split after its first byte, then one split inside the
    # 16-bit length; a client frame split inside its masking key
    g = frame(1, b"split after the first header byte")
    conn.send(False, g[:1], delay_us=3000, ack=False)
    conn.send(False, g[1:], delay_us=100)
    h = frame(2, bytes(300))
    conn.send(False, h[:3], delay_us=3000, ack=False)
    conn.send(False, h[3:], delay_us=100)
    k = cframe(conn, 1, b"split inside the masking key")
    conn.send(True, k[:4], delay_us=3000, ack=False)
    conn.send(True, k[4:], delay_us=100)
    # a fragmented message whose three frames share one segment, and the close in the same
    # segment as the last data frame
    conn.send(True, cframe(conn, 1, b"a", fin=False) + cframe(conn, 0, b"b", fin=False) + cframe(conn, 0, b"c"),
              delay_us=3000)
    p = close_payload(1000, b"bye")
    conn.send(False, frame(1, b"last words") + frame(8, p), delay_us=3000)
    conn.send(True, cframe(conn, 8, p), delay_us=400)
    conn.teardown(first_c2s=False)
    return [conn], {}


def s_seq_wrap():
    # client ISN 100 below 2^32: its sequence numbers wrap inside the Upgrade request; server
    # ISN 1000 below: they wrap inside the 3.3 KB frame
    conn = basic_conn(14, cport=50014, cisn=0xFFFFFFFF - 100, sisn=0xFFFFFFFF - 1000)
    return [conn], {}


def s_midstream():
    rng = random.Random(15)
    conn = Conn(rng, 50015)
    # the capture starts long after the handshake: mark both sides as past their SYN
    conn.syn_done[True] = conn.syn_done[False] = True
    conn.stream[True] = b"\0" * 5000     # bytes sent before the capture began (never written)
    conn.stream[False] = b"\0" * 20000
    conn.segs = []
    conn.send(False, frame(1, b'{"tick":41}'), delay_us=0)
    conn.send(True, cframe(conn, 1, b'{"ack":41}'), delay_us=2000)
    conn.send(False, frame(1, b'{"tick":42}'), delay_us=100_000)
    conn.send(True, cframe(conn, 2, bytes(range(40))), delay_us=2000)
    conn.send(False, frame(9, b"keepalive"), delay_us=50_000)
    conn.send(True, cframe(conn, 10, b"keepalive"), delay_us=300)
    conn.send(False, frame(1, b'{"tick":43}'), delay_us=50_000)
    close_ws(conn)
    return [conn], {}


def violation_conn(seed, cport, body, closer_code=1002, reason=b"protocol error", who_fails=False):
    """A normal opening, `body(conn)` writes the offending frames, then the side that
    received them fails the connection: close 1002, the close echoed, FIN.
    who_fails: True if the client is the one that fails it (the server misbehaved)."""
    rng = random.Random(seed)
    conn = Conn(rng, cport)
    open_ws(conn)
    conn.send(True, cframe(conn, 1, b"hello server"), delay_us=3000)
    conn.send(False, frame(1, b"hello client"), delay_us=700)
    body(conn)
    if closer_code is not None:
        close_ws(conn, closer_code, reason, client_first=who_fails)
    return conn


def s_violation_masking():
    def unmasked_client(c):
        c.send(True, frame(1, b"i forgot to mask this"), delay_us=3000)

    def masked_server(c):
        c.send(False, frame(1, b"servers must not mask", key=b"\x11\x22\x33\x44"), delay_us=3000)
    return [violation_conn(20, 50020, unmasked_client),
            violation_conn(21, 50021, masked_server, who_fails=True)], {}


def s_violation_opcode_rsv():
    def reserved_data(c):
        c.send(True, cframe(c, 0x3, b"opcode 3 is reserved"), delay_us=3000)

    def reserved_control(c):
        c.send(False, frame(0xB, b"opcode 0xB is reserved"), delay_us=3000)

    def rsv1(c):
        # RSV1 set although no extension (permessage-deflate) was negotiated
        c.send(True, cframe(c, 1, b"rsv1 without extension", rsv=4), delay_us=3000)

    def rsv23(c):
        c.send(False, frame(2, b"rsv2 and rsv3 set", rsv=3), delay_us=3000)

    def continuation_first(c):
        # a continuation frame with no message in progress
        c.send(True, cframe(c, 0, b"orphan continuation"), delay_us=3000)

    def text_during_fragment(c):
        # a new text frame while a fragmented message is still open
        c.send(True, cframe(c, 1, b"part one ", fin=False), delay_us=3000)
        c.send(True, cframe(c, 1, b"new message before FIN"), delay_us=2000)
    return [violation_conn(22, 50022, reserved_data),
            violation_conn(23, 50023, reserved_control, who_fails=True),
            violation_conn(24, 50024, rsv1),
            violation_conn(25, 50025, rsv23, who_fails=True),
            violation_conn(26, 50026, continuation_first),
            violation_conn(27, 50027, text_during_fragment)], {}


def s_violation_control():
    def big_ping(c):
        c.send(True, cframe(c, 9, bytes(range(130))), delay_us=3000)  # 130 > 125, 16-bit length

    def fragmented_ping(c):
        c.send(True, cframe(c, 9, b"ping part 1", fin=False), delay_us=3000)
        c.send(True, cframe(c, 0, b"ping part 2"), delay_us=1000)

    def big_close(c):
        c.send(False, frame(8, close_payload(1000, b"r" * 200)), delay_us=3000)
        c.send(True, cframe(c, 8, close_payload(1002)), delay_us=400)
        c.teardown(first_c2s=False)

    def interleaved_ok(c):
        # legal: a ping between the fragments of a message (control frames may interleave)
        c.send(True, cframe(c, 1, b"frag A ", fin=False), delay_us=3000)
        c.send(True, cframe(c, 9, b"mid-message ping"), delay_us=500)
        c.send(False, frame(10, b"mid-message ping"), delay_us=300)
        c.send(True, cframe(c, 0, b"frag B"), delay_us=500)
    return [violation_conn(30, 50030, big_ping),
            violation_conn(31, 50031, fragmented_ping),
            violation_conn(32, 50032, big_close, closer_code=None),
            violation_conn(33, 50033, interleaved_ok, closer_code=1000, reason=b"all fine")], {}


def s_violation_utf8():
    def bad_text(c):
        c.send(True, cframe(c, 1, b"caf\xc3 au lait \xff\xfe"), delay_us=3000)

    def split_ok_then_bad(c):
        # legal: a 3-byte character split across two fragments (UTF-8 is checked per message)
        euro = "€".encode()
        c.send(False, frame(1, b"price: 5" + euro[:1], fin=False), delay_us=3000)
        c.send(False, frame(0, euro[1:] + b" ok"), delay_us=500)
        # illegal: the message ends in the middle of a character
        c.send(False, frame(1, b"truncated " + euro[:2]), delay_us=3000)

    def overlong(c):
        # an overlong encoding of '/' and a UTF-16 surrogate: both invalid UTF-8
        c.send(True, cframe(c, 1, b"overlong \xc0\xaf surrogate \xed\xa0\x80"), delay_us=3000)

    def bad_reason(c):
        c.send(True, cframe(c, 8, close_payload(1000, b"bye \xff")), delay_us=3000)
        c.send(False, frame(8, close_payload(1007, b"invalid utf-8")), delay_us=400)
        c.teardown(first_c2s=False)
    return [violation_conn(40, 50040, bad_text, closer_code=1007, reason=b"invalid utf-8"),
            violation_conn(41, 50041, split_ok_then_bad, closer_code=1007, reason=b"invalid utf-8",
                           who_fails=True),
            violation_conn(42, 50042, overlong, closer_code=1007, reason=b"invalid utf-8"),
            violation_conn(43, 50043, bad_reason, closer_code=None)], {}


def s_violation_close():
    def code_1005(c):
        # 1005 (no status received) is reserved for APIs and must never be sent
        c.send(True, cframe(c, 8, close_payload(1005)), delay_us=3000)
        c.send(False, frame(8, close_payload(1002, b"bad close code")), delay_us=400)
        c.teardown(first_c2s=False)

    def code_999_and_5000(c):
        c.send(False, frame(8, close_payload(999, b"below range")), delay_us=3000)
        c.send(True, cframe(c, 8, close_payload(5000, b"not a valid code either")), delay_us=400)
        c.teardown(first_c2s=False)

    def one_byte(c):
        c.send(True, cframe(c, 8, b"\x03"), delay_us=3000)
        c.send(False, frame(8, close_payload(1002)), delay_us=400)
        c.teardown(first_c2s=False)

    def empty_ok(c):
        # legal: an empty close payload (reported as 1005 by APIs)
        c.send(True, cframe(c, 8, b""), delay_us=3000)
        c.send(False, frame(8, b""), delay_us=400)
        c.teardown(first_c2s=False)

    def after_close(c):
        c.send(True, cframe(c, 8, close_payload(1000, b"done")), delay_us=3000)
        # the client keeps talking after its close frame
        c.send(True, cframe(c, 1, b"one more thing"), delay_us=1000)
        c.send(True, cframe(c, 9, b"and a ping"), delay_us=1000)
        c.send(False, frame(8, close_payload(1000, b"done")), delay_us=400)
        # and the server sends data after its own close
        c.send(False, frame(1, b"server talks after close"), delay_us=1000)
        c.teardown(first_c2s=False)
    return [violation_conn(50, 50050, code_1005, closer_code=None),
            violation_conn(51, 50051, code_999_and_5000, closer_code=None),
            violation_conn(52, 50052, one_byte, closer_code=None),
            violation_conn(53, 50053, empty_ok, closer_code=None),
            violation_conn(54, 50054, after_close, closer_code=None)], {}


def s_violation_length():
    def nonminimal16(c):
        c.send(True, cframe(c, 1, b"five!", len_form=16), delay_us=3000)   # 5 in the 16-bit form
        c.send(False, frame(1, b"x" * 200, len_form=64), delay_us=700)      # 200 in the 64-bit form
        c.send(True, cframe(c, 2, b"\x00" * 300, len_form=64), delay_us=3000)  # 300 in the 64-bit form

    def msb_set(c):
        # 64-bit length with the most significant bit set: invalid; nothing after it on this
        # direction can be framed, so it is the server's last frame
        c.send(False, frame(2, b"\x00" * 8, length=(1 << 63) | 8, len_form=64), delay_us=3000)
        c.send(True, cframe(c, 8, close_payload(1002, b"bad length")), delay_us=400)
        c.teardown(first_c2s=True)
    return [violation_conn(60, 50060, nonminimal16),
            violation_conn(61, 50061, msb_set, closer_code=None)], {}


def handshake_conn(seed, cport, req_kw=None, accept=None, reply=None, frames=True):
    rng = random.Random(seed)
    conn = Conn(rng, cport)
    conn.handshake()
    req, key = upgrade_request(rng, **(req_kw or {}))
    conn.send(True, req, delay_us=500)
    conn.send(False, reply if reply is not None else upgrade_response(key, accept=accept), delay_us=800)
    return conn


def s_bad_accept():
    # the server answers 101 with the accept value for a different key; a correct client
    # fails the connection at once (here: it closes TCP without any WebSocket frame)
    conn = handshake_conn(70, 50070, accept=base64.b64encode(b"\x00" * 20))
    conn.teardown(first_c2s=True)
    # a second connection where a lenient client carries on anyway: frames follow
    conn2 = handshake_conn(71, 50071, accept=b"dGhlIHNhbXBsZSBub25jZQ==")
    standard_conversation(conn2, big=False)
    close_ws(conn2)
    return [conn, conn2], {}


def s_no_connection_upgrade():
    # request without a Connection header (and one with "keep-alive" only); a lenient server
    # answers 101 anyway and the WebSocket runs
    conns = []
    for i, conn_hdr in enumerate((None, b"keep-alive")):
        conn = handshake_conn(72 + i, 50072 + i, req_kw={"connection": conn_hdr})
        standard_conversation(conn, big=False)
        close_ws(conn)
        conns.append(conn)
    return conns, {}


def s_version_8():
    # hybi-08 client: a modern server refuses with 426 and advertises version 13 ...
    conn = handshake_conn(74, 50074, req_kw={"version": b"8"},
                          reply=b"HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"
                                b"Content-Length: 0\r\n\r\n")
    conn.teardown(first_c2s=False)
    # ... a lenient one accepts it (same accept algorithm in draft 8): frames follow
    conn2 = handshake_conn(75, 50075, req_kw={"version": b"8"})
    standard_conversation(conn2, big=False)
    close_ws(conn2)
    return [conn, conn2], {}


SCENARIOS = {
    "crafted-basic.pcap": s_basic,
    "crafted-tcp-out-of-order.pcap": s_out_of_order,
    "crafted-tcp-retransmission.pcap": s_retransmission,
    "crafted-tcp-overlap.pcap": s_overlap,
    "crafted-tcp-gap.pcap": s_gap,
    "crafted-tcp-coalesced-split.pcap": s_coalesced_split,
    "crafted-tcp-seq-wrap.pcap": s_seq_wrap,
    "crafted-midstream.pcap": s_midstream,
    "crafted-linktype-sll2.pcap": s_link("sll2"),
    "crafted-ipv6.pcap": s_link("ethernet", v6=True),
    "crafted-vlan.pcap": s_link("vlan"),
    "crafted-qinq.pcap": s_link("qinq"),
    "crafted-linktype-null.pcap": s_link("null"),
    "crafted-linktype-raw.pcap": s_link("raw"),
    "crafted-snaplen96.pcap": s_snaplen,
    "crafted-violation-masking.pcap": s_violation_masking,
    "crafted-violation-opcode-rsv.pcap": s_violation_opcode_rsv,
    "crafted-violation-control.pcap": s_violation_control,
    "crafted-violation-utf8.pcap": s_violation_utf8,
    "crafted-violation-close.pcap": s_violation_close,
    "crafted-violation-length.pcap": s_violation_length,
    "crafted-handshake-bad-accept.pcap": s_bad_accept,
    "crafted-handshake-no-connection-upgrade.pcap": s_no_connection_upgrade,
    "crafted-handshake-version-8.pcap": s_version_8,
}


def damaged(basic):
    """Two broken files made from crafted-basic's bytes."""
    recs = []  # (offset, length) of each record in the file
    off = 24
    while off < len(basic):
        incl = struct.unpack_from("<I", basic, off + 8)[0]
        recs.append((off, 16 + incl))
        off += 16 + incl
    # truncated: the file stops 20 bytes into the data of the 12th record (after its header)
    o, _ = recs[11]
    truncated = basic[:o + 16 + 20]
    # corrupt length: the 12th record's incl_len is 0x7fffff00 (far beyond snaplen and the
    # file); the records before it are intact, everything after is unreachable by framing
    o, _ = recs[11]
    corrupt = bytearray(basic)
    struct.pack_into("<I", corrupt, o + 8, 0x7FFFFF00)
    return {"damaged-truncated.pcap": truncated, "damaged-bad-record-length.pcap": bytes(corrupt)}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    for name, make in SCENARIOS.items():
        conns, opts = make()
        data = pcap_bytes(conns, **opts)
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        if name == "crafted-basic.pcap":
            basic = data
        print(f"{name}: {sum(len(c.segs) for c in conns)} packets, {len(data)} bytes")
    # crafted-basic in the other file formats a capture library must read
    others = {"crafted-basic.pcapng": pcapng_bytes([basic_conn(2)]),
              "crafted-basic-bigendian-nsec.pcap": pcap_be_ns_bytes([basic_conn(2)])}
    for name, data in others.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")
    for name, data in damaged(basic).items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
