// node `ws` server + client on 127.0.0.1 (run by live.py inside tcpdump).
//   node node_ws.js PORT [--deflate]
// Needs the `ws` package on NODE_PATH (make.sh installs it in a temp dir).
// The client sends text and binary, pings, gets a server ping, then closes with 1001 "going away".
'use strict';
const WebSocket = require('ws');
const port = Number(process.argv[2]);
const deflate = process.argv.includes('--deflate');
// threshold 0: compress every message, small ones too, so the capture shows RSV1 on all data frames
const pmd = deflate ? { threshold: 0 } : false;

const wss = new WebSocket.Server({ host: '127.0.0.1', port, perMessageDeflate: pmd }, () => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/node`, { perMessageDeflate: pmd });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const next = () => new Promise((r) => ws.once('message', r));
  ws.on('open', async () => {
    ws.send('hello from node ws');
    await next(); await sleep(20);
    ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3]));
    await next(); await sleep(20);
    ws.send('x'.repeat(300) + ' (300 repeated x, 16-bit length unless compressed)');
    await next(); await sleep(20);
    const pong = new Promise((r) => ws.once('pong', r));
    ws.ping(Buffer.from('node-ping'));
    await pong; await sleep(20);
    // ask the server to ping us; ws answers pings with pongs automatically
    const gotPing = new Promise((r) => ws.once('ping', r));
    const echo = next();
    ws.send('please ping me');
    await gotPing; await echo; await sleep(20);
    ws.close(1001, 'going away');
  });
  ws.on('close', (code, reason) => {
    console.error(`client closed: ${code} ${reason}`);
    setTimeout(() => wss.close(), 100);
  });
});
wss.on('connection', (sock) => {
  sock.on('message', (data, isBinary) => {
    if (!isBinary && data.toString() === 'please ping me') sock.ping(Buffer.from('server-ping'));
    sock.send(data, { binary: isBinary });
  });
});
