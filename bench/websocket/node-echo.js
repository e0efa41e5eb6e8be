// Node's ws echo server for bench/websocket.sh: node node-echo.js PORT
const { WebSocketServer } = require('/usr/share/nodejs/ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2]), perMessageDeflate: false });
wss.on('connection', ws => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
wss.on('listening', () => console.log('listening on http://127.0.0.1:' + process.argv[2]));
