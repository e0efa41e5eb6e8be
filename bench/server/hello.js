// Node.js peer for bench/server/run.sh: the http module, "Hello, World!" as text/plain.
//   node hello.js PORT
const http = require('http');
const port = Number(process.argv[2] || 8083);
const body = 'Hello, World!';
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
}).listen(port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${port} (node ${process.version})`));
