#!/usr/bin/env python3
"""wss captures for the suites rustls lacks, made by real peers: Python `ssl`
(OpenSSL) with the `websockets` package, client and server on 127.0.0.1,
captured with tcpdump on lo. For each session NAME it writes, beside itself:

  NAME.pcap        the packets (tcpdump -i lo -U -w, one port per session)
  NAME.keylog      the client's NSS key log (SSLContext.keylog_filename)
  NAME.facts.json  what the peers said: TLS version and cipher (OpenSSL's name
                   and the IANA one), encrypt-then-MAC asked or refused, the
                   negotiated WebSocket extensions, every message sent each way
                   (kind, length, wsscope's 64-byte preview)

Run as root (tcpdump):  python3 captures/tls/make.py [NAME ...]
Needs: python3 -m pip install websockets (17.x), tcpdump, tshark (reads back the
ServerHello's extensions), openssl (certificates).
"""
import asyncio
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time

import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

HERE = os.path.dirname(os.path.abspath(__file__))
# SSL_OP_NO_ENCRYPT_THEN_MAC (OpenSSL 1.1.1+); Python's ssl module does not name it.
OP_NO_ENCRYPT_THEN_MAC = getattr(ssl, "OP_NO_ENCRYPT_THEN_MAC", 1 << 19)

# name: (port, OpenSSL cipher, IANA name, encrypt-then-MAC, key exchange, deflate, max version)
SESSIONS = {
    "tls12_ecdhe_rsa_aes128_sha_mte": (19201, "ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", False, "ecdhe", False, "1.2"),
    "tls12_ecdhe_rsa_aes256_sha_etm": (19202, "ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", True, "ecdhe", False, "1.2"),
    "tls12_ecdhe_rsa_aes128_sha256_etm": (19203, "ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", True, "ecdhe", False, "1.2"),
    "tls12_ecdhe_rsa_aes128_sha256_mte": (19204, "ECDHE-RSA-AES128-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", False, "ecdhe", False, "1.2"),
    "tls12_ecdhe_rsa_aes256_sha384_etm": (19205, "ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", True, "ecdhe", False, "1.2"),
    "tls12_ecdhe_rsa_aes256_sha384_mte": (19206, "ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", False, "ecdhe", False, "1.2"),
    "tls12_dhe_rsa_aes128_gcm": (19207, "DHE-RSA-AES128-GCM-SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", None, "dhe", False, "1.2"),
    "tls12_dhe_rsa_aes256_sha256_mte": (19208, "DHE-RSA-AES256-SHA256", "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", False, "dhe", False, "1.2"),
    "tls12_dhe_rsa_chacha20": (19209, "DHE-RSA-CHACHA20-POLY1305", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", None, "dhe", False, "1.2"),
    "tls13_aes256_deflate": (19210, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", None, "ecdhe", True, "1.3"),
    "tls12_ecdhe_rsa_aes128_sha_etm_deflate": (19211, "ECDHE-RSA-AES128-SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", True, "ecdhe", True, "1.2"),
}


def messages():
    """What the client sends; the server echoes each one."""
    return [
        "hello over TLS",
        "wsscope ✓ déchiffre " * 10,
        bytes((i * 7) % 256 for i in range(300)),
        # Bigger than a TLS record (16 KiB): spread over two.
        bytes(i % 251 for i in range(20000)),
        "".join(chr(ord("a") + i % 26) for i in range(3000)),
    ]


def preview(m):
    """wsscope's preview: the first 64 bytes, text cut at a character boundary,
    binary as hex, `…` when cut."""
    data = m.encode() if isinstance(m, str) else m
    head = data[:64]
    if isinstance(m, str):
        s = head.decode("utf-8", errors="ignore") if len(data) > 64 else m
    else:
        s = head.hex()
    return s + ("…" if len(data) > 64 else "")


def describe(m):
    data = m.encode() if isinstance(m, str) else m
    return {"kind": "text" if isinstance(m, str) else "binary", "len": len(data), "preview": preview(m)}


def certificate(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    dh = os.path.join(tmp, "dh.pem")
    subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH",
                    "-pkeyopt", "dh_param:ffdhe2048", "-out", dh], check=True, capture_output=True)
    return cert, key, dh


async def session(name, tmp, cert, key, dh):
    port, cipher, iana, etm, kx, deflate, maxv = SESSIONS[name]
    keylog = os.path.join(HERE, name + ".keylog")
    if os.path.exists(keylog):
        os.remove(keylog)
    version = ssl.TLSVersion.TLSv1_3 if maxv == "1.3" else ssl.TLSVersion.TLSv1_2

    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    if kx == "dhe":
        sctx.load_dh_params(dh)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cctx.load_verify_locations(cert)
    cctx.keylog_filename = keylog
    for ctx in (sctx, cctx):
        ctx.minimum_version = ctx.maximum_version = version
        if maxv == "1.2":
            ctx.set_ciphers(cipher + ":@SECLEVEL=1")
    # TLS 1.3 suites cannot be chosen from Python (no SSL_CTX_set_ciphersuites):
    # OpenSSL's default order puts TLS_AES_256_GCM_SHA384 first; asserted below.
    if etm is False:
        cctx.options |= OP_NO_ENCRYPT_THEN_MAC

    server_seen = {}

    async def echo(ws):
        obj = ws.transport.get_extra_info("ssl_object")
        server_seen["version"], server_seen["cipher"] = obj.version(), obj.cipher()[0]
        async for m in ws:
            await ws.send(m)

    compression = "deflate" if deflate else None
    sent = messages()
    async with serve(echo, "127.0.0.1", port, ssl=sctx, compression=compression):
        async with connect(f"wss://localhost:{port}/chat", ssl=cctx, compression=compression,
                           max_size=None) as ws:
            obj = ws.transport.get_extra_info("ssl_object")
            client_version, client_cipher = obj.version(), obj.cipher()[0]
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
            client_port = ws.transport.get_extra_info("sockname")[1]
            for m in sent:
                await ws.send(m)
                back = await ws.recv()
                assert back == m
            await ws.close(1000, "bye")
    assert client_cipher == cipher, (client_cipher, cipher)
    assert server_seen["cipher"] == cipher
    return {
        "name": name,
        "made_by": f"captures/tls/make.py: Python {sys.version.split()[0]} ssl ({ssl.OPENSSL_VERSION}), websockets {websockets.__version__}",
        "connections": [{
            "client_port": client_port,
            "server_port": port,
            "tls": {"version": client_version, "cipher": client_cipher, "iana": iana,
                    "server_version": server_seen["version"], "server_cipher": server_seen["cipher"],
                    "encrypt_then_mac_refused_by_client": etm is False},
            "ws_extensions": extensions,
            "messages": {"c2s": [describe(m) for m in sent], "s2c": [describe(m) for m in sent]},
            "close": {"code": 1000, "reason": "bye"},
        }],
    }


def main():
    names = sys.argv[1:] or list(SESSIONS)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key, dh = certificate(tmp)
        for name in names:
            port = SESSIONS[name][0]
            pcap = os.path.join(HERE, name + ".pcap")
            dump = subprocess.Popen(
                ["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-B", "65536",
                 "-w", pcap, f"tcp port {port}"],
                stderr=subprocess.PIPE)
            while b"listening on" not in dump.stderr.readline():
                pass
            facts = asyncio.run(session(name, tmp, cert, key, dh))
            time.sleep(0.5)
            dump.terminate()
            dump.wait()
            # What the ServerHello agreed, read back from the capture: extension 22
            # is encrypt_then_mac (RFC 7366).
            exts = subprocess.run(
                ["tshark", "-r", pcap, "-Y", "tls.handshake.type == 2", "-T", "fields",
                 "-e", "tls.handshake.extension.type"],
                check=True, capture_output=True, text=True).stdout.split()
            exts = [int(x) for line in exts for x in line.split(",")]
            facts["connections"][0]["tls"]["encrypt_then_mac"] = 22 in exts
            with open(os.path.join(HERE, name + ".facts.json"), "w") as f:
                json.dump(facts, f, indent=1, ensure_ascii=False)
                f.write("\n")
            c = facts["connections"][0]
            print(f"{name}: {c['tls']['version']} {c['tls']['cipher']} ({c['tls']['iana']}), "
                  f"EtM {c['tls']['encrypt_then_mac']}, extensions {c['ws_extensions']}, "
              f"{os.path.getsize(pcap)} bytes")


if __name__ == "__main__":
    main()
