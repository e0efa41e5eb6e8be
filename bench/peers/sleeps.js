'use strict';
// Peer of `Meanwhile.Benchmarks sleeps`: N concurrent 1-second setTimeout promises awaited with Promise.all;
// wall time from the first setTimeout to the last wake-up, and peak RSS. One measurement per process.
const { parseArgs, peakRssMb } = require('./common');

const opt = parseArgs(process.argv.slice(2), { count: 100000 });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

(async () => {
  // Warm-up like the .NET side: rounds of 10,000 one-millisecond sleeps for ~300 ms.
  const warmStart = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - warmStart) / 1e9 < 0.3) {
    const ps = new Array(10000);
    for (let i = 0; i < ps.length; i++) ps[i] = sleep(1);
    await Promise.all(ps);
  }
  const start = process.hrtime.bigint();
  const ps = new Array(opt.count);
  for (let i = 0; i < opt.count; i++) ps[i] = sleep(1000);
  const armed = Number(process.hrtime.bigint() - start) / 1e9;
  const heap = process.memoryUsage().heapUsed / (1024 * 1024);
  await Promise.all(ps);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  const peak = peakRssMb();
  if (opt.json) {
    console.log(JSON.stringify({ bench: 'sleeps', impl: 'node', n: opt.count, wall_s: wall, armed_s: armed, peak_rss_mb: peak, heap_armed_mb: heap }));
  } else {
    console.log(`sleeps (node ${process.version}): ${opt.count} x 1 s: wall ${wall.toFixed(3)} s (armed at ${armed.toFixed(3)} s), ` +
      `peak RSS ${peak.toFixed(1)} MB, heap while pending ${heap.toFixed(1)} MB`);
  }
})();
