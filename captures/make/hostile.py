#!/usr/bin/env python3
"""Write the hostile captures: inputs built to exhaust memory, time or the terminal.

  hostile.py OUT_DIR

Same conventions as crafted.py (whose packet builders this reuses): deterministic (fixed
seeds and timestamps, no zlib: the DEFLATE streams are written bit by bit here), so
re-running writes byte-identical files. The floods use LINKTYPE_RAW (packets start at
the IPv4 header) to keep the files small. tests/hostile.rs runs wsscope on each.
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crafted as c  # noqa: E402
from crafted import ACK, PSH, SYN, Conn, Seg, frame, close_payload  # noqa: E402


# ------------------------------------------------------------------ DEFLATE by hand
class Bits:
    """An LSB-first bit writer (RFC 1951 3.1.1)."""

    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value, nbits):
        self.acc |= value << self.n
        self.n += nbits
        while self.n >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.n -= 8

    def code(self, bits):
        """A Huffman code given as a '0'/'1' string, most significant bit first."""
        for ch in bits:
            self.put(1 if ch == "1" else 0, 1)

    def pad(self):
        if self.n:
            self.put(0, 8 - self.n)
        return bytes(self.out)


def bomb(reps, literal_every=0):
    """A permessage-deflate payload (tail 00 00 ff ff removed) inflating to zero bytes:
    one dynamic-Huffman block with three literal/length codes (literal 0: '10', end of
    block: '11', length 258: '0') and one distance code (distance 1: '0'), so each
    258 bytes cost 2 bits: the most DEFLATE can do (about 1032:1). It writes literal 0,
    then `reps` copies of 258 bytes (plus one literal after every `literal_every` copies,
    which lowers the ratio), then the end of block and the start of the empty stored block
    that the receiver's restored tail completes (RFC 7692 7.2.2)."""
    b = Bits()
    b.put(0, 1)      # BFINAL 0
    b.put(2, 2)      # BTYPE 10: dynamic Huffman
    b.put(286 - 257, 5)  # HLIT: codes 0..285
    b.put(1 - 1, 5)      # HDIST: one distance code
    b.put(18 - 4, 4)     # HCLEN: 18 code-length codes (up to symbol 1 in the RFC's order)
    order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1]
    cl_len = {0: 1, 1: 2, 2: 2}  # code-length alphabet: 0 -> '0', 1 -> '10', 2 -> '11'
    for sym in order:
        b.put(cl_len.get(sym, 0), 3)
    cl_code = {0: "0", 1: "10", 2: "11"}
    lit = [0] * 286
    lit[0], lit[256], lit[285] = 2, 2, 1
    for n in lit + [1]:  # the 286 literal/length code lengths, then the distance code's
        b.code(cl_code[n])
    b.code("10")  # literal 0
    if literal_every:
        unit = Bits()
        for _ in range(literal_every):
            unit.code("00")
        # the unit is 2 * literal_every + 2 bits; keep it byte-sized to write it fast
        unit.code("10")
        assert unit.n == 0 and (2 * literal_every + 2) % 8 == 0
    # align the repeated part on a byte boundary with whole copies, then write bytes
    while b.n and reps:
        b.code("00")
        reps -= 1
    if literal_every:
        units, rest = divmod(reps, literal_every)
        b.out += bytes(unit.out) * units
        for _ in range(rest):
            b.code("00")
    else:
        b.out += b"\0" * (reps // 4)
        for _ in range(reps % 4):
            b.code("00")
    b.code("11")      # end of block
    b.put(0, 3)       # BFINAL 0, BTYPE 00: the stored block the tail 00 00 ff ff completes
    return b.pad()


def stored(data):
    """data as one stored DEFLATE block, tail removed (RFC 7692 7.2.3.3)."""
    return b"\x00" + struct.pack("<HH", len(data), len(data) ^ 0xFFFF) + data + b"\x00"


DEFLATE_EXT = b"Sec-WebSocket-Extensions: permessage-deflate\r\n"


def open_deflate(conn):
    conn.handshake()
    req, key = c.upgrade_request(conn.rng, extra=DEFLATE_EXT)
    conn.send(True, req, delay_us=500)
    conn.send(False, c.upgrade_response(key, extra=DEFLATE_EXT), delay_us=800)


# ------------------------------------------------------------------ scenarios
GIB_REPS = -(-((1 << 30) - 1) // 258)  # copies of 258 bytes for >= 1 GiB


def h_deflate_bomb():
    rng = random.Random(100)
    conn = Conn(rng, 50100)
    open_deflate(conn)
    conn.send(True, c.cframe(conn, 1, stored(b"send the bomb"), rsv=4), delay_us=3000)
    # 1 GiB of zeros in about 1 MB (ratio 1032): past the ratio bound after about 1 MiB
    conn.send(False, frame(2, bomb(GIB_REPS), rsv=4), delay_us=700)
    conn.send(False, frame(1, stored(b"after the big bomb"), rsv=4), delay_us=3000)
    # about 75 MiB from 97 KB (ratio 775, under the ratio bound): past the 64 MiB size bound
    conn.send(True, c.cframe(conn, 2, bomb(290_000, literal_every=3), rsv=4), delay_us=3000)
    conn.send(True, c.cframe(conn, 1, stored(b"after the size bomb"), rsv=4), delay_us=3000)
    conn.send(False, frame(1, stored(b"bye now"), rsv=4), delay_us=700)
    c.close_ws(conn)
    return [conn], {}


def h_huge_length():
    # a binary frame announcing 2^62 bytes with 100 bytes behind it, each direction,
    # then the connection ends; and the same length on a compressed text frame
    rng = random.Random(101)
    conn = Conn(rng, 50101)
    c.open_ws(conn)
    conn.send(True, c.cframe(conn, 1, b"hello"), delay_us=3000)
    conn.send(False, frame(2, bytes(range(100)), length=1 << 62, len_form=64), delay_us=700)
    conn.send(True, c.cframe(conn, 1, b"x" * 100, length=1 << 62, len_form=64), delay_us=3000)
    conn.teardown(first_c2s=True)
    rng = random.Random(102)
    conn2 = Conn(rng, 50102)
    open_deflate(conn2)
    conn2.send(False, frame(1, bomb(8000), length=1 << 62, len_form=64, rsv=4), delay_us=700)
    conn2.teardown(first_c2s=False)
    return [conn, conn2], {"link": "raw"}


FLOOD_PIECES = 17_000  # past the default bound of 4 MiB / 256 = 16384 held pieces


def h_ooo_flood():
    # after the upgrade, the client's stream loses its first byte and then 17000 one-byte
    # segments arrive, every other byte of a 34 KB frame, in shuffled order: nothing can
    # be delivered and nothing merges; the server never acknowledges
    rng = random.Random(103)
    conn = Conn(rng, 50103)
    c.open_ws(conn)
    conn.send(True, c.cframe(conn, 1, b"before the flood"), delay_us=3000)
    base = len(conn.stream[True])
    conn.stream[True] += c.cframe(conn, 2, bytes(2 * FLOOD_PIECES + 10))
    offs = list(range(1, 2 * FLOOD_PIECES + 1, 2))
    rng.shuffle(offs)
    for o in offs:
        conn.segs.append(conn.seg_at(True, base + o, base + o + 1, delay_us=30))
    conn.send(False, frame(1, b"still alive"), delay_us=3000)
    c.close_ws(conn, client_first=False)
    return [conn], {"link": "raw"}


SYN_FLOOD = 20_000


def h_syn_flood():
    # 20000 SYNs from distinct ports, none answered, then one normal WebSocket connection
    rng = random.Random(104)
    conns = []
    for i in range(SYN_FLOOD):
        f = Conn(rng, 1024 + i, cisn=(i * 2654435761) & 0xFFFFFFFF, sisn=0)
        f.add(True, SYN, delay_us=10)
        conns.append(f)
    conns.append(c.basic_conn(2, cport=50104))
    return conns, {"link": "raw", "gap_between_us": 0}


def h_http_endless_head():
    # a request head that never ends (100 KiB of header lines, no blank line), a response
    # head that never ends, then a normal connection
    rng = random.Random(105)
    filler = b"".join(b"X-Filler-%05d: " % i + b"a" * 80 + b"\r\n" for i in range(1100))
    conn = Conn(rng, 50105)
    conn.handshake()
    conn.send(True, b"GET /endless HTTP/1.1\r\nHost: 10.0.0.2:8080\r\n" + filler, delay_us=500)
    conn.teardown(first_c2s=True)
    conn2 = Conn(rng, 50106)
    conn2.handshake()
    conn2.send(True, b"GET /endless-answer HTTP/1.1\r\nHost: 10.0.0.2:8080\r\n\r\n", delay_us=500)
    conn2.send(False, b"HTTP/1.1 200 OK\r\n" + filler, delay_us=800)
    conn2.teardown(first_c2s=False)
    return [conn, conn2, c.basic_conn(2, cport=50107)], {}


ESC_TEXT = ("\x1b[2J\x1b[H\x1b]52;c;cm0gLXJmIH4K\x07\x1b]0;pwned\x07\x1b[6n"
            "\u202eevil\u202c \u2066iso\u2069 \u009b31m c1 \u0085 \x07\x08\r\n\x7f done")
ESC = ESC_TEXT.encode()


def h_terminal_escapes():
    # conn 0: an HTTP exchange httparse accepts (bytes >= 0x80 are obs-text): C1 controls as
    # UTF-8 (U+009B CSI, U+0085), a raw 0x9B byte, bidi overrides in the target, headers,
    # reason, subprotocol; then frames full of ESC sequences (OSC 52 clipboard writes,
    # title changes, CSI 6n device status requests that make a terminal answer), close reason
    rng = random.Random(106)
    conn = Conn(rng, 50108)
    conn.handshake()
    key = c.base64.b64encode(rng.randbytes(16))
    bidi = b"\xe2\x80\xaeevil\xe2\x81\xa6iso\xe2\x80\x8f"
    req = (b"GET /chat?q=" + bidi + b"\xc2\x9b31m HTTP/1.1\r\n"
           b"Host: 10.0.0.2:8080\r\n"
           b"User-Agent: \xc2\x9b2J\xc2\x9d52;c;ZXZpbA==\xc2\x9c " + bidi + b"\r\n"
           b"X-Raw-C1: \x9b31m raw \x85 \x9d0;t\x9c\r\n"
           b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Protocol: chat\xc2\x9b5m, " + bidi + b"\r\n"
           b"Sec-WebSocket-Extensions: x-\xc2\x9d52;c;AAAA\xc2\x9c\r\n\r\n")
    conn.send(True, req, delay_us=500)
    resp = (b"HTTP/1.1 101 Switching \xc2\x9b1mProtocols " + bidi + b"\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + c.accept_for(key) + b"\r\n"
            b"Sec-WebSocket-Protocol: chat\xc2\x9b5m\r\n"
            b"Server: \xc2\x9d52;c;cm0gLXJmIH4K\xc2\x9c\r\n\r\n")
    conn.send(False, resp, delay_us=800)
    conn.send(True, c.cframe(conn, 1, ESC), delay_us=3000)
    conn.send(False, frame(1, ESC), delay_us=700)
    conn.send(True, c.cframe(conn, 2, ESC), delay_us=3000)
    conn.send(False, frame(1, b"\x1b[31m\xff\xfe\x9b invalid \x1b]52;c;AA\x07"), delay_us=700)
    conn.send(True, c.cframe(conn, 9, b"\x1b[6n\x9b\xe2\x80\xae"), delay_us=3000)
    conn.send(False, frame(10, b"\x1b[6n\x9b\xe2\x80\xae"), delay_us=300)
    conn.send(True, c.cframe(conn, 1, b"\x1b]52;c;", fin=False), delay_us=3000)
    conn.send(True, c.cframe(conn, 0, b"Y3VybCBldmls\x07 \xe2\x80\xae"), delay_us=100)
    reason = b"\x1b]8;;http://evil/\x07bye\x1b]8;;\x07\xe2\x81\xa6\xc2\x9b"
    c.close_ws(conn, code=1000, reason=reason)
    # conn 1: raw ESC in the request line and headers (httparse refuses them: http_malformed)
    conn1 = Conn(random.Random(107), 50109)
    conn1.handshake()
    conn1.send(True, b"GET /\x1b[2J\x1b]52;c;ZXZpbA==\x07 HTTP/1.1\r\nX-E: \x1b[31m\r\n\r\n", delay_us=500)
    conn1.send(False, b"HTTP/1.1 400 \x1b]0;pwned\x07\r\nX-E: \x1b[?1049h\r\n\r\n", delay_us=800)
    conn1.teardown(first_c2s=False)
    # conn 2: the same frames mid-stream (no handshake): the sniffer and the mid-stream paths
    conn2 = Conn(random.Random(108), 50110)
    conn2.syn_done[True] = conn2.syn_done[False] = True
    conn2.send(False, frame(1, ESC), delay_us=0)
    conn2.send(True, c.cframe(conn2, 1, ESC), delay_us=2000)
    conn2.send(False, frame(8, close_payload(4000, ESC[:100])), delay_us=2000)
    return [conn, conn1, conn2], {}


def h_http_bytewise():
    # the Upgrade request one byte per segment and the 101 two bytes per segment (a first
    # segment "G" or "HT" cannot tell HTTP yet), then frames, close: decoded like any other
    rng = random.Random(109)
    conn = Conn(rng, 50112)
    conn.handshake()
    req, key = c.upgrade_request(rng)
    conn.send(True, req, delay_us=500, mss=1, step_us=10)
    conn.send(False, c.upgrade_response(key), delay_us=800, mss=2, step_us=10)
    conn.send(True, c.cframe(conn, 1, b"one byte at a time"), delay_us=3000, mss=1, step_us=10)
    conn.send(False, frame(1, b"and back"), delay_us=700)
    c.close_ws(conn)
    return [conn], {"link": "raw"}


def fragments(ip, size):
    """An IPv4 packet cut into fragments of `size` payload bytes (a multiple of 8)."""
    hdr, payload = ip[:20], ip[20:]
    out = []
    for off in range(0, len(payload), size):
        part = payload[off:off + size]
        mf = 0x2000 if off + size < len(payload) else 0
        h = bytearray(hdr)
        struct.pack_into("!HHH", h, 2, 20 + len(part), struct.unpack_from("!H", hdr, 4)[0],
                         mf | (off // 8))
        struct.pack_into("!H", h, 10, 0)
        struct.pack_into("!H", h, 10, c.csum(bytes(h)))
        out.append(bytes(h) + part)
    return out


def raw_ipv4(src, dst, ip_id, frag, payload, proto=6):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ip_id, frag, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", c.csum(h)) + h[12:] + payload


def h_ipv4_fragment_flood():
    """Raw packets written directly (not via Conn): the flood, then a normal connection
    whose every data-carrying packet is fragmented."""
    rng = random.Random(108)
    pkts = []
    src, dst = bytes([10, 9, 0, 1]), c.S4
    # 3000 datagrams that never complete: a first fragment each (MF=1), distinct ids
    for i in range(3000):
        pkts.append(raw_ipv4(src, dst, i, 0x2000, rng.randbytes(64)))
    # one datagram id, 2500 tiny overlapping fragments at random offsets, never complete
    for _ in range(2500):
        pkts.append(raw_ipv4(src, dst, 0xBEEF, 0x2000 | rng.randrange(1, 8000), rng.randbytes(8)))
    # fragments that reach past 65535 bytes (offset 8189 * 8 + 40 bytes), MF=0
    for i in range(200):
        pkts.append(raw_ipv4(src, dst, 0xC000 + i, 8189, rng.randbytes(40)))
        pkts.append(raw_ipv4(src, dst, 0xC000 + i, 0x2000, rng.randbytes(64)))
    # a zero-length fragment, a fragment with MF=0 at offset 0 and 1 byte, a non-TCP one
    pkts.append(raw_ipv4(src, dst, 0xD000, 0x2000 | 5, b""))
    pkts.append(raw_ipv4(src, dst, 0xD001, 0x2000 | 1, b"x"))
    pkts.append(raw_ipv4(src, dst, 0xD002, 0x2000, rng.randbytes(16), proto=17))
    # then a normal connection with its data-carrying packets in 2..N fragments of 64 bytes
    conn = c.basic_conn(2, cport=50111)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, c.LINKTYPE_RAW)]
    t = c.T0_US

    def rec(p):
        out.append(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(p), len(p)) + p)

    for p in pkts:
        t += 20
        rec(p)
    ip_id = 0x1000
    for seg in conn.segs:
        t += seg.delay_us
        ip_id += 1
        ip = c.ip_packet(conn, seg, ip_id)
        ip = ip[:6] + b"\x00\x00" + ip[8:]  # clear DF
        ip = ip[:10] + b"\x00\x00" + ip[12:]
        ip = ip[:10] + struct.pack("!H", c.csum(ip[:20])) + ip[12:]
        for f in (fragments(ip, 64) if len(seg.data) else [ip]):
            rec(f)
    return b"".join(out)


SCENARIOS = {
    "hostile-deflate-bomb.pcap": h_deflate_bomb,
    "hostile-huge-length.pcap": h_huge_length,
    "hostile-ooo-flood.pcap": h_ooo_flood,
    "hostile-syn-flood.pcap": h_syn_flood,
    "hostile-http-endless-head.pcap": h_http_endless_head,
    "hostile-terminal-escapes.pcap": h_terminal_escapes,
    "hostile-http-bytewise.pcap": h_http_bytewise,
}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out_dir, exist_ok=True)
    files = {}
    for name, make in SCENARIOS.items():
        conns, opts = make()
        files[name] = c.pcap_bytes(conns, **opts)
    files["hostile-ipv4-fragment-flood.pcap"] = h_ipv4_fragment_flood()
    for name, data in files.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
