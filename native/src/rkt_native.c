/* The syscalls Node lacks and rkt needs: flock(2) on a pod directory fd,
 * clearing FD_CLOEXEC so the locked fd survives exec, execve(2) so stage0 can
 * replace itself with the stage1 entrypoint, and mknod(2) plus the l*xattr(2)
 * calls that OCI layer unpacking needs (overlay whiteouts, opaque directories,
 * file capabilities). */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Node-style error codes for the errnos callers branch on; anything else reads as EIO
 * (the numeric errno is attached as well). */
static const char *errno_name(int err) {
  switch (err) {
    case EWOULDBLOCK: return "EWOULDBLOCK";
    case ENOENT: return "ENOENT";
    case EBADF: return "EBADF";
    case EINTR: return "EINTR";
    case EEXIST: return "EEXIST";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENODATA: return "ENODATA";
    case ENOTSUP: return "ENOTSUP";
    case ERANGE: return "ERANGE";
    case E2BIG: return "E2BIG";
    case ELOOP: return "ELOOP";
    default: return "EIO";
  }
}

static napi_value throw_errno(napi_env env, const char *syscall, int err) {
  napi_value msg, code, error, sys, errnum;
  char buf[256];
  snprintf(buf, sizeof buf, "%s: %s", syscall, strerror(err));
  napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &msg);
  napi_create_string_utf8(env, errno_name(err), NAPI_AUTO_LENGTH, &code);
  napi_create_error(env, NULL, msg, &error);
  napi_set_named_property(env, error, "code", code);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &sys);
  napi_set_named_property(env, error, "syscall", sys);
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

/* flock(fd, op): op is a LOCK_* combination; returns true when taken, false on
 * EWOULDBLOCK with LOCK_NB, throws otherwise. */
static napi_value js_flock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  int32_t fd, op;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &op) != napi_ok) {
    napi_throw_type_error(env, NULL, "flock(fd, op) expects two integers");
    return NULL;
  }
  int rc;
  do { rc = flock(fd, op); } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK && (op & LOCK_NB)) {
      napi_get_boolean(env, false, &result);
      return result;
    }
    return throw_errno(env, "flock", errno);
  }
  napi_get_boolean(env, true, &result);
  return result;
}

static napi_value js_set_cloexec(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  bool on;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok ||
      napi_get_value_bool(env, argv[1], &on) != napi_ok) {
    napi_throw_type_error(env, NULL, "setCloexec(fd, on) expects an integer and a boolean");
    return NULL;
  }
  int flags = fcntl(fd, F_GETFD);
  if (flags < 0) return throw_errno(env, "fcntl", errno);
  flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
  if (fcntl(fd, F_SETFD, flags) < 0) return throw_errno(env, "fcntl", errno);
  return NULL;
}

static char **to_cstrings(napi_env env, napi_value arr) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) return NULL;
  char **out = calloc(n + 1, sizeof(char *));
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t len = 0;
    napi_get_element(env, arr, i, &v);
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
    out[i] = malloc(len + 1);
    napi_get_value_string_utf8(env, v, out[i], len + 1, &len);
  }
  return out;
}

/* What Node changed about this process that an exec'd program must not inherit: Node marks
 * fds 0-2 close-on-exec, libuv may have put them in O_NONBLOCK mode (a shared open file
 * description, so the new program would see EAGAIN), and Node ignores SIGPIPE and SIGXFSZ
 * (ignored dispositions survive exec). The signal mask is cleared for the same reason. */
static void reset_for_exec(void) {
  for (int fd = 0; fd <= 2; fd++) {
    int fdflags = fcntl(fd, F_GETFD);
    if (fdflags < 0) continue;
    fcntl(fd, F_SETFD, fdflags & ~FD_CLOEXEC);
    int flflags = fcntl(fd, F_GETFL);
    if (flflags >= 0 && (flflags & O_NONBLOCK)) fcntl(fd, F_SETFL, flflags & ~O_NONBLOCK);
  }
  signal(SIGPIPE, SIG_DFL);
  signal(SIGXFSZ, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* execve(path, argv[], envp[]): stdio inherited as the caller had it; returns only on failure (throws). */
static napi_value js_execve(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t len = 0;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "execve(path, argv, envp) expects a string and two arrays");
    return NULL;
  }
  char *path = malloc(len + 1);
  napi_get_value_string_utf8(env, argv[0], path, len + 1, &len);
  char **cargv = to_cstrings(env, argv[1]);
  char **cenv = to_cstrings(env, argv[2]);
  if (!cargv || !cenv) {
    napi_throw_type_error(env, NULL, "execve: argv and envp must be arrays of strings");
    return NULL;
  }
  reset_for_exec();
  execve(path, cargv, cenv);
  return throw_errno(env, "execve", errno);
}


/* Reads argv[i] as a freshly malloc'd NUL-terminated UTF-8 string (NULL and a
 * TypeError thrown when it is not a string). */
static char *arg_string(napi_env env, napi_value v, const char *usage) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  char *s = malloc(len + 1);
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* mknod(path, mode, major, minor): mode carries the file type (S_IFCHR, S_IFIFO, ...). */
static napi_value js_mknod(napi_env env, napi_callback_info info) {
  static const char usage[] = "mknod(path, mode, major, minor) expects a string and three integers";
  size_t argc = 4;
  napi_value argv[4];
  uint32_t mode, major_, minor_;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || napi_get_value_uint32(env, argv[1], &mode) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &major_) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &minor_) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  char *path = arg_string(env, argv[0], usage);
  if (!path) return NULL;
  int rc = mknod(path, (mode_t)mode, makedev(major_, minor_));
  int err = errno;
  free(path);
  if (rc != 0) return throw_errno(env, "mknod", err);
  return NULL;
}

/* lsetxattr(path, name, value: Buffer, flags): never follows a final symlink. */
static napi_value js_lsetxattr(napi_env env, napi_callback_info info) {
  static const char usage[] = "lsetxattr(path, name, value, flags) expects two strings, a Buffer and an integer";
  size_t argc = 4;
  napi_value argv[4];
  int32_t flags;
  void *data = NULL;
  size_t size = 0;
  bool isbuf = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || napi_is_buffer(env, argv[2], &isbuf) != napi_ok || !isbuf ||
      napi_get_buffer_info(env, argv[2], &data, &size) != napi_ok ||
      napi_get_value_int32(env, argv[3], &flags) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  char *path = arg_string(env, argv[0], usage);
  if (!path) return NULL;
  char *name = arg_string(env, argv[1], usage);
  if (!name) { free(path); return NULL; }
  int rc = lsetxattr(path, name, size ? data : "", size, flags);
  int err = errno;
  free(path);
  free(name);
  if (rc != 0) return throw_errno(env, "lsetxattr", err);
  return NULL;
}

/* lgetxattr(path, name): the value as a Buffer, or null when the attribute is absent. */
static napi_value js_lgetxattr(napi_env env, napi_callback_info info) {
  static const char usage[] = "lgetxattr(path, name) expects two strings";
  size_t argc = 2;
  napi_value argv[2], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  char *path = arg_string(env, argv[0], usage);
  if (!path) return NULL;
  char *name = arg_string(env, argv[1], usage);
  if (!name) { free(path); return NULL; }
  ssize_t n;
  char *buf = NULL;
  int err = 0;
  /* The size can change between the two calls; retry on ERANGE. */
  for (int tries = 0; tries < 8; tries++) {
    n = lgetxattr(path, name, NULL, 0);
    if (n < 0) { err = errno; break; }
    free(buf);
    buf = malloc(n > 0 ? (size_t)n : 1);
    n = lgetxattr(path, name, buf, (size_t)n);
    if (n >= 0) { err = 0; break; }
    err = errno;
    if (err != ERANGE) break;
  }
  free(path);
  free(name);
  if (err == ENODATA) {
    free(buf);
    napi_get_null(env, &result);
    return result;
  }
  if (err != 0) {
    free(buf);
    return throw_errno(env, "lgetxattr", err);
  }
  void *out;
  napi_create_buffer_copy(env, (size_t)n, buf, &out, &result);
  free(buf);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "flock", NAPI_AUTO_LENGTH, js_flock, NULL, &fn);
  napi_set_named_property(env, exports, "flock", fn);
  napi_create_function(env, "setCloexec", NAPI_AUTO_LENGTH, js_set_cloexec, NULL, &fn);
  napi_set_named_property(env, exports, "setCloexec", fn);
  napi_create_function(env, "execve", NAPI_AUTO_LENGTH, js_execve, NULL, &fn);
  napi_set_named_property(env, exports, "execve", fn);
  napi_create_function(env, "mknod", NAPI_AUTO_LENGTH, js_mknod, NULL, &fn);
  napi_set_named_property(env, exports, "mknod", fn);
  napi_create_function(env, "lsetxattr", NAPI_AUTO_LENGTH, js_lsetxattr, NULL, &fn);
  napi_set_named_property(env, exports, "lsetxattr", fn);
  napi_create_function(env, "lgetxattr", NAPI_AUTO_LENGTH, js_lgetxattr, NULL, &fn);
  napi_set_named_property(env, exports, "lgetxattr", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
