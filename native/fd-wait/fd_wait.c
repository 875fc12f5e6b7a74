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
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <poll.h>
#include <time.h>

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

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "waitReady", NAPI_AUTO_LENGTH, wait_ready, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "waitReady", fn) != napi_ok) return NULL;
  return exports;
}
