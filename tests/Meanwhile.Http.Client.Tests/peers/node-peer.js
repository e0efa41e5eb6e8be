// A Node http server for the client tests; prints "listening <port>" once bound to 127.0.0.1:0.
const http = require('http');
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/chunked') {
    // No Content-Length: Node sends the body chunked, one chunk per write.
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    const n = Number(url.searchParams.get('n') || 10);
    let i = 0;
    const next = () => { if (i < n) { res.write(`chunk ${i++}\n`); setImmediate(next); } else res.end(); };
    next();
  } else if (url.pathname === '/close-delimited') {
    // HTTP/1.0-style framing: no length, no chunking, the end of the body is the close of the connection.
    res.useChunkedEncodingByDefault = false;
    res.shouldKeepAlive = false;
    res.writeHead(200, { 'Connection': 'close' });
    res.write('first part, ');
    setImmediate(() => res.end('second part'));
  } else if (url.pathname === '/slow-body') {
    // The head and a first piece at once, the rest of a Content-Length body only after ms.
    res.writeHead(200, { 'Content-Length': '9' });
    res.write('slow ');
    setTimeout(() => res.end('body'), Number(url.searchParams.get('ms') || 1000));
  } else if (url.pathname === '/delay') {
    setTimeout(() => res.end('late'), Number(url.searchParams.get('ms') || 1000));
  } else {
    res.end('node ' + req.method + ' ' + url.pathname);
  }
});
server.keepAliveTimeout = 60000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 20000 }, () => console.log('listening ' + server.address().port));
