// Many WebSocket clients for bench/websocket.sh: node clients.js ws://host:port/broadcast N [broadcasts]
// Opens N connections (in batches), prints "open N", and waits for a line on stdin; then asks the server (GET /send)
// to send one message to all, `broadcasts` times, printing for each how many arrived and the latency percentiles (the
// message carries its send time), then "done"; the end of stdin ends it.
const WebSocket = require('/usr/share/nodejs/ws');
const [url, n, rounds] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4] || 0)];
const sockets = [];
let waiting = null;
function nowMicros() { return (performance.timeOrigin + performance.now()) * 1000; }
async function open() {
  for (let i = 0; i < n; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      batch.push(new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.on('open', () => resolve(ws));
        ws.on('error', reject);
        ws.on('message', data => { if (waiting) waiting(nowMicros() - Number(data.readBigInt64LE(0))); });
        sockets.push(ws);
      }));
    }
    await Promise.all(batch);
  }
}
async function broadcast() {
  const latencies = [];
  const done = new Promise(resolve => { waiting = us => { latencies.push(us); if (latencies.length === n) resolve(); }; });
  const http = new URL(url.replace('ws://', 'http://'));
  const server = (await (await fetch(`http://${http.host}/send`)).text()).trim();
  await Promise.race([done, new Promise(r => setTimeout(r, 10000))]);
  waiting = null;
  latencies.sort((a, b) => a - b);
  const at = p => (latencies[Math.min(latencies.length - 1, Math.floor(p / 100 * latencies.length))] / 1000).toFixed(1);
  console.log(`delivered ${latencies.length}/${n} p50 ${at(50)} ms p99 ${at(99)} ms max ${at(100)} ms (server: ${server})`);
}
(async () => {
  await open();
  console.log('open ' + sockets.length);
  process.stdin.on('end', () => { for (const ws of sockets) ws.terminate(); process.exit(0); });
  process.stdin.once('data', async () => {
    for (let r = 0; r < rounds; r++) await broadcast();
    console.log('done');
  });
})().catch(e => { console.error(e.message); process.exit(1); });
