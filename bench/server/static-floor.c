// The C floor for issue 15 (static files): a minimal single-threaded epoll keep-alive HTTP/1.1 server that does, per
// GET, exactly the system calls `meanwhile serve -q` must make: recv, openat2(RESOLVE_BENEATH) on the root's descriptor,
// statx (size and mtime for the head), cachestat on the range (the never-stall check: an uncached range only counts
// here), send of the head with MSG_MORE, sendfile, close. Its head has the same fields and size as meanwhile's. What it
// costs per request is what this kernel asks of any server that keeps those guarantees; bench/server/static.sh FLOOR=1.
//   static-floor ROOT PORT [--no-cachestat]
// No request bodies, no pipelining beyond what fits one read, no ranges, no error pages beyond 404/400: a floor, not a
// server.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif
struct cachestat_range { uint64_t off, len; };
struct cachestat_result { uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted; };

enum { BUFFER = 4096, MAX_CONNECTIONS = 65536 };
struct connection {
  int fd, file;          // file: the descriptor being sent, or -1
  off_t offset, end;     // what is left of it
  size_t used;           // bytes of a request in buf
  char buf[BUFFER];
};

static struct connection *connections[MAX_CONNECTIONS];
static int root, use_cachestat = 1;
static unsigned long uncached;
static char date[64];
static time_t date_second;

static void refresh_date(void) {
  struct timespec now; clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec == date_second) return;
  date_second = now.tv_sec;
  struct tm tm; gmtime_r(&now.tv_sec, &tm);
  strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void close_connection(struct connection *c) {
  if (c->file >= 0) close(c->file);
  close(c->fd);
  connections[c->fd] = NULL;
  free(c);
}

// sends what is left of the file; 0: done or waiting for EPOLLOUT, -1: the connection failed
static int pump(struct connection *c) {
  while (c->offset < c->end) {
    ssize_t n = sendfile(c->fd, c->file, &c->offset, (size_t)(c->end - c->offset));
    if (n < 0) return errno == EAGAIN ? 0 : -1;
    if (n == 0) return -1;
  }
  close(c->file); c->file = -1;
  return 0;
}

static int respond_error(struct connection *c, int status) {
  char head[256];
  int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: meanwhile\r\nContent-Length: 0\r\n\r\n",
                   status, status == 404 ? "Not Found" : "Bad Request", date);
  return send(c->fd, head, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

// one complete request head in c->buf[0..length): open, stat, check the cache, send head and body
static int serve(struct connection *c) {
  if (strncmp(c->buf, "GET /", 5) != 0) return respond_error(c, 400);
  char *path = c->buf + 5, *space = memchr(path, ' ', c->used - 5);
  if (!space) return respond_error(c, 400);
  *space = 0;
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
  int file = (int)syscall(SYS_openat2, root, *path ? path : ".", &how, sizeof how);
  if (file < 0) return respond_error(c, 404);
  struct statx sx;
  if (statx(file, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE | STATX_MTIME | STATX_INO, &sx) != 0 || !S_ISREG(sx.stx_mode)) {
    close(file); return respond_error(c, 404);
  }
  if (use_cachestat) {
    struct cachestat_range range = {0, sx.stx_size};
    struct cachestat_result cs;
    if (syscall(SYS_cachestat, file, &range, &cs, 0) == 0 && cs.nr_cache < (sx.stx_size + 4095) / 4096) uncached++;
  }
  char modified[64];
  struct tm tm; time_t mtime = sx.stx_mtime.tv_sec; gmtime_r(&mtime, &tm);
  strftime(modified, sizeof modified, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  char head[512];
  int n = snprintf(head, sizeof head,
                   "HTTP/1.1 200 OK\r\nDate: %s\r\nServer: meanwhile\r\nETag: \"%llx-%llx\"\r\nLast-Modified: %s\r\n"
                   "Accept-Ranges: bytes\r\nContent-Type: application/octet-stream\r\nContent-Length: %llu\r\n\r\n",
                   date, (unsigned long long)sx.stx_mtime.tv_sec * 1000000000ULL / 16 + sx.stx_mtime.tv_nsec / 16,
                   (unsigned long long)sx.stx_size, modified, (unsigned long long)sx.stx_size);
  if (send(c->fd, head, (size_t)n, MSG_NOSIGNAL | MSG_MORE) != n) { close(file); return -1; }
  c->file = file; c->offset = 0; c->end = (off_t)sx.stx_size;
  return pump(c);
}

// reads once (edge-triggered, as nginx: a short read means drained) and serves every complete request
static int readable(struct connection *c) {
  if (c->file >= 0) return 0; // still sending: the next request waits in the socket (or in buf)
  if (c->used == 0 || !strstr(c->buf, "\r\n\r\n")) {
    ssize_t n = recv(c->fd, c->buf + c->used, BUFFER - 1 - c->used, 0);
    if (n <= 0) return n < 0 && errno == EAGAIN ? 0 : -1;
    c->used += (size_t)n;
    c->buf[c->used] = 0;
  }
  char *end;
  while (c->file < 0 && (end = strstr(c->buf, "\r\n\r\n")) != NULL) {
    size_t length = (size_t)(end + 4 - c->buf);
    if (serve(c) != 0) return -1;
    memmove(c->buf, c->buf + length, c->used - length + 1);
    c->used -= length;
  }
  return c->used >= BUFFER - 1 ? -1 : 0;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: static-floor ROOT PORT [--no-cachestat]\n"); return 2; }
  if (argc > 3 && strcmp(argv[3], "--no-cachestat") == 0) use_cachestat = 0;
  signal(SIGPIPE, SIG_IGN); // sendfile to a closed connection: an error, not the end (nginx does the same)
  root = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) { perror(argv[1]); return 1; }
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 4096)) { perror("listen"); return 1; }
  int epoll = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event event = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
  struct epoll_event events[512];
  for (;;) {
    int ready = epoll_wait(epoll, events, 512, -1);
    refresh_date();
    for (int i = 0; i < ready; i++) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int accepted;
        while ((accepted = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          if (accepted >= MAX_CONNECTIONS) { close(accepted); continue; }
          setsockopt(accepted, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct connection *c = malloc(sizeof *c);
          c->fd = accepted; c->file = -1; c->used = 0;
          connections[accepted] = c;
          struct epoll_event e = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = accepted};
          epoll_ctl(epoll, EPOLL_CTL_ADD, accepted, &e);
        }
        continue;
      }
      struct connection *c = connections[fd];
      if (!c) continue;
      int failed = 0;
      if ((events[i].events & EPOLLOUT) && c->file >= 0) failed = pump(c);
      if (!failed && (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) failed = readable(c);
      if (failed) close_connection(c);
    }
  }
  (void)uncached;
}
