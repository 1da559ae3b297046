// The relay's bulk byte path: both directions of one relayed TCP connection moved socket → pipe →
// socket with splice(2) on a thread of its own, so the bytes never enter user space (the
// JavaScript relay copies each byte in and out, 85-90 % of its CPU; docs/performance.md).
//
// Ownership: JavaScript keeps the sockets; this thread works on dup()s of their descriptors, so
// a descriptor libuv closes can never be reused under it, and the connection itself ends when
// the last of the two closes (the relay stops the thread before it closes a socket). The thread
// only splices; it never shuts down or closes a connection: at the first EOF or error, or when
// asked, it stops and hands both sockets back to JavaScript, which ends them as it always does.
//
// Byte counts (bytes read from each source) are stored in a Float64Array that JavaScript reads
// whenever it meters; the thread calls back once, when it is done.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define PIPE_BYTES (1 << 20)
#define FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

// What ended a flow's splicing, as JavaScript sees it: 0 EOF (every spliced byte delivered),
// STOPPED (asked to stop, every spliced byte delivered), ABORTED (asked to abort, bytes in the
// pipes dropped), else the errno of the failed splice.
enum { STOPPED = -1, ABORTED = -2 };
enum { RUN = 0, STOP = 1, ABORT = 2 };

typedef struct {
  int src, dst;
  int pipe[2];
  size_t inpipe;
  double total;
  // Whether this direction carries bytes (not when its FIN was relayed before the hand-over).
  int live;
} dir_t;

typedef struct {
  dir_t d[2];
  int wake;
  size_t pipesz;
  double *counts;
  volatile int request;
  int code;
  int started, joined, finished;
  pthread_t thread;
  napi_ref counts_ref, self_ref;
  napi_threadsafe_function done;
} flow_t;

static void store_count(double *slot, double value) {
  // Aligned 8-byte stores are atomic on the platforms this builds for; JS reads whole values.
  __atomic_store(slot, &value, __ATOMIC_RELAXED);
}

// Moves what the pipe holds to the destination until it would block. Returns an errno or 0.
static int flush(dir_t *d) {
  while (d->inpipe > 0) {
    ssize_t n = splice(d->pipe[0], NULL, d->dst, NULL, d->inpipe, FLAGS);
    if (n > 0) {
      d->inpipe -= (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return 0;
    } else {
      return n < 0 ? errno : EIO;
    }
  }
  return 0;
}

// Fills the pipe from the source until it would block. Returns an errno, 0, or -1 at EOF.
static int fill(flow_t *f, int i, int *moved) {
  dir_t *d = &f->d[i];
  while (d->inpipe < f->pipesz) {
    ssize_t n = splice(d->src, NULL, d->pipe[1], NULL, f->pipesz - d->inpipe, FLAGS);
    if (n > 0) {
      d->inpipe += (size_t)n;
      d->total += (double)n;
      store_count(&f->counts[i], d->total);
      *moved = 1;
    } else if (n == 0) {
      return -1;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN) {
      return 0;
    } else {
      return errno;
    }
  }
  return 0;
}

static int pump(flow_t *f) {
  int draining = 0;
  int code = 0;
  for (;;) {
    int request = __atomic_load_n(&f->request, __ATOMIC_ACQUIRE);
    if (request == ABORT) return ABORTED;
    if (request == STOP && !draining) {
      draining = 1;
      code = STOPPED;
    }
    int moved = 0;
    for (int i = 0; i < 2; i++) {
      dir_t *d = &f->d[i];
      size_t before = d->inpipe;
      int err = flush(d);
      if (err) return err;
      if (d->inpipe != before) moved = 1;
      if (draining || !d->live) continue;
      err = fill(f, i, &moved);
      if (err == -1) {
        // The first FIN: deliver what both pipes hold, then JavaScript reads the EOF itself.
        draining = 1;
        code = 0;
      } else if (err) {
        return err;
      } else if (moved) {
        if ((err = flush(d))) return err;
      }
    }
    if (draining && f->d[0].inpipe == 0 && f->d[1].inpipe == 0) return code;
    if (moved) continue;
    // A source is polled only while its pipe is empty: a pipe that holds bytes may be full (its
    // slots, not its byte count, are the limit), and polling a readable source then would spin.
    struct pollfd p[5];
    int n = 0;
    p[n++] = (struct pollfd){.fd = f->wake, .events = POLLIN};
    for (int i = 0; i < 2; i++) {
      dir_t *d = &f->d[i];
      if (d->inpipe > 0) p[n++] = (struct pollfd){.fd = d->dst, .events = POLLOUT};
      else if (!draining && d->live) p[n++] = (struct pollfd){.fd = d->src, .events = POLLIN};
    }
    if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR) return errno;
    // Consumed, or a stop request would keep the poll returning at once while the pipes drain.
    uint64_t requests;
    if ((p[0].revents & POLLIN) && read(f->wake, &requests, sizeof requests) < 0) {
      /* EAGAIN: another turn of the loop reads it */
    }
  }
}

static void *run(void *arg) {
  flow_t *f = arg;
  f->code = pump(f);
  for (int i = 0; i < 2; i++) {
    close(f->d[i].pipe[0]);
    close(f->d[i].pipe[1]);
    close(f->d[i].src);
  }
  napi_call_threadsafe_function(f->done, NULL, napi_tsfn_nonblocking);
  napi_release_threadsafe_function(f->done, napi_tsfn_release);
  return NULL;
}

static void join(flow_t *f) {
  if (f->started && !f->joined) {
    pthread_join(f->thread, NULL);
    f->joined = 1;
  }
}

static void abort_flow(flow_t *f) {
  __atomic_store_n(&f->request, ABORT, __ATOMIC_RELEASE);
  uint64_t one = 1;
  if (write(f->wake, &one, sizeof one) < 0) { /* the flag alone stops it at its next turn */ }
  join(f);
}

// Runs on the JavaScript thread once the splicing thread is done.
static void call_done(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)data;
  flow_t *f = context;
  join(f);
  f->finished = 1;
  if (env == NULL) return;
  napi_value code, global;
  napi_create_int32(env, f->code, &code);
  napi_get_global(env, &global);
  napi_delete_reference(env, f->counts_ref);
  f->counts_ref = NULL;
  napi_delete_reference(env, f->self_ref);
  f->self_ref = NULL;
  napi_call_function(env, global, js_cb, 1, &code, NULL);
}

static void free_flow(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  flow_t *f = data;
  if (f->started && !f->joined) abort_flow(f);
  if (f->wake >= 0) close(f->wake);
  free(f);
}

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void close_fds(flow_t *f) {
  for (int i = 0; i < 2; i++) {
    if (f->d[i].src >= 0) close(f->d[i].src);
    if (f->d[i].pipe[0] >= 0) close(f->d[i].pipe[0]);
    if (f->d[i].pipe[1] >= 0) close(f->d[i].pipe[1]);
  }
}

// start(clientFd, upstreamFd, counts: Float64Array(2), done: (code) => void, live) → flow
// counts[0] is bytes read from the client, counts[1] from the upstream; live: bit 0 the client's
// direction, bit 1 the upstream's.
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t fds[2], live;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &fds[0]) != napi_ok ||
      napi_get_value_int32(env, argv[1], &fds[1]) != napi_ok ||
      napi_get_value_int32(env, argv[4], &live) != napi_ok || (live & 3) == 0) {
    napi_throw_type_error(env, NULL, "start(clientFd, upstreamFd, counts, done, live)");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[2], &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < 2) {
    napi_throw_type_error(env, NULL, "counts must be a Float64Array of 2");
    return NULL;
  }
  flow_t *f = calloc(1, sizeof *f);
  if (!f) return throw_errno(env, "calloc", ENOMEM);
  f->counts = data;
  f->wake = -1;
  for (int i = 0; i < 2; i++) f->d[i].src = f->d[i].pipe[0] = f->d[i].pipe[1] = -1;
  int err = 0;
  const char *what = "dup";
  for (int i = 0; i < 2 && !err; i++) {
    f->d[i].src = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);
    if (f->d[i].src < 0) err = errno;
  }
  f->pipesz = PIPE_BYTES;
  for (int i = 0; i < 2 && !err; i++) {
    what = "pipe2";
    if (pipe2(f->d[i].pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
      err = errno;
      break;
    }
    // Beyond the user's pipe quota (fs.pipe-user-pages-soft) the kernel refuses: keep the
    // size it gave.
    int got = fcntl(f->d[i].pipe[1], F_SETPIPE_SZ, PIPE_BYTES);
    if (got < 0) got = fcntl(f->d[i].pipe[1], F_GETPIPE_SZ);
    if (got > 0 && (size_t)got < f->pipesz) f->pipesz = (size_t)got;
  }
  if (!err) {
    what = "eventfd";
    f->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (f->wake < 0) err = errno;
  }
  if (err) {
    close_fds(f);
    if (f->wake >= 0) close(f->wake);
    free(f);
    return throw_errno(env, what, err);
  }
  f->d[0].dst = f->d[1].src;
  f->d[1].dst = f->d[0].src;
  f->d[0].live = live & 1;
  f->d[1].live = (live >> 1) & 1;

  napi_value self, name;
  napi_create_external(env, f, free_flow, NULL, &self);
  napi_create_reference(env, argv[2], 1, &f->counts_ref);
  napi_create_reference(env, self, 1, &f->self_ref);
  napi_create_string_utf8(env, "privlink-splice", NAPI_AUTO_LENGTH, &name);
  napi_create_threadsafe_function(env, argv[3], NULL, name, 0, 1, NULL, NULL, f, call_done, &f->done);
  if ((err = pthread_create(&f->thread, NULL, run, f))) {
    napi_release_threadsafe_function(f->done, napi_tsfn_abort);
    close_fds(f);
    napi_delete_reference(env, f->counts_ref);
    napi_delete_reference(env, f->self_ref);
    return throw_errno(env, "pthread_create", err);
  }
  f->started = 1;
  return self;
}

// stop(flow, abort): without abort the thread stops reading, delivers what the pipes hold, and
// calls back; with abort it drops them and has closed its descriptors when stop() returns.
static napi_value stop(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  flow_t *f;
  bool abort = false;
  if (argc < 1 || napi_get_value_external(env, argv[0], (void **)&f) != napi_ok) {
    napi_throw_type_error(env, NULL, "stop(flow, abort)");
    return NULL;
  }
  if (argc > 1) napi_get_value_bool(env, argv[1], &abort);
  if (f->finished) return NULL;
  if (abort) {
    abort_flow(f);
  } else {
    __atomic_store_n(&f->request, STOP, __ATOMIC_RELEASE);
    uint64_t one = 1;
    if (write(f->wake, &one, sizeof one) < 0) { /* see abort_flow */ }
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"start", NULL, start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, stop, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}
