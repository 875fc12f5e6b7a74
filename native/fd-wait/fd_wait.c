/*
 * waitReady(fd, forWrite, timeoutMs, spinUs): blocks the calling thread until `fd` is readable (or writable), at
 * most timeoutMs (fractions allowed), and returns whether it is. Closed and failed descriptors count as ready: the
 * read or write that follows reports them. An interrupted wait returns false, as a timeout does.
 *
 * For its first spinUs microseconds (0: none) the wait polls without sleeping. A thread that sleeps must be woken
 * by the peer's write, which on a virtual machine costs both sides an inter-processor interrupt (~15-40 us each);
 * a local redis-server usually answers sooner than that. The caller chooses spinUs from how long waits take.
 *
 * Node has no synchronous wait on a descriptor; the runtime's synchronous socket reads otherwise spin on reads
 * that find nothing (each an exception in Node) and sleep in guessed steps. See docs/design.md.
 *
 * connectNow(host, port, path, timeoutMs): a connected non-blocking stream socket's descriptor, to the Unix socket
 * at `path` (when not empty) or to host:port (getaddrinfo: each address in turn), within timeoutMs in all; throws
 * an Error whose code is the errno's name (ETIMEDOUT when the time is up) otherwise. Resolving a name is not
 * bounded by timeoutMs: a numeric address or one in /etc/hosts resolves at once, DNS may take its own time. Node has no synchronous
 * connect, and the library host's sync connection must be opened again by the call that finds it closed.
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static napi_value wait_ready(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd = -1;
  bool for_write = false;
  double timeout_ms = 0;
  double spin_us = 0;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_bool(env, argv[1], &for_write) != napi_ok ||
      napi_get_value_double(env, argv[2], &timeout_ms) != napi_ok ||
      (argc > 3 && napi_get_value_double(env, argv[3], &spin_us) != napi_ok)) {
    napi_throw_type_error(env, NULL, "waitReady(fd: number, forWrite: boolean, timeoutMs: number, spinUs?: number)");
    return NULL;
  }
  if (!(timeout_ms > 0)) timeout_ms = 0;
  struct pollfd pfd = { .fd = fd, .events = for_write ? POLLOUT : POLLIN, .revents = 0 };
  if (spin_us > 0) {
    if (spin_us > timeout_ms * 1000) spin_us = timeout_ms * 1000;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
      if (poll(&pfd, 1, 0) > 0) {
        napi_get_boolean(env, true, &result);
        return result;
      }
      clock_gettime(CLOCK_MONOTONIC, &now);
      double spun_us = (double)(now.tv_sec - start.tv_sec) * 1e6 + (double)(now.tv_nsec - start.tv_nsec) / 1e3;
      if (spun_us >= spin_us) break;
    }
    timeout_ms -= spin_us / 1000;
    if (timeout_ms < 0) timeout_ms = 0;
  }
#ifdef __linux__
  struct timespec timeout = { .tv_sec = (time_t)(timeout_ms / 1000) };
  timeout.tv_nsec = (long)((timeout_ms - (double)timeout.tv_sec * 1000) * 1e6);
  int ready = ppoll(&pfd, 1, &timeout, NULL);
#else
  int ready = poll(&pfd, 1, (int)(timeout_ms + 0.999));
#endif
  napi_get_boolean(env, ready > 0, &result);
  return result;
}

static double now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6;
}

/* One address: 0 and the descriptor in *fd, or an errno. */
static int connect_one(int family, const struct sockaddr *addr, socklen_t len, double deadline_ms, int *fd) {
  // fcntl rather than SOCK_NONBLOCK | SOCK_CLOEXEC, which macOS lacks.
  int s = socket(family, SOCK_STREAM, 0);
  if (s < 0) return errno;
  int err = 0;
  if (fcntl(s, F_SETFD, FD_CLOEXEC) != 0 || fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK) != 0) {
    err = errno;
  } else if (connect(s, addr, len) != 0) {
    err = errno;
    if (err == EINPROGRESS || err == EAGAIN || err == EINTR) {
      struct pollfd pfd = { .fd = s, .events = POLLOUT, .revents = 0 };
      int ready;
      do {
        double left = deadline_ms - now_ms();
        ready = left > 0 ? poll(&pfd, 1, (int)(left + 0.999)) : 0;
      } while (ready < 0 && errno == EINTR);
      socklen_t size = sizeof err;
      if (ready < 0) err = errno;
      else if (ready == 0) err = ETIMEDOUT;
      else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &size) != 0) err = errno;
    }
  }
  if (err != 0) {
    close(s);
    return err;
  }
  if (family != AF_UNIX) {
    int on = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  *fd = s;
  return 0;
}

static const char *errno_name(int err) {
  switch (err) {
    case ECONNREFUSED: return "ECONNREFUSED";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ECONNRESET: return "ECONNRESET";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EMFILE: return "EMFILE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return NULL;
  }
}

static napi_value connect_now(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  char host[256];
  char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
  size_t host_len = 0, path_len = 0;
  int32_t port = 0;
  double timeout_ms = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], path, sizeof path, &path_len) != napi_ok ||
      napi_get_value_double(env, argv[3], &timeout_ms) != napi_ok) {
    napi_throw_type_error(env, NULL, "connectNow(host: string, port: number, path: string, timeoutMs: number)");
    return NULL;
  }
  double deadline_ms = now_ms() + timeout_ms;
  int fd = -1;
  int err;
  char message[512];
  if (path_len > 0) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (path_len >= sizeof addr.sun_path) {
      err = ENAMETOOLONG;
    } else {
      memcpy(addr.sun_path, path, path_len);
      err = connect_one(AF_UNIX, (struct sockaddr *)&addr, sizeof addr, deadline_ms, &fd);
    }
  } else {
    char service[16];
    snprintf(service, sizeof service, "%d", (int)port);
    struct addrinfo hints, *found = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int resolved = getaddrinfo(host, service, &hints, &found);
    if (resolved != 0) {
      snprintf(message, sizeof message, "cannot resolve %s: %s", host, gai_strerror(resolved));
      napi_throw_error(env, "ENOTFOUND", message);
      return NULL;
    }
    err = ENOENT;
    for (struct addrinfo *a = found; a != NULL; a = a->ai_next) {
      err = connect_one(a->ai_family, a->ai_addr, a->ai_addrlen, deadline_ms, &fd);
      if (err == 0 || err == ETIMEDOUT) break;
    }
    freeaddrinfo(found);
  }
  if (err != 0) {
    if (err == ETIMEDOUT) snprintf(message, sizeof message, "no connection within %g ms", timeout_ms);
    else snprintf(message, sizeof message, "%s", strerror(err));
    char code[24];
    const char *name = errno_name(err);
    if (name == NULL) snprintf(code, sizeof code, "ERRNO%d", err);
    napi_throw_error(env, name == NULL ? code : name, message);
    return NULL;
  }
  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "waitReady", NAPI_AUTO_LENGTH, wait_ready, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "waitReady", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "connectNow", NAPI_AUTO_LENGTH, connect_now, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "connectNow", fn) != napi_ok) return NULL;
  return exports;
}
