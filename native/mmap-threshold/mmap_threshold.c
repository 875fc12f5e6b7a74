/*
 * pinMmapThreshold(bytes): fixes glibc malloc's mmap threshold at `bytes` (mallopt M_MMAP_THRESHOLD) and returns
 * whether it could; false where the C library is not glibc.
 *
 * glibc raises the threshold to the size of every mmapped block freed, up to 32 MiB: after the first 1 MB value
 * the worker read and let go, later ones come from the heap, whose free space fragments and is not given back
 * (measured: 99-188 MB resident after draining 300 x 1 MB values, 85-91 MB with the threshold pinned at 128 KiB).
 * A fixed threshold turns that adjustment off. See docs/design.md.
 */
#include <node_api.h>
#include <stdbool.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static napi_value pin_mmap_threshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t bytes = 0;
  bool pinned = false;
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &bytes) != napi_ok || bytes <= 0) {
    napi_throw_type_error(env, NULL, "pinMmapThreshold(bytes: positive number)");
    return NULL;
  }
#ifdef __GLIBC__
  pinned = mallopt(M_MMAP_THRESHOLD, bytes) == 1;
#endif
  napi_get_boolean(env, pinned, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "pinMmapThreshold", NAPI_AUTO_LENGTH, pin_mmap_threshold, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "pinMmapThreshold", fn) != napi_ok) return NULL;
  return exports;
}
