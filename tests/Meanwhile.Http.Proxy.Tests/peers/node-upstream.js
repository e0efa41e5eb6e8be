// The Node upstream of the proxy tests: one route per behaviour. Prints "listening PORT" once it listens.
const http = require('http');
let connections = 0;
const big = Buffer.alloc(1 << 20);
for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 255;
let healthy = true;
const server = http.createServer((req, res) => {
  const url = req.url;
  console.log(`request ${req.method} ${url}`);
  if (url === '/hello') {
    res.setHeader('Content-Type', 'text/plain');
    res.end('Hello, World!');
  } else if (url.startsWith('/headers')) {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url, headers: req.headers }));
  } else if (url === '/echo') {
    // No Content-Length: node sends it chunked, as it comes.
    res.setHeader('Content-Type', 'application/octet-stream');
    req.pipe(res);
  } else if (url === '/big') {
    res.setHeader('Content-Length', big.length);
    res.end(big);
  } else if (url === '/chunked') {
    res.write('one,');
    setTimeout(() => { res.write('two,'); res.end('three'); }, 5);
  } else if (url === '/cut') {
    res.setHeader('Content-Length', big.length);
    res.write(big.subarray(0, 300000), () => req.socket.destroy());
  } else if (url === '/cut-chunked') {
    res.write(big.subarray(0, 1000), () => setTimeout(() => req.socket.destroy(), 5));
  } else if (url === '/hang') {
    // never answers
  } else if (url === '/stats') {
    res.end(JSON.stringify({ connections }));
  } else if (url === '/connection-option') {
    res.setHeader('Connection', 'X-Hop');
    res.setHeader('X-Hop', 'secret');
    res.setHeader('X-End', 'kept');
    res.end('ok');
  } else if (url === '/odd-spacing') {
    // Written raw: field lines spelled every way a parser accepts, between others that stop at the proxy.
    res.socket.write('HTTP/1.1 200 OK\r\nX-A:  spaced \t\r\nX-B: b\r\nDate: upstream\r\nX-C:c\r\nX-E: e\r\n' +
      'Content-Length: 2\r\nX-D: d\r\nX-F: \r\nX-G: g\r\n\r\nok');
  } else if (url === '/healthz') {
    res.statusCode = healthy ? 200 : 503;
    res.end(healthy ? 'ok' : 'down');
  } else if (url === '/sick') {
    healthy = false;
    res.end('now sick');
  } else {
    res.statusCode = 404;
    res.end('not found');
  }
});
server.on('connection', () => connections++);
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
