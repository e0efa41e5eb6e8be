// A second WebSocket echo load generator for bench/websocket.sh, in C on one epoll loop, so the echo ratios do not
// only measure Meanwhile's own client (`meanwhile bench ws://`): N connections, each sending one masked binary
// message of S bytes (S <= 125) and waiting for its echo before the next. Prints "round_trips_per_s N
// cpu_us_per_round_trip C", C its own CPU time (user + system): a server measured with it can't be shown faster than
// the load generator's own cost per round trip, which is mostly the kernel's loopback send, as the server's is.
// Build: cc -O2 -o wsload wsload.c. Usage: wsload HOST PORT PATH CONNECTIONS BYTES SECONDS
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "wsclient.h"

struct conn { int fd; int open; int got; char in[512]; };

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

static double cpu_seconds(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}


int main(int argc, char **argv)
{
    if (argc != 7) { fprintf(stderr, "usage: wsload HOST PORT PATH CONNECTIONS BYTES SECONDS\n"); return 2; }
    const char *host = argv[1], *path = argv[3];
    int port = atoi(argv[2]), count = atoi(argv[4]), size = atoi(argv[5]);
    double seconds = atof(argv[6]);
    if (size < 1 || size > 125) { fprintf(stderr, "BYTES is 1-125\n"); return 2; }
    char frame[2 + 4 + 125];
    frame[0] = (char)0x82; frame[1] = (char)(0x80 | size);
    unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
    memcpy(frame + 2, mask, 4);
    for (int i = 0; i < size; i++) frame[6 + i] = (char)((i & 0xff) ^ mask[i & 3]);
    int frameLength = 6 + size, echoLength = 2 + size;
    char request[512];
    int requestLength = handshake_request(request, sizeof request, path, host, port);
    int ep = epoll_create1(0);
    struct conn *conns = calloc(count, sizeof *conns);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port) };
    inet_pton(AF_INET, host, &address.sin_addr);
    for (int i = 0; i < count; i++)
    {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conns[i].fd = fd;
        send_all(fd, request, requestLength);
        struct epoll_event event = { .events = EPOLLIN, .data.ptr = &conns[i] };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &event);
    }
    long done = 0;
    int opened = 0;
    double start = 0, end = 0, cpuStart = 0;
    struct epoll_event events[256];
    while (1)
    {
        int n = epoll_wait(ep, events, 256, 1000);
        if (n < 0 && errno != EINTR) fail("epoll_wait");
        for (int e = 0; e < n; e++)
        {
            struct conn *c = events[e].data.ptr;
            ssize_t r = read(c->fd, c->in + c->got, sizeof c->in - c->got);
            if (r <= 0) { fprintf(stderr, "connection closed\n"); return 1; }
            c->got += r;
            if (!c->open)
            {
                c->in[c->got] = 0;
                char *headEnd = strstr(c->in, "\r\n\r\n");
                if (!headEnd) continue;
                if (strncmp(c->in, "HTTP/1.1 101", 12) != 0) { fprintf(stderr, "no 101: %.40s\n", c->in); return 1; }
                c->open = 1; c->got = 0;
                if (++opened == count)
                {
                    start = now(); end = start + seconds; cpuStart = cpu_seconds();
                    for (int i = 0; i < count; i++) send_all(conns[i].fd, frame, frameLength);
                }
                continue;
            }
            if (c->got < echoLength) continue;
            c->got = 0;
            done++;
            send_all(c->fd, frame, frameLength);
        }
        if (opened == count && now() >= end) break;
    }
    double elapsed = now() - start;
    printf("round_trips_per_s %.1f cpu_us_per_round_trip %.1f\n", done / elapsed, (cpu_seconds() - cpuStart) * 1e6 / (done ? done : 1));
    return 0;
}
