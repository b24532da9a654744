#!/usr/bin/env python3
"""gen_wss.py OUT.pcap MB [SUITE]: a big wss capture for bench/tls.sh, made by
real peers on lo (Python ssl + websockets, no compression), captured with tcpdump.

CONCURRENT connections (default 8) each send random (incompressible) binary
messages of 1..64 KiB to an echo server until MB MiB of payload went each way in
all; the client's key log is written to OUT.keylog. SUITE: tls13 (OpenSSL's first
choice, TLS_AES_256_GCM_SHA384; default), tls12-gcm (ECDHE-RSA-AES128-GCM-SHA256),
tls12-chacha (ECDHE-RSA-CHACHA20-POLY1305), tls12-cbc (ECDHE-RSA-AES128-SHA256,
MAC-then-encrypt). Needs root (tcpdump), openssl, websockets. Exits non-zero if the
kernel dropped packets (the capture would have gaps).
"""
import asyncio
import os
import random
import re
import ssl
import subprocess
import sys
import tempfile

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

out, mb = sys.argv[1], int(sys.argv[2])
suite = sys.argv[3] if len(sys.argv) > 3 else "tls13"
CONCURRENT = int(os.environ.get("CONCURRENT", "8"))
PORT = int(os.environ.get("PORT", "19301"))
CIPHERS = {"tls12-gcm": "ECDHE-RSA-AES128-GCM-SHA256", "tls12-chacha": "ECDHE-RSA-CHACHA20-POLY1305",
           "tls12-cbc": "ECDHE-RSA-AES128-SHA256"}


def contexts(tmp, keylog):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(cert)
    cctx.keylog_filename = keylog
    if suite != "tls13":
        for c in (sctx, cctx):
            c.maximum_version = ssl.TLSVersion.TLSv1_2
            c.set_ciphers(CIPHERS[suite])
        if suite == "tls12-cbc":
            cctx.options |= getattr(ssl, "OP_NO_ENCRYPT_THEN_MAC", 1 << 19)
    return sctx, cctx


async def main(sctx, cctx):
    per_conn = mb * 1024 * 1024 // CONCURRENT
    rng = random.Random(7)
    pool = rng.randbytes(1 << 20)

    async def echo(ws):
        async for m in ws:
            await ws.send(m)

    async def client():
        async with connect(f"wss://localhost:{PORT}/bench", ssl=cctx, compression=None,
                           max_size=None) as ws:
            sent = 0
            while sent < per_conn:
                n = rng.randint(1, 65536)
                at = rng.randint(0, len(pool) - n)
                await ws.send(pool[at:at + n])
                await ws.recv()
                sent += n

    async with serve(echo, "127.0.0.1", PORT, ssl=sctx, compression=None, max_size=None):
        await asyncio.gather(*(client() for _ in range(CONCURRENT)))


with tempfile.TemporaryDirectory() as tmp:
    keylog = out.rsplit(".", 1)[0] + ".keylog"
    if os.path.exists(keylog):
        os.remove(keylog)
    sctx, cctx = contexts(tmp, keylog)
    dump = subprocess.Popen(["tcpdump", "-i", "lo", "-n", "-U", "-B", "262144", "-s", "0",
                             "-w", out, f"tcp port {PORT}"], stderr=subprocess.PIPE, text=True)
    while "listening on" not in dump.stderr.readline():
        pass
    asyncio.run(main(sctx, cctx))
    import time
    time.sleep(1)
    dump.terminate()
    err = dump.communicate()[1]
    dropped = re.search(r"(\d+) packets dropped by kernel", err)
    print(err.strip().replace("\n", "; "), file=sys.stderr)
    if dropped and int(dropped.group(1)) > 0:
        sys.exit(f"tcpdump dropped {dropped.group(1)} packets: make it again")
