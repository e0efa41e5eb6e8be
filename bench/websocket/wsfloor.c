// The floor for bench/websocket.sh: a C server on one epoll loop that does only what each benchmark must, so
// Meanwhile's costs can be compared with the kernel's own in the same run. Not a WebSocket server for anything else:
// it answers the handshake of wsload.c and wsbroadcast.c, whose key is RFC 6455's sample key (its accept value is the
// RFC's too), refuses other keys, and knows only small unfragmented data frames (at most 125 bytes).
//   GET /echo (WebSocket handshake): each frame read is unmasked and written back, one read() and one write();
//   GET /broadcast (WebSocket handshake): held open, anything it sends is read and dropped;
//   GET /send: one send() of a prebuilt 102-byte frame (a 100-byte binary message, its first 8 bytes the clock, Unix
//   µs, as the broadcast begins) to every /broadcast connection, answered with the loop's time.
// Build: cc -O2 -o wsfloor wsfloor.c. Usage: wsfloor PORT (prints "listening" once it listens).
#define _GNU_SOURCE // accept4
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MaxConnections = 65536, HeadBytes = 2048 };

struct conn { int fd; int upgraded; int echoes; int got; char head[HeadBytes]; };

static struct conn *conns[MaxConnections];
static int upgradedFds[MaxConnections];
static int upgradedCount;

static int64_t now_micros(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec * 1000000LL + t.tv_nsec / 1000; }
static double now_seconds(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static void drop(struct conn *c)
{
    if (c->upgraded)
        for (int i = 0; i < upgradedCount; i++)
            if (upgradedFds[i] == c->fd) { upgradedFds[i] = upgradedFds[--upgradedCount]; break; }
    close(c->fd);
    conns[c->fd] = NULL;
    free(c);
}

static void broadcast(struct conn *c)
{
    char frame[102] = { (char)0x82, 100 };
    int64_t stamp = now_micros();
    memcpy(frame + 2, &stamp, sizeof stamp);
    double start = now_seconds();
    int sent = 0;
    for (int i = 0; i < upgradedCount; i++)
        if (send(upgradedFds[i], frame, sizeof frame, MSG_NOSIGNAL) == sizeof frame) sent++;
    double ms = (now_seconds() - start) * 1e3;
    char body[256], answer[512];
    int bodyLength = snprintf(body, sizeof body, "%d sent by C: loop %.1f ms (%.1f µs per send)\n", sent, ms, ms * 1e3 / (sent ? sent : 1));
    int length = snprintf(answer, sizeof answer, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", bodyLength, body);
    if (write(c->fd, answer, length) < 0) perror("write");
    drop(c);
}

static void on_head(struct conn *c)
{
    static const char accepted[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    if (strncmp(c->head, "GET /send ", 10) == 0) { broadcast(c); return; }
    if (strstr(c->head, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n") == NULL)
    {
        static const char refused[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        if (write(c->fd, refused, sizeof refused - 1) < 0) perror("write");
        drop(c);
        return;
    }
    if (write(c->fd, accepted, sizeof accepted - 1) < 0) { drop(c); return; }
    c->upgraded = 1;
    c->got = 0;
    if (strncmp(c->head, "GET /echo ", 10) == 0) c->echoes = 1;
    else upgradedFds[upgradedCount++] = c->fd;
}

// Echoes the whole frames read so far (client frames: masked, at most 125 bytes); keeps a partial one for later.
static void echo(struct conn *c)
{
    char out[HeadBytes];
    int at = 0, length = 0;
    while (c->got - at >= 6)
    {
        unsigned char *frame = (unsigned char *)c->head + at;
        int size = frame[1] & 0x7F;
        if (size > 125 || !(frame[1] & 0x80)) { drop(c); return; }
        if (c->got - at < 6 + size) break;
        out[length] = (char)frame[0];
        out[length + 1] = (char)size;
        for (int i = 0; i < size; i++) out[length + 2 + i] = (char)(frame[6 + i] ^ frame[2 + (i & 3)]);
        length += 2 + size;
        at += 6 + size;
    }
    memmove(c->head, c->head + at, c->got - at);
    c->got -= at;
    if (length > 0 && write(c->fd, out, length) != length) drop(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: wsfloor PORT\n"); return 2; }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) < 0 || listen(listener, 4096) < 0) { perror("listen"); return 1; }
    int ep = epoll_create1(0);
    struct epoll_event event = { .events = EPOLLIN, .data.fd = listener };
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &event);
    printf("listening on %s\n", argv[1]);
    fflush(stdout);
    struct epoll_event events[1024];
    while (1)
    {
        int n = epoll_wait(ep, events, 1024, -1);
        if (n < 0 && errno != EINTR) { perror("epoll_wait"); return 1; }
        for (int e = 0; e < n; e++)
        {
            int fd = events[e].data.fd;
            if (fd == listener)
            {
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0)
                {
                    if (client >= MaxConnections) { close(client); continue; }
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conns[client] = calloc(1, sizeof(struct conn));
                    conns[client]->fd = client;
                    struct epoll_event readable = { .events = EPOLLIN, .data.fd = client };
                    epoll_ctl(ep, EPOLL_CTL_ADD, client, &readable);
                }
                continue;
            }
            struct conn *c = conns[fd];
            if (c == NULL) continue;
            char scratch[4096];
            int discards = c->upgraded && !c->echoes;
            char *into = discards ? scratch : c->head + c->got;
            int room = discards ? (int)sizeof scratch : HeadBytes - 1 - c->got;
            ssize_t r = read(fd, into, room);
            if (r == 0 || (r < 0 && errno != EAGAIN) || (!c->upgraded && r == room)) { drop(c); continue; }
            if (r < 0 || discards) continue;
            c->got += r;
            if (c->echoes) { echo(c); continue; }
            c->head[c->got] = 0;
            if (strstr(c->head, "\r\n\r\n")) on_head(c);
        }
    }
}
