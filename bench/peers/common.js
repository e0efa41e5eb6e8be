'use strict';
// Shared by the Node.js peers: argument parsing, peak RSS and the median, in the shape bench/loop.sh reads.
const fs = require('fs');

function parseArgs(argv, defaults) {
  const out = { ...defaults, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') { out.json = true; continue; }
    const m = /^--([a-z-]+)$/.exec(a);
    if (!m || !(m[1] in defaults) || i + 1 >= argv.length) throw new Error(`bad argument '${a}'`);
    const v = Number(argv[++i].replace(/_/g, ''));
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${m[1]} needs a positive number`);
    out[m[1]] = v;
  }
  return out;
}

// Peak resident set size in MB: VmHWM from /proc/self/status (as the .NET and Python peers read it).
function peakRssMb() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch (_) { /* not Linux */ }
  return process.resourceUsage().maxRSS / 1024;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

module.exports = { parseArgs, peakRssMb, median };
