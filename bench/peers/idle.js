'use strict';
// Peer of `Meanwhile.Benchmarks idle`: process CPU time while the event loop waits on one timer.
const { parseArgs } = require('./common');

const opt = parseArgs(process.argv.slice(2), { seconds: 1 });
setTimeout(() => {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  setTimeout(() => {
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    const d = process.cpuUsage(cpu0);
    const cpuMs = (d.user + d.system) / 1000;
    if (opt.json) console.log(JSON.stringify({ bench: 'idle', impl: 'node', seconds: wall, cpu_ms: cpuMs, cpu_ms_per_s: cpuMs / wall }));
    else console.log(`idle (node ${process.version}): waited ${wall.toFixed(3)} s: process CPU ${cpuMs.toFixed(2)} ms (${(cpuMs / wall).toFixed(2)} ms/s)`);
  }, opt.seconds * 1000);
}, 500);
