// httpload: a single-threaded epoll HTTP/1.1 keep-alive load generator (http:// and https://), a minimal wrk for the
// server benchmarks whose client must not be the ceiling. One request in flight per connection; every response is
// checked (status 200, Content-Length, body length); plain TCP bodies are discarded in the kernel with
// recv(MSG_TRUNC) (no copy to user space), TLS bodies are decrypted into one scratch buffer. See bench/load/README.md.
//
//   gcc -O2 -o httpload bench/load/httpload.c -lssl -lcrypto
//   httpload -c 64 -d 5 [-w 2] [-H 'Name: value']... http[s]://host[:port]/path
//
// Output: a wrk-like report ("Requests/sec:", "N requests in", latency percentiles) and one machine line starting with
// "httpload " (key=value). Exit status 1 when any response or connection failed, 2 on bad arguments.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_CAPACITY 8192           // a response head must fit (status line and headers)
#define SCRATCH_SIZE (256 * 1024)    // TLS plaintext lands here and is dropped
#define MAX_HEADERS_TEXT 8192
#define HIST_BUCKETS (64 * 42)       // log-linear: 64 sub-buckets per power of two (1.6 % resolution), in ns

enum state { CONNECTING, HANDSHAKING, SENDING, READING_HEAD, READING_BODY };
enum error_kind { E_CONNECT, E_TLS, E_READ, E_WRITE, E_EOF, E_STATUS, E_PARSE, E_LENGTH, E_CHUNKED, E_KINDS };
static const char *error_names[E_KINDS] = {"connect", "tls", "read", "write", "eof", "status", "parse", "length",
                                           "chunked"};

struct conn {
  int fd;
  SSL *ssl;
  enum state state;
  size_t sent;               // bytes of the request written
  size_t head_len;           // bytes of the response head buffered
  long long body_left;       // body bytes still to come
  int close_after;           // the response said Connection: close
  int responses;             // responses completed on this connection
  uint32_t index, generation; // epoll data: an event of a replaced socket is recognised and dropped
  uint64_t started_ns;       // request start
  char head[HEAD_CAPACITY];
};

static struct addrinfo *target;
static SSL_CTX *tls_ctx;
static const char *host;
static char request[MAX_HEADERS_TEXT + 1024];
static size_t request_len;
static int epfd;
static unsigned char scratch[SCRATCH_SIZE];

// Counters of the measured phase (reset when the warm-up ends); errors are counted over the whole run.
static uint64_t completed, bytes_read, reconnects, hist[HIST_BUCKETS];
static uint64_t errors[E_KINDS];
static int measuring;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static double cpu_seconds(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static int bucket_of(uint64_t v) {
  if (v < 128) return (int)v;
  int msb = 63 - __builtin_clzll(v), shift = msb - 6;
  int index = (shift + 1) * 64 + (int)((v >> shift) - 64);
  return index < HIST_BUCKETS ? index : HIST_BUCKETS - 1;
}

static double bucket_value(int index) { // the middle of the bucket
  if (index < 128) return index;
  int shift = index / 64 - 1;
  uint64_t low = (uint64_t)(index % 64 + 64) << shift;
  return low + ((1ull << shift) - 1) / 2.0;
}

static double percentile(double p) {
  uint64_t total = 0, seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) total += hist[i];
  if (total == 0) return 0;
  uint64_t rank = (uint64_t)(p / 100.0 * total + 0.5);
  if (rank < 1) rank = 1;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += hist[i];
    if (seen >= rank) return bucket_value(i);
  }
  return bucket_value(HIST_BUCKETS - 1);
}

static void fail(struct conn *c, enum error_kind kind, const char *detail);
static void start_request(struct conn *c);

static void open_conn(struct conn *c) {
  c->fd = socket(target->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) { perror("httpload: socket"); exit(1); }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->ssl = NULL;
  c->state = CONNECTING;
  c->responses = 0;
  c->head_len = 0;
  c->close_after = 0;
  c->generation++;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                           .data.u64 = (uint64_t)c->generation << 32 | c->index};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) { perror("httpload: epoll_ctl"); exit(1); }
  if (connect(c->fd, target->ai_addr, target->ai_addrlen) != 0 && errno != EINPROGRESS) {
    fail(c, E_CONNECT, strerror(errno));
  }
}

static void close_conn(struct conn *c) {
  if (c->ssl) { SSL_free(c->ssl); c->ssl = NULL; }
  if (c->fd >= 0) { close(c->fd); c->fd = -1; }
}

// An error closes the connection and opens a new one (as wrk does); the first of each kind is printed.
static void fail(struct conn *c, enum error_kind kind, const char *detail) {
  if (errors[kind]++ == 0) fprintf(stderr, "httpload: %s error: %s\n", error_names[kind], detail);
  if (kind == E_CONNECT && errors[kind] > 1000) { fprintf(stderr, "httpload: too many connect errors\n"); exit(1); }
  close_conn(c);
  open_conn(c);
}

static void start_request(struct conn *c) {
  c->state = SENDING;
  c->sent = 0;
  c->head_len = 0;
  c->close_after = 0;
  c->started_ns = now_ns();
}

static void response_done(struct conn *c) {
  if (measuring) {
    completed++;
    hist[bucket_of(now_ns() - c->started_ns)]++;
  }
  c->responses++;
  if (c->close_after) {
    close_conn(c);
    open_conn(c);
    return;
  }
  start_request(c);
}

// Parses the buffered head ending at `end` (index after CRLFCRLF); sets body_left; returns 0 or -1 (error reported).
static int parse_head(struct conn *c, size_t end) {
  char *p = c->head, *limit = c->head + end;
  if (end < 12 || memcmp(p, "HTTP/1.", 7) != 0) { fail(c, E_PARSE, "not an HTTP/1.x status line"); return -1; }
  int status = atoi(p + 9);
  long long length = -1;
  char *line = memchr(p, '\n', (size_t)(limit - p)) + 1;
  while (line < limit - 2) {
    char *eol = memchr(line, '\n', (size_t)(limit - line));
    size_t n = (size_t)(eol - line);
    if (n > 15 && strncasecmp(line, "content-length:", 15) == 0) {
      length = strtoll(line + 15, NULL, 10);
    } else if (n > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
      fail(c, E_CHUNKED, "Transfer-Encoding in a response: only Content-Length bodies are supported");
      return -1;
    } else if (n > 11 && strncasecmp(line, "connection:", 11) == 0 && memmem(line, n, "close", 5)) {
      c->close_after = 1;
    }
    line = eol + 1;
  }
  if (status != 200) {
    char why[64];
    snprintf(why, sizeof why, "status %d", status);
    fail(c, E_STATUS, why);
    return -1;
  }
  if (length < 0) { fail(c, E_PARSE, "response without Content-Length"); return -1; }
  c->body_left = length;
  return 0;
}

// Takes `n` bytes that arrived while reading the head, of which the first `stored` were appended to c->head. Returns 1
// when the connection moved on (response complete, or failed), 0 to keep reading.
static int head_bytes(struct conn *c, size_t n) {
  size_t before = c->head_len - n; // c->head_len already includes the n bytes
  size_t from = before > 3 ? before - 3 : 0;
  char *end = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
  if (!end) {
    if (c->head_len == HEAD_CAPACITY) { fail(c, E_PARSE, "response head larger than 8 KiB"); return 1; }
    return 0;
  }
  size_t head_end = (size_t)(end - c->head) + 4;
  if (parse_head(c, head_end) != 0) return 1;
  c->body_left -= (long long)(c->head_len - head_end);
  if (c->body_left < 0) { fail(c, E_LENGTH, "more bytes than Content-Length"); return 1; }
  if (c->body_left == 0) { response_done(c); return 1; }
  c->state = READING_BODY;
  return 0;
}

// Runs the connection until it would block. Edge-triggered: every path returns only after EAGAIN / WANT_READ /
// WANT_WRITE (or after the connection was replaced, whose fresh socket gets its own first event).
static void drive(struct conn *c) {
  for (;;) {
    switch (c->state) {
    case CONNECTING: {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) { fail(c, E_CONNECT, strerror(err)); return; }
      if (tls_ctx) {
        c->ssl = SSL_new(tls_ctx);
        SSL_set_fd(c->ssl, c->fd);
        SSL_set_tlsext_host_name(c->ssl, host);
        SSL_set_connect_state(c->ssl);
        c->state = HANDSHAKING;
      } else {
        start_request(c);
      }
      break;
    }
    case HANDSHAKING: {
      int r = SSL_do_handshake(c->ssl);
      if (r == 1) { start_request(c); break; }
      int e = SSL_get_error(c->ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
      char why[256];
      ERR_error_string_n(ERR_get_error(), why, sizeof why);
      fail(c, E_TLS, why);
      return;
    }
    case SENDING: {
      ssize_t n;
      if (c->ssl) {
        int r = SSL_write(c->ssl, request + c->sent, (int)(request_len - c->sent));
        if (r <= 0) {
          int e = SSL_get_error(c->ssl, r);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
          fail(c, E_WRITE, "SSL_write failed");
          return;
        }
        n = r;
      } else {
        n = send(c->fd, request + c->sent, request_len - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN) return;
          if (c->responses > 0 && (errno == EPIPE || errno == ECONNRESET)) { reconnects++; close_conn(c); open_conn(c); return; }
          fail(c, E_WRITE, strerror(errno));
          return;
        }
      }
      c->sent += (size_t)n;
      if (c->sent == request_len) {
        // No read now: the previous response was consumed to its last byte, so nothing is buffered, and the answer's
        // arrival is a new edge. This saves a system call (an EAGAIN) per request.
        c->state = READING_HEAD;
        return;
      }
      break;
    }
    case READING_HEAD:
    case READING_BODY: {
      ssize_t n;
      size_t asked = 0; // plain TCP: a shorter read emptied the socket's queue (data arriving later is a new edge)
      int in_head = c->state == READING_HEAD;
      if (c->ssl) {
        void *into = in_head ? (void *)(c->head + c->head_len) : (void *)scratch;
        int room = in_head ? (int)(HEAD_CAPACITY - c->head_len) : SCRATCH_SIZE;
        int r = SSL_read(c->ssl, into, room);
        if (r <= 0) {
          int e = SSL_get_error(c->ssl, r);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
          n = e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
          if (n < 0) errno = EPROTO;
        } else {
          n = r;
        }
      } else if (in_head) {
        asked = HEAD_CAPACITY - c->head_len;
        n = recv(c->fd, c->head + c->head_len, asked, 0);
      } else {
        // The kernel drops the bytes without copying them (tcp(7): MSG_TRUNC); it returns how many it dropped.
        asked = (size_t)c->body_left;
        n = recv(c->fd, scratch, asked, MSG_TRUNC);
      }
      if (n < 0) {
        if (errno == EAGAIN) return;
        if (in_head && c->head_len == 0 && c->responses > 0 && errno == ECONNRESET) { reconnects++; close_conn(c); open_conn(c); return; }
        fail(c, E_READ, strerror(errno));
        return;
      }
      if (n == 0) {
        // A keep-alive connection the server closed between responses (e.g. its keep-alive limit): reconnect and
        // count it, not an error; EOF inside a response is one.
        if (in_head && c->head_len == 0 && c->responses > 0) { reconnects++; close_conn(c); open_conn(c); return; }
        fail(c, E_EOF, "connection closed inside a response");
        return;
      }
      if (measuring) bytes_read += (uint64_t)n;
      if (in_head) {
        c->head_len += (size_t)n;
        if (head_bytes(c, (size_t)n)) {
          if (c->fd < 0 || c->state == CONNECTING) return;
        } else if ((size_t)n < asked) {
          return;
        }
        break;
      }
      c->body_left -= n;
      if (c->body_left < 0) { fail(c, E_LENGTH, "more bytes than Content-Length"); return; }
      if (c->body_left == 0) {
        response_done(c);
        if (c->state == CONNECTING) return;
      } else if ((size_t)n < asked) {
        return;
      }
      break;
    }
    }
  }
}

static void usage(void) {
  fprintf(stderr, "usage: httpload -c CONNECTIONS -d SECONDS [-w WARMUP_SECONDS] [-H 'Name: value']... URL\n"
                  "  URL: http://host[:port]/path or https://host[:port]/path (TLS 1.3, SNI, ALPN http/1.1)\n");
  exit(2);
}

int main(int argc, char **argv) {
  int connections = 64;
  double duration = 10, warmup = 0;
  char headers[MAX_HEADERS_TEXT] = "";
  size_t headers_len = 0;
  int have_host = 0, opt;
  while ((opt = getopt(argc, argv, "c:d:w:H:")) != -1) {
    switch (opt) {
    case 'c': connections = atoi(optarg); break;
    case 'd': duration = atof(optarg); break;
    case 'w': warmup = atof(optarg); break;
    case 'H': {
      size_t n = strlen(optarg);
      if (headers_len + n + 3 > sizeof headers) { fprintf(stderr, "httpload: headers too long\n"); exit(2); }
      memcpy(headers + headers_len, optarg, n);
      memcpy(headers + headers_len + n, "\r\n", 3);
      headers_len += n + 2;
      if (strncasecmp(optarg, "host:", 5) == 0) have_host = 1;
      break;
    }
    default: usage();
    }
  }
  if (optind != argc - 1 || connections < 1 || duration <= 0 || warmup < 0) usage();
  const char *url = argv[optind];
  int tls;
  if (strncmp(url, "http://", 7) == 0) { tls = 0; url += 7; }
  else if (strncmp(url, "https://", 8) == 0) { tls = 1; url += 8; }
  else usage();
  const char *slash = strchr(url, '/');
  const char *path = slash ? slash : "/";
  size_t authority_len = slash ? (size_t)(slash - url) : strlen(url);
  char authority[256], port[16];
  if (authority_len == 0 || authority_len >= sizeof authority) usage();
  memcpy(authority, url, authority_len);
  authority[authority_len] = 0;
  static char host_buffer[256];
  strcpy(host_buffer, authority);
  char *colon = strrchr(host_buffer, ':');
  if (colon && !strchr(host_buffer, ']')) { *colon = 0; snprintf(port, sizeof port, "%s", colon + 1); }
  else snprintf(port, sizeof port, "%s", tls ? "443" : "80");
  host = host_buffer;

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
  int r = getaddrinfo(host, port, &hints, &target);
  if (r != 0) { fprintf(stderr, "httpload: %s: %s\n", host, gai_strerror(r)); exit(2); }

  request_len = (size_t)snprintf(request, sizeof request, "GET %s HTTP/1.1\r\n%s%s%s%s\r\n", path,
                                 have_host ? "" : "Host: ", have_host ? "" : authority, have_host ? "" : "\r\n",
                                 headers);

  if (tls) {
    tls_ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(tls_ctx, TLS1_3_VERSION);
    SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL); // benchmarks use self-signed certificates, as wrk does
    SSL_CTX_clear_mode(tls_ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(tls_ctx, SSL_SESS_CACHE_OFF);
    // Read ahead: one recv takes all the records that arrived (fewer system calls), into a buffer this large.
    SSL_CTX_set_read_ahead(tls_ctx, 1);
    SSL_CTX_set_default_read_buffer_len(tls_ctx, 64 * 1024);
    static const unsigned char alpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    SSL_CTX_set_alpn_protos(tls_ctx, alpn, sizeof alpn);
  }

  signal(SIGPIPE, SIG_IGN);
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);

  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct conn *conns = calloc((size_t)connections, sizeof *conns);
  if (!conns) { perror("httpload"); exit(1); }
  uint64_t t0 = now_ns();
  measuring = warmup == 0;
  for (int i = 0; i < connections; i++) { conns[i].fd = -1; conns[i].index = (uint32_t)i; open_conn(&conns[i]); }

  uint64_t measure_start = t0, deadline = t0 + (uint64_t)((warmup + duration) * 1e9);
  uint64_t warm_end = t0 + (uint64_t)(warmup * 1e9);
  double cpu_start = cpu_seconds();
  struct epoll_event events[256];
  for (;;) {
    uint64_t now = now_ns();
    if (!measuring && now >= warm_end) {
      measuring = 1;
      measure_start = now;
      cpu_start = cpu_seconds();
    }
    if (now >= deadline) break;
    uint64_t until = measuring ? deadline : warm_end;
    int wait_ms = (int)((until - now) / 1000000) + 1;
    int n = epoll_wait(epfd, events, 256, wait_ms);
    if (n < 0 && errno != EINTR) { perror("httpload: epoll_wait"); exit(1); }
    for (int i = 0; i < n; i++) {
      struct conn *c = &conns[(uint32_t)events[i].data.u64];
      if (c->generation == (uint32_t)(events[i].data.u64 >> 32) && c->fd >= 0) drive(c);
    }
  }
  double elapsed = (now_ns() - measure_start) / 1e9;
  double cpu = cpu_seconds() - cpu_start;
  for (int i = 0; i < connections; i++) close_conn(&conns[i]);

  uint64_t error_total = 0;
  for (int k = 0; k < E_KINDS; k++) error_total += errors[k];
  double rps = completed / elapsed;
  double p50 = percentile(50) / 1e3, p90 = percentile(90) / 1e3, p99 = percentile(99) / 1e3;
  printf("Running %.0fs test @ %s%s (httpload, warm-up %.0fs)\n", duration, tls ? "https://" : "http://", url, warmup);
  printf("  %d connections\n", connections);
  printf("  Latency Distribution\n     50%% %8.2fms\n     90%% %8.2fms\n     99%% %8.2fms\n", p50 / 1e3, p90 / 1e3,
         p99 / 1e3);
  printf("  %llu requests in %.2fs, %.2fMB read\n", (unsigned long long)completed, elapsed, bytes_read / 1048576.0);
  if (error_total) {
    printf("  Errors:");
    for (int k = 0; k < E_KINDS; k++)
      if (errors[k]) printf(" %s %llu", error_names[k], (unsigned long long)errors[k]);
    printf("\n");
  }
  printf("  Client CPU: %.2f us/request, %.0f%% of a core\n", completed ? cpu * 1e6 / completed : 0.0,
         100.0 * cpu / elapsed);
  printf("Requests/sec: %.2f\n", rps);
  printf("httpload requests=%llu seconds=%.3f rps=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f errors=%llu reconnects=%llu "
         "bytes=%llu client_cpu_us_per_req=%.2f client_cpu_util=%.3f\n",
         (unsigned long long)completed, elapsed, rps, p50, p90, p99, (unsigned long long)error_total,
         (unsigned long long)reconnects, (unsigned long long)bytes_read, completed ? cpu * 1e6 / completed : 0.0,
         cpu / elapsed);
  if (tls_ctx) SSL_CTX_free(tls_ctx);
  freeaddrinfo(target);
  free(conns);
  return error_total ? 1 : 0;
}
