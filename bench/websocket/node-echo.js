// Node's ws server for bench/websocket.sh: node node-echo.js PORT
//   /echo echoes each message; /broadcast holds connections, and GET /send sends one 100-byte message (its first 8
//   bytes: the clock, Unix µs, as the broadcast begins) to all of them, answering with the send loop's time.
const http = require('http');
const { WebSocketServer } = require('/usr/share/nodejs/ws');
const port = Number(process.argv[2]);
const echo = new WebSocketServer({ noServer: true, perMessageDeflate: false });
const broadcast = new WebSocketServer({ noServer: true, perMessageDeflate: false });
echo.on('connection', ws => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
const server = http.createServer((request, response) => {
  if (request.url !== '/send') { response.writeHead(404).end(); return; }
  const payload = Buffer.alloc(100);
  payload.writeBigInt64LE(BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)));
  const started = performance.now();
  let count = 0;
  for (const ws of broadcast.clients) { ws.send(payload, { binary: true }); count++; }
  const ms = performance.now() - started;
  response.end(`${count} sent by Node ws: loop ${ms.toFixed(1)} ms (${(ms * 1000 / Math.max(count, 1)).toFixed(1)} µs per send)\n`);
});
server.on('upgrade', (request, socket, head) => {
  const target = request.url === '/echo' ? echo : request.url === '/broadcast' ? broadcast : null;
  if (!target) { socket.destroy(); return; }
  target.handleUpgrade(request, socket, head, ws => target.emit('connection', ws, request));
});
server.listen(port, '127.0.0.1', () => console.log('listening on http://127.0.0.1:' + port));
