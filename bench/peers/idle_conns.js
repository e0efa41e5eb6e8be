// Memory per idle open TCP connection, Node.js peer of `Meanwhile.Benchmarks idle-server`.
// Accepts --count connections with net.createServer; each socket waits for 'data' (Node reads into a fresh buffer
// only when data comes). Reports VmRSS growth and V8 heapUsed growth after global.gc() (run with --expose-gc),
// per connection. The port is written to --port-file once the server listens (after a warm-up of 64 connections).
'use strict';
const fs = require('fs');
const net = require('net');

function parseArgs(argv) {
  const out = { count: 10000, port_file: '', json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') out.json = true;
    else if (argv[i] === '--count') out.count = Number(argv[++i]);
    else if (argv[i] === '--port-file') out.port_file = argv[++i];
    else throw new Error(`bad argument '${argv[i]}'`);
  }
  if (!out.port_file || !(out.count > 0)) throw new Error('usage: idle_conns.js --port-file F [--count N] [--json]');
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  return out;
}

function rssBytes() {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

function settle() {
  for (let i = 0; i < 3; i++) global.gc();
  return { rss: rssBytes(), heap: process.memoryUsage().heapUsed };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const held = [];
  let target = 64;
  let resolveDone;
  let done = new Promise((r) => { resolveDone = r; });
  const server = net.createServer((socket) => {
    held.push(socket);
    socket.on('data', () => {});
    socket.on('error', () => {});
    if (held.length === target) resolveDone();
  });
  await new Promise((r) => server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, r));
  const port = server.address().port;

  for (let i = 0; i < 64; i++) {
    const c = net.connect(port, '127.0.0.1');
    await new Promise((r) => c.on('connect', r));
    c.destroy();
  }
  await done;
  for (const s of held) s.destroy();
  held.length = 0;
  target = args.count;
  done = new Promise((r) => { resolveDone = r; });
  await new Promise((r) => setTimeout(r, 100));
  const before = settle();

  fs.writeFileSync(args.port_file + '.tmp', String(port));
  fs.renameSync(args.port_file + '.tmp', args.port_file);

  await done;
  await new Promise((r) => setTimeout(r, 500));
  const after = settle();
  const rssPer = (after.rss - before.rss) / args.count;
  const heapPer = (after.heap - before.heap) / args.count;
  if (args.json) {
    console.log(JSON.stringify({ bench: 'idle-connections', impl: 'node', count: args.count,
      rss_before_mb: before.rss / 2 ** 20, rss_after_mb: after.rss / 2 ** 20,
      heap_before_mb: before.heap / 2 ** 20, heap_after_mb: after.heap / 2 ** 20,
      rss_per_conn: rssPer, heap_per_conn: heapPer }));
  } else {
    console.log(`idle connections node: ${args.count} open: RSS ${(before.rss / 2 ** 20).toFixed(1)} -> ${(after.rss / 2 ** 20).toFixed(1)} MB ` +
      `(${rssPer.toFixed(0)} B per connection), V8 heap used ${heapPer.toFixed(0)} B per connection`);
  }
  process.exit(0);
}

main();
