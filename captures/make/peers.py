#!/usr/bin/env python3
"""Real Python peers for the live captures (all on 127.0.0.1).

Each subcommand runs one scenario to completion and exits; `live.py` wraps it in
tcpdump.  Payloads come from a fixed seed so re-made captures carry the same
message bytes (TCP timestamps, ports, masking keys and deflate output of course
differ from run to run).

  peers.py ws PORT [--no-compress]   websockets server + client, the full tour
  peers.py refused PORT              server answering 426 Upgrade Required
  peers.py abort PORT                client resets the TCP connection (SO_LINGER 0)
  peers.py browser PORT              headless Chromium page talking to a websockets echo server
  peers.py poll PORT                 short polling over one keep-alive connection
  peers.py longpoll PORT             long polling: each request held until an event
  peers.py sse PORT                  a server-sent-events stream
"""
import asyncio
import base64
import http.client
import json
import os
import random
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"


def payloads():
    rng = random.Random(2024)
    return {
        "small_text": "hello from the client",
        # hex text compresses to about half, so it stays in the 16-bit length form under deflate
        "medium_text": rng.randbytes(1000).hex(),
        "medium_bin": rng.randbytes(5000),
        # random bytes do not compress: the 1 MiB frame keeps its 64-bit length form under deflate
        "big_bin": rng.randbytes(1 << 20),
        "bin_70k": rng.randbytes(70000),
    }


# ---------------------------------------------------------------- websockets tour
async def ws_tour(port, compress):
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve

    comp = "deflate" if compress else None
    p = payloads()
    done = asyncio.Event()

    async def handler(ws):
        # echo server: text back as text, binary back as binary; big ones answered by their length
        async for msg in ws:
            if isinstance(msg, bytes) and len(msg) > 10000:
                await ws.send(f"got {len(msg)} bytes")
            else:
                await ws.send(msg)
        done.set()

    async with serve(handler, HOST, port, compression=comp, max_size=4 << 20,
                     ping_interval=None, server_header="wsscope-capture/1"):
        async with connect(f"ws://{HOST}:{port}/tour", compression=comp, max_size=4 << 20,
                           ping_interval=None, user_agent_header="wsscope-capture/1") as ws:
            async def say(msg):
                await ws.send(msg)
                await ws.recv()
                await asyncio.sleep(0.02)

            await say(p["small_text"])                      # text, 7-bit length
            await say(b"\x00\x01\x02\x03binary\xff")         # binary, 7-bit length
            await say(p["medium_text"])                     # text, 16-bit length
            await say(p["medium_bin"])                      # binary, 16-bit length
            if compress:
                await say(p["big_bin"])                     # binary 1 MiB, 64-bit length
            else:
                await say(p["bin_70k"])                     # binary 70000 B, 64-bit length
            await say(["frag-one ", "frag-two ", "frag-three"])  # text in 3 frames
            await say([b"\x10\x11", b"\x12\x13"])           # binary in 2 frames
            pong = await ws.ping(b"ping-1")
            await pong
            await asyncio.sleep(0.02)
            await say("émoji ✓ 日本語")                      # multi-byte UTF-8
            await ws.close(1000, "tour finished")
        await asyncio.wait_for(done.wait(), 5)


# ---------------------------------------------------------------- refused upgrade
async def refused(port):
    from websockets.asyncio.client import connect
    from websockets.asyncio.server import serve
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    def process_request(conn, request):
        body = b"Upgrade Required: this endpoint speaks WebSocket version 13 only\n"
        return Response(426, "Upgrade Required",
                        Headers([("Sec-WebSocket-Version", "13"),
                                 ("Content-Type", "text/plain"),
                                 ("Content-Length", str(len(body))),
                                 ("Connection", "close")]), body)

    async def handler(ws):
        await ws.close()

    async with serve(handler, HOST, port, process_request=process_request,
                     server_header="wsscope-capture/1"):
        try:
            async with connect(f"ws://{HOST}:{port}/v12-only", open_timeout=3,
                               user_agent_header="wsscope-capture/1"):
                pass
        except Exception as e:  # InvalidStatus is the expected outcome
            print("client saw:", type(e).__name__, e, file=sys.stderr)
        await asyncio.sleep(0.1)


# ---------------------------------------------------------------- abortive close
async def abort(port):
    from websockets.asyncio.server import serve

    async def handler(ws):
        try:
            async for msg in ws:
                await ws.send(msg)
        except Exception as e:
            print("server saw:", type(e).__name__, e, file=sys.stderr)

    async with serve(handler, HOST, port, compression=None, ping_interval=None,
                     server_header="wsscope-capture/1"):
        await asyncio.to_thread(abort_client, port)
        await asyncio.sleep(0.3)


def abort_client(port):
    """A hand-written client so we control the socket: one echo, then RST with no close frame."""
    s = socket.create_connection((HOST, port))
    key = base64.b64encode(random.Random(7).randbytes(16)).decode()
    s.sendall((f"GET /abort HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    payload = b"last words before the reset"
    mkey = b"\x37\xfa\x21\x3d"
    masked = bytes(b ^ mkey[i % 4] for i, b in enumerate(payload))
    s.sendall(bytes([0x81, 0x80 | len(payload)]) + mkey + masked)
    time.sleep(0.05)
    s.recv(4096)  # the echo
    time.sleep(0.05)
    # SO_LINGER on with timeout 0: close() sends RST instead of FIN, no close frame ever sent
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


# ---------------------------------------------------------------- Chromium
async def browser(port):
    """Serve browser.html on PORT+1000 (not captured), run headless Chromium on it, and
    echo whatever it sends over the WebSocket on PORT; stop Chromium once the page closed."""
    import subprocess
    import tempfile
    from functools import partial
    from http.server import SimpleHTTPRequestHandler

    from websockets.asyncio.server import serve

    here = os.path.dirname(os.path.abspath(__file__))

    class Page(SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    page_srv = ThreadingHTTPServer((HOST, port + 1000), partial(Page, directory=here))
    page_srv.daemon_threads = True
    threading.Thread(target=page_srv.serve_forever, daemon=True).start()
    closed = asyncio.Event()

    async def handler(ws):
        async for msg in ws:
            await ws.send(f"echo: {msg}" if isinstance(msg, str) else msg)
        print("browser closed with", ws.close_code, ws.close_reason, file=sys.stderr)
        closed.set()

    async with serve(handler, HOST, port, ping_interval=None, server_header="wsscope-capture/1"):
        profile = tempfile.mkdtemp(prefix="wsscope-chromium-")
        proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--remote-debugging-port=0",
             f"--user-data-dir={profile}",
             f"http://{HOST}:{port + 1000}/browser.html?ws={port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            await asyncio.wait_for(closed.wait(), 60)
            await asyncio.sleep(0.3)
        finally:
            # Chromium forks helpers into its own session: end that process group (ours alone)
            try:
                os.killpg(proc.pid, 15)
            except ProcessLookupError:
                pass
            proc.wait(10)
            page_srv.shutdown()
            import shutil
            shutil.rmtree(profile, ignore_errors=True)


# ---------------------------------------------------------------- HTTP polling family
class Quiet(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wsscope-capture/1"
    sys_version = ""

    def log_message(self, *a):
        pass


def serve_http(port, handler_cls):
    srv = ThreadingHTTPServer((HOST, port), handler_cls)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def poll(port):
    state = {"n": 0}

    class H(Quiet):
        def do_GET(self):
            state["n"] += 1
            body = json.dumps({"seq": state["n"], "status": "idle" if state["n"] % 4 else "busy"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = serve_http(port, H)
    c = http.client.HTTPConnection(HOST, port)
    for _ in range(10):
        c.request("GET", "/status", headers={"Accept": "application/json"})
        c.getresponse().read()
        time.sleep(0.2)
    c.close()
    time.sleep(0.1)
    srv.shutdown()


def longpoll(port):
    cond = threading.Condition()
    events = []

    def producer():
        for i in range(5):
            time.sleep(0.3 + 0.1 * i)
            with cond:
                events.append({"id": i + 1, "event": "tick", "data": f"event number {i + 1}"})
                cond.notify_all()

    class H(Quiet):
        def do_GET(self):
            since = int(self.path.split("since=")[1]) if "since=" in self.path else 0
            with cond:
                cond.wait_for(lambda: len(events) > since, timeout=5)
                new = events[since:]
            body = json.dumps(new).encode()
            self.send_response(200 if new else 204)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = serve_http(port, H)
    threading.Thread(target=producer, daemon=True).start()
    c = http.client.HTTPConnection(HOST, port)
    seen = 0
    while seen < 5:
        c.request("GET", f"/events?since={seen}")
        seen += len(json.loads(c.getresponse().read() or b"[]"))
    c.close()
    time.sleep(0.1)
    srv.shutdown()


def sse(port):
    class H(Quiet):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"retry: 1000\n\n")
            self.wfile.flush()
            for i in range(1, 6):
                time.sleep(0.15)
                ev = "update" if i % 2 else "message"
                self.wfile.write(f"id: {i}\nevent: {ev}\ndata: {{\"n\": {i}}}\ndata: second line\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b": comment, stream ends\n\n")
            self.wfile.flush()
            self.close_connection = True

    srv = serve_http(port, H)
    c = http.client.HTTPConnection(HOST, port)
    c.request("GET", "/stream", headers={"Accept": "text/event-stream"})
    r = c.getresponse()
    while r.read(64):
        pass
    c.close()
    time.sleep(0.1)
    srv.shutdown()


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "ws":
        asyncio.run(ws_tour(port, "--no-compress" not in sys.argv))
    elif cmd == "refused":
        asyncio.run(refused(port))
    elif cmd == "abort":
        asyncio.run(abort(port))
    elif cmd == "browser":
        asyncio.run(browser(port))
    elif cmd == "poll":
        poll(port)
    elif cmd == "longpoll":
        longpoll(port)
    elif cmd == "sse":
        sse(port)
    else:
        sys.exit(f"unknown scenario {cmd}")


if __name__ == "__main__":
    main()
