// The broadcast client of bench/websocket.sh, in C on one epoll loop, so the latencies are the server's and not the
// client's own lateness (Node ws clients on one core took ~30 µs of their own per message): opens N WebSocket
// connections to PATH, then, ROUNDS times, asks the server for one broadcast (GET on SEND_PATHS, a comma-separated
// list taken in turn, so the ways a server broadcasts alternate on the same connections) and reads one binary
// message on every connection. The message's first 8 bytes are the server's clock (Unix µs, little-endian) when the
// broadcast began; a message's latency is the client's clock when it read it minus that. Prints per round
// "SEND_PATH delivered D/N p50 X ms p99 Y ms max Z ms (server: its answer)".
// Build: cc -O2 -o wsbroadcast wsbroadcast.c. Usage: wsbroadcast HOST PORT PATH SEND_PATHS CONNECTIONS ROUNDS
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "wsclient.h"

enum { MessageBytes = 100, FrameBytes = 2 + MessageBytes, InFlightHandshakes = 256 };

struct conn { int fd; int open; int got; char in[512]; };

static int64_t now_micros(void) { struct timespec t; clock_gettime(CLOCK_REALTIME, &t); return t.tv_sec * 1000000LL + t.tv_nsec / 1000; }


static int connect_to(struct sockaddr_in *address)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)address, sizeof *address) < 0) fail("connect");
    return fd;
}

static int compare(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

// Asks for one broadcast; returns the connection whose answer (the server's own timing) is read after the messages.
static int request_broadcast(struct sockaddr_in *address, const char *host, int port, const char *sendPath)
{
    char request[256];
    int length = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n", sendPath, host, port);
    int fd = connect_to(address);
    send_all(fd, request, length);
    return fd;
}

static void read_answer(int fd, char *body, int size)
{
    char answer[1024];
    int got = 0;
    ssize_t n;
    while (got < (int)sizeof answer - 1 && (n = read(fd, answer + got, sizeof answer - 1 - got)) > 0) got += n;
    answer[got] = 0;
    close(fd);
    char *start = strstr(answer, "\r\n\r\n");
    snprintf(body, size, "%s", start ? start + 4 : answer);
    body[strcspn(body, "\n")] = 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) { fprintf(stderr, "usage: wsbroadcast HOST PORT PATH SEND_PATHS CONNECTIONS ROUNDS\n"); return 2; }
    const char *host = argv[1], *path = argv[3];
    char *sendPaths[16];
    int sendPathCount = 0;
    for (char *p = strtok(argv[4], ","); p && sendPathCount < 16; p = strtok(NULL, ",")) sendPaths[sendPathCount++] = p;
    if (sendPathCount == 0) { fprintf(stderr, "no SEND_PATHS\n"); return 2; }
    int port = atoi(argv[2]), count = atoi(argv[5]), rounds = atoi(argv[6]);
    char request[512];
    int requestLength = handshake_request(request, sizeof request, path, host, port);
    int ep = epoll_create1(0);
    struct conn *conns = calloc(count, sizeof *conns);
    int64_t *latencies = calloc(count, sizeof *latencies);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, host, &address.sin_addr);
    struct epoll_event events[1024];

    // Open the connections, a bounded number of handshakes at a time (a burst of 10,000 connects overflows the backlog).
    int started = 0, opened = 0;
    while (opened < count)
    {
        while (started < count && started - opened < InFlightHandshakes)
        {
            struct conn *c = &conns[started++];
            c->fd = connect_to(&address);
            send_all(c->fd, request, requestLength);
            struct epoll_event event = { .events = EPOLLIN, .data.ptr = c };
            if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &event) < 0) fail("epoll_ctl");
        }
        int n = epoll_wait(ep, events, 1024, 10000);
        if (n == 0) { fprintf(stderr, "handshakes stalled at %d/%d\n", opened, count); return 1; }
        for (int e = 0; e < n; e++)
        {
            struct conn *c = events[e].data.ptr;
            ssize_t r = read(c->fd, c->in + c->got, sizeof c->in - 1 - c->got);
            if (r <= 0) { fprintf(stderr, "connection closed during the handshake\n"); return 1; }
            c->got += r;
            c->in[c->got] = 0;
            char *headEnd = strstr(c->in, "\r\n\r\n");
            if (!headEnd) continue;
            if (strncmp(c->in, "HTTP/1.1 101", 12) != 0) { fprintf(stderr, "no 101: %.40s\n", c->in); return 1; }
            c->open = 1;
            c->got = 0;
            opened++;
        }
    }
    printf("open %d\n", opened);
    fflush(stdout);

    for (int round = 0; round < rounds; round++)
    {
        const char *sendPath = sendPaths[round % sendPathCount];
        int answerFd = request_broadcast(&address, host, port, sendPath);
        int delivered = 0;
        while (delivered < count)
        {
            int n = epoll_wait(ep, events, 1024, 10000);
            if (n < 0 && errno != EINTR) fail("epoll_wait");
            if (n == 0) break;
            for (int e = 0; e < n; e++)
            {
                struct conn *c = events[e].data.ptr;
                ssize_t r = read(c->fd, c->in + c->got, sizeof c->in - c->got);
                if (r <= 0) { fprintf(stderr, "connection closed\n"); return 1; }
                c->got += r;
                if (c->got < FrameBytes) continue;
                if ((unsigned char)c->in[0] != 0x82 || c->in[1] != MessageBytes) { fprintf(stderr, "not a 100-byte binary frame\n"); return 1; }
                int64_t sent;
                memcpy(&sent, c->in + 2, sizeof sent);
                latencies[delivered++] = now_micros() - sent;
                c->got -= FrameBytes;
                memmove(c->in, c->in + FrameBytes, c->got);
            }
        }
        char server[1024];
        read_answer(answerFd, server, sizeof server);
        qsort(latencies, delivered, sizeof *latencies, compare);
        #define AT(p) (delivered ? latencies[(int)((p) / 100.0 * delivered) < delivered ? (int)((p) / 100.0 * delivered) : delivered - 1] / 1000.0 : 0)
        printf("%s delivered %d/%d p50 %.1f ms p99 %.1f ms max %.1f ms (server: %s)\n", sendPath, delivered, count, AT(50), AT(99), AT(100), server);
        fflush(stdout);
    }
    return 0;
}
