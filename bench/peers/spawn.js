'use strict';
// Peer of `Meanwhile.Benchmarks spawn`: N async functions, each yielding once to the event loop
// (await a setImmediate promise) and finishing, spawned a batch at a time; median rate of R runs after a timed warm-up.
const { parseArgs, peakRssMb, median } = require('./common');

const opt = parseArgs(process.argv.slice(2), { tasks: 1000000, runs: 5, batch: 10000, "warmup-seconds": 2 });

async function yieldOnce() {
  await new Promise((resolve) => setImmediate(resolve));
}

async function spawnMany(total) {
  const batch = new Array(opt.batch);
  for (let left = total; left > 0;) {
    const n = Math.min(left, opt.batch);
    batch.length = n;
    for (let i = 0; i < n; i++) batch[i] = yieldOnce();
    await Promise.all(batch);
    left -= n;
  }
}

(async () => {
  // Warm up by time, like the .NET side, so that V8's optimizing tiers have settled.
  const warmStart = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - warmStart) / 1e9 < opt['warmup-seconds']) await spawnMany(Math.min(opt.tasks, 1000000));
  const rates = [];
  for (let r = 0; r < opt.runs; r++) {
    const start = process.hrtime.bigint();
    await spawnMany(opt.tasks);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    rates.push(opt.tasks / seconds);
  }
  const rate = median(rates);
  const peak = peakRssMb();
  if (opt.json) {
    console.log(JSON.stringify({ bench: 'spawn', impl: 'node', n: opt.tasks, batch: opt.batch, runs: opt.runs, rate, rates, peak_rss_mb: peak }));
  } else {
    console.log(`spawn (node ${process.version}): ${opt.tasks} tasks x ${opt.runs} runs: median ${(rate / 1e6).toFixed(2)} M tasks/s ` +
      `[${rates.map((x) => (x / 1e6).toFixed(2)).join(', ')}], peak RSS ${peak.toFixed(1)} MB`);
  }
})();
