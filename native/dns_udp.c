/*
 * dns_udp: a UDP socket served in batches for privlink's DNS server (src/dns/udp-batch.ts).
 *
 * Node's dgram pays per datagram: a libuv callback into JS, a Buffer and an rinfo object, and
 * on the way out dgram.send's JS path and a send request. Here the socket (a duplicate of a bound
 * dgram socket's descriptor) is watched with a uv_poll_t on Node's loop; when it is readable up
 * to SLOTS datagrams are read with one recvmmsg into an area JS shares with us, JS is called
 * once for the batch and writes its answers into the same area, and they leave with one
 * sendmmsg. Layout of the shared area (all offsets in bytes, integers in host order):
 *
 *   [0, META)            per slot 4 int32: query length (-1: larger than a slot), answer
 *                        offset (within OUT), answer length (0: no answer), source port
 *   [IN, IN + SLOTS*SLOT) the queries, one slot each
 *   [OUT, OUT + OUT_SIZE) the answers, packed by JS
 *
 * The layout's sizes are exported (`layout`) so JS never restates them.
 */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define SLOTS 64
#define SLOT 4096
#define META (SLOTS * 4 * 4)
#define IN_AT META
#define OUT_AT (IN_AT + SLOTS * SLOT)
#define OUT_SIZE (128 * 1024)
#define AREA (OUT_AT + OUT_SIZE)
/* Batches per readable event before yielding to the rest of the loop (timers, TCP, the API). */
#define ROUNDS 8
/* A full send buffer: wait this long for room, this many times per batch, then drop (as unbound). */
#define SEND_WAIT_MS 5
#define SEND_WAITS 2

typedef struct {
  napi_env env;
  uv_poll_t poll;
  int fd;
  int closing;
  napi_ref area_ref;
  napi_ref cb_ref;
  napi_async_context async;
  uint8_t *area;
  struct mmsghdr rx[SLOTS];
  struct iovec rx_iov[SLOTS];
  struct sockaddr_storage from[SLOTS];
  struct mmsghdr tx[SLOTS];
  struct iovec tx_iov[SLOTS];
  double batches, received, sent, send_dropped, send_errors;
} server_t;

#define CHECK(env, call)                                                                           \
  do {                                                                                             \
    if ((call) != napi_ok) {                                                                       \
      napi_throw_error((env), NULL, "dns_udp: " #call " failed");                                \
      return NULL;                                                                                 \
    }                                                                                              \
  } while (0)

static int32_t *meta(server_t *s) { return (int32_t *)s->area; }

static napi_value throw_errno(napi_env env, const char *what, int err) {
  napi_value code, msg, error;
  char text[160];
  snprintf(text, sizeof text, "dns_udp: %s: %s", what, strerror(err));
  napi_create_string_utf8(env, "EDNSUDP", NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_throw(env, error);
  return NULL;
}

/* Sends the answers JS wrote for the first n slots; the kernel has their bytes on return. */
static void send_batch(server_t *s, int n) {
  int32_t *m = meta(s);
  int count = 0;
  for (int i = 0; i < n; i++) {
    int32_t off = m[i * 4 + 1], len = m[i * 4 + 2];
    if (len <= 0 || off < 0 || len > OUT_SIZE || off > OUT_SIZE - len) continue;
    s->tx_iov[count].iov_base = s->area + OUT_AT + off;
    s->tx_iov[count].iov_len = (size_t)len;
    memset(&s->tx[count].msg_hdr, 0, sizeof s->tx[count].msg_hdr);
    s->tx[count].msg_hdr.msg_name = &s->from[i];
    s->tx[count].msg_hdr.msg_namelen = s->rx[i].msg_hdr.msg_namelen;
    s->tx[count].msg_hdr.msg_iov = &s->tx_iov[count];
    s->tx[count].msg_hdr.msg_iovlen = 1;
    count++;
  }
  int done = 0, waits = 0;
  while (done < count) {
    int r = sendmmsg(s->fd, s->tx + done, (unsigned)(count - done), MSG_DONTWAIT);
    if (r > 0) {
      done += r;
      s->sent += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = {.fd = s->fd, .events = POLLOUT};
      if (waits++ < SEND_WAITS && poll(&p, 1, SEND_WAIT_MS) > 0) continue;
      s->send_dropped += count - done;
      return;
    }
    /* This datagram cannot go (a vanished client, a refused route): skip it, send the rest. */
    s->send_errors++;
    done++;
  }
}

/* Calls JS with the number of queries in the slots; false when JS threw (the batch is dropped). */
static int call_js(server_t *s, int n) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return 0;
  napi_value cb, recv, arg, result;
  int ok = napi_get_reference_value(env, s->cb_ref, &cb) == napi_ok && cb != NULL &&
           napi_get_global(env, &recv) == napi_ok && napi_create_int32(env, n, &arg) == napi_ok &&
           napi_make_callback(env, s->async, recv, cb, 1, &arg, &result) == napi_ok;
  if (!ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value e;
      napi_get_and_clear_last_exception(env, &e);
      napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
  return ok;
}

static void on_readable(uv_poll_t *handle, int status, int events) {
  server_t *s = handle->data;
  if (s->closing || status < 0 || !(events & UV_READABLE)) return;
  int32_t *m = meta(s);
  for (int round = 0; round < ROUNDS && !s->closing; round++) {
    for (int i = 0; i < SLOTS; i++) {
      s->rx[i].msg_hdr.msg_namelen = sizeof s->from[i];
      s->rx[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(s->fd, s->rx, SLOTS, MSG_DONTWAIT, NULL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (int i = 0; i < n; i++) {
      int truncated = (s->rx[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
      m[i * 4] = truncated ? -1 : (int32_t)s->rx[i].msg_len;
      m[i * 4 + 2] = 0;
      const struct sockaddr_storage *a = &s->from[i];
      m[i * 4 + 3] = a->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)a)->sin6_port)
                                              : ntohs(((const struct sockaddr_in *)a)->sin_port);
    }
    s->batches++;
    s->received += n;
    if (call_js(s, n) && !s->closing) send_batch(s, n);
    if (n < SLOTS) return;
  }
}

static void free_server(server_t *s) {
  if (s->area_ref) napi_delete_reference(s->env, s->area_ref);
  if (s->cb_ref) napi_delete_reference(s->env, s->cb_ref);
  if (s->async) napi_async_destroy(s->env, s->async);
  free(s);
}

static void on_closed(uv_handle_t *handle) { free_server(handle->data); }

/*
 * Stops watching and closes the descriptor now, so that the port is free when close() returns
 * (a server closed and started again on the same port binds at once). uv_close stops the poll
 * synchronously, before the descriptor's number can be reused; only the memory waits for the
 * close callback.
 */
static void stop(server_t *s) {
  if (s->closing) return;
  s->closing = 1;
  uv_close((uv_handle_t *)&s->poll, on_closed);
  close(s->fd);
  s->fd = -1;
}

/* The environment goes away (process exit, a worker's end) with the socket still open. */
static void on_env_cleanup(void *arg) {
  server_t *s = arg;
  if (s->closing) return;
  s->closing = 1;
  uv_poll_stop(&s->poll);
  close(s->fd);
}

static server_t *unwrap(napi_env env, napi_value v) {
  server_t *s = NULL;
  if (napi_unwrap(env, v, (void **)&s) != napi_ok || s == NULL) {
    napi_throw_type_error(env, NULL, "dns_udp: not a server handle");
    return NULL;
  }
  return s;
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  (void)hint;
  /* The handle's memory is freed when the poll closes: a handle dropped unclosed keeps serving. */
}

/* serve(fd, area: ArrayBuffer, onBatch: (n) => void) → handle. Serves a duplicate of fd. */
static napi_value serve(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], handle;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t fd;
  void *area;
  size_t size;
  bool is_ab;
  napi_valuetype cbt;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_is_arraybuffer(env, argv[1], &is_ab) != napi_ok || !is_ab ||
      napi_typeof(env, argv[2], &cbt) != napi_ok || cbt != napi_function) {
    napi_throw_type_error(env, NULL, "dns_udp: serve(fd, ArrayBuffer, function)");
    return NULL;
  }
  CHECK(env, napi_get_arraybuffer_info(env, argv[1], &area, &size));
  if (size < AREA) {
    napi_throw_range_error(env, NULL, "dns_udp: the shared area is smaller than layout.size");
    return NULL;
  }
  int type = 0;
  socklen_t tl = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0) return throw_errno(env, "getsockopt", errno);
  if (type != SOCK_DGRAM) return throw_errno(env, "not a datagram socket", EINVAL);
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return throw_errno(env, "dup", errno);
  int fl = fcntl(dup, F_GETFL);
  if (fl < 0 || fcntl(dup, F_SETFL, fl | O_NONBLOCK) < 0) {
    int e = errno;
    close(dup);
    return throw_errno(env, "O_NONBLOCK", e);
  }

  server_t *s = calloc(1, sizeof *s);
  if (!s) {
    close(dup);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->env = env;
  s->fd = dup;
  s->area = area;
  for (int i = 0; i < SLOTS; i++) {
    s->rx_iov[i].iov_base = s->area + IN_AT + i * SLOT;
    s->rx_iov[i].iov_len = SLOT;
    s->rx[i].msg_hdr.msg_iov = &s->rx_iov[i];
    s->rx[i].msg_hdr.msg_iovlen = 1;
    s->rx[i].msg_hdr.msg_name = &s->from[i];
  }
  napi_value name;
  uv_loop_t *loop;
  if (napi_create_reference(env, argv[1], 1, &s->area_ref) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &s->cb_ref) != napi_ok ||
      napi_create_string_utf8(env, "privlink:dns-udp", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_async_init(env, NULL, name, &s->async) != napi_ok ||
      napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, &s->poll, dup) != 0) {
    close(dup);
    free_server(s);
    napi_throw_error(env, NULL, "dns_udp: could not watch the socket");
    return NULL;
  }
  s->poll.data = s;
  if (uv_poll_start(&s->poll, UV_READABLE, on_readable) != 0 ||
      napi_create_object(env, &handle) != napi_ok ||
      napi_wrap(env, handle, s, finalize_handle, NULL, NULL) != napi_ok) {
    stop(s);
    napi_throw_error(env, NULL, "dns_udp: could not start");
    return NULL;
  }
  napi_add_env_cleanup_hook(env, on_env_cleanup, s);
  return handle;
}

/* close(handle): stops reading and closes the duplicate (the poll's close frees the rest). */
static napi_value close_server(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  server_t *s = argc ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  if (!s->closing) {
    napi_remove_env_cleanup_hook(env, on_env_cleanup, s);
    stop(s);
  }
  /* The memory goes with the poll's close: the handle must not reach it afterwards. */
  napi_remove_wrap(env, argv[0], NULL);
  return NULL;
}

/* address(handle, slot) → the source address of the query in slot, as text ("127.0.0.1", "::1"). */
static napi_value address(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  int32_t slot;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  server_t *s = argc == 2 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  if (napi_get_value_int32(env, argv[1], &slot) != napi_ok || slot < 0 || slot >= SLOTS) {
    napi_throw_range_error(env, NULL, "dns_udp: slot");
    return NULL;
  }
  char text[INET6_ADDRSTRLEN] = "";
  const struct sockaddr_storage *a = &s->from[slot];
  if (a->ss_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)a)->sin6_addr, text, sizeof text);
  else
    inet_ntop(AF_INET, &((const struct sockaddr_in *)a)->sin_addr, text, sizeof text);
  CHECK(env, napi_create_string_latin1(env, text, NAPI_AUTO_LENGTH, &out));
  return out;
}

/*
 * sendTo(handle, bytes: Uint8Array, address: string, port) → true when the kernel took it: an
 * answer that is not part of a batch (one that came later, from a Promise).
 */
static napi_value send_to(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  server_t *s = argc == 4 ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  napi_typedarray_type t;
  size_t len, boff;
  void *data;
  napi_value ab;
  char text[INET6_ADDRSTRLEN + 1];
  size_t tlen;
  int32_t port;
  bool is_ta;
  if (napi_is_typedarray(env, argv[1], &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, argv[1], &t, &len, &data, &ab, &boff) != napi_ok ||
      t != napi_uint8_array ||
      napi_get_value_string_latin1(env, argv[2], text, sizeof text, &tlen) != napi_ok ||
      napi_get_value_int32(env, argv[3], &port) != napi_ok || port <= 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "dns_udp: sendTo(handle, Uint8Array, address, port)");
    return NULL;
  }
  struct sockaddr_storage to;
  socklen_t tolen;
  memset(&to, 0, sizeof to);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&to;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&to;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons((uint16_t)port);
    tolen = sizeof *v4;
  } else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    tolen = sizeof *v6;
  } else {
    napi_throw_type_error(env, NULL, "dns_udp: sendTo: not an IP address");
    return NULL;
  }
  ssize_t r = -1;
  if (!s->closing) do
      r = sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&to, tolen);
    while (r < 0 && errno == EINTR);
  if (r >= 0) s->sent++;
  else if (!s->closing) s->send_errors++;
  CHECK(env, napi_get_boolean(env, r >= 0, &out));
  return out;
}

/* stats(handle) → [batches, received, sent, sendDropped, sendErrors] */
static napi_value stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out, v;
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  server_t *s = argc ? unwrap(env, argv[0]) : NULL;
  if (!s) return NULL;
  double values[5] = {s->batches, s->received, s->sent, s->send_dropped, s->send_errors};
  CHECK(env, napi_create_array_with_length(env, 5, &out));
  for (uint32_t i = 0; i < 5; i++) {
    CHECK(env, napi_create_double(env, values[i], &v));
    CHECK(env, napi_set_element(env, out, i, v));
  }
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value layout, v;
  CHECK(env, napi_create_object(env, &layout));
  const struct {
    const char *name;
    int32_t value;
  } sizes[] = {{"slots", SLOTS}, {"slot", SLOT}, {"inAt", IN_AT}, {"outAt", OUT_AT}, {"outSize", OUT_SIZE}, {"size", AREA}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    CHECK(env, napi_create_int32(env, sizes[i].value, &v));
    CHECK(env, napi_set_named_property(env, layout, sizes[i].name, v));
  }
  napi_property_descriptor props[] = {
      {"serve", NULL, serve, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_server, NULL, NULL, NULL, napi_default, NULL},
      {"address", NULL, address, NULL, NULL, NULL, napi_default, NULL},
      {"sendTo", NULL, send_to, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
      {"layout", NULL, NULL, NULL, NULL, layout, napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
