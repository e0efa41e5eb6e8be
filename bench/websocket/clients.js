// Many idle WebSocket clients for bench/websocket.sh's memory figure: node clients.js ws://host:port/path N
// Opens N connections (in batches), prints "open N", and holds them until the end of stdin.
const WebSocket = require('/usr/share/nodejs/ws');
const [url, n] = [process.argv[2], Number(process.argv[3])];
const sockets = [];
async function open() {
  for (let i = 0; i < n; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      batch.push(new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.on('open', () => resolve(ws));
        ws.on('error', reject);
        sockets.push(ws);
      }));
    }
    await Promise.all(batch);
  }
}
(async () => {
  await open();
  console.log('open ' + sockets.length);
  process.stdin.on('end', () => { for (const ws of sockets) ws.terminate(); process.exit(0); });
  process.stdin.resume();
})().catch(e => { console.error(e.message); process.exit(1); });
