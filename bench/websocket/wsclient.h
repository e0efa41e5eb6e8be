// What the C load generators of bench/websocket.sh (wsload.c, wsbroadcast.c) share: blocking writes and the
// handshake request with RFC 6455's sample key (wsfloor.c answers only that key).
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void fail(const char *what) { perror(what); exit(1); }

static void send_all(int fd, const char *data, int length)
{
    while (length > 0)
    {
        ssize_t n = write(fd, data, length);
        if (n < 0) fail("write");
        data += n; length -= n;
    }
}

static int handshake_request(char *request, int size, const char *path, const char *host, int port)
{
    return snprintf(request, size,
        "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, port);
}
