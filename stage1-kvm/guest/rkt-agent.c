/* rkt-agent: the guest side of `rkt enter` and `rkt stop` for the kvm stage1 (no SSH daemon).
 *
 * It opens the virtio-serial port named "rkt.agent" and serves one session at a time. The host sends a
 * request (an argv to execute, with or without a pty), then stdin data; the agent relays the child's
 * output back and ends the session with the child's exit status. It runs no policy of its own: the host
 * decides the command (a `systemd-run` with the app unit's sandbox properties). Static binary, built by
 * image-build/customize.sh.
 *
 * Frames, both directions: type (1 byte) | payload length (4 bytes, big endian) | payload.
 *   host -> guest: 'R' request: NUL-terminated strings: "1" (version), "tty"|"pipe", rows, cols, argv...
 *                  'I' stdin bytes    'E' stdin closed    'W' window size: rows, cols (2 bytes each, BE)
 *   guest -> host: 'O' stdout bytes   'e' stderr bytes    'X' exit status (4 bytes BE)   'F' failure text
 * The host closing its end (EOF on the port) ends the session: the child's process group gets SIGHUP.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define PORT_NAME "rkt.agent"
#define MAX_FRAME (1 << 20)

static int port = -1;

static int find_port(char *out, size_t outlen) {
  DIR *d = opendir("/sys/class/virtio-ports");
  struct dirent *e;
  if (!d) return -1;
  while ((e = readdir(d)) != NULL) {
    char p[512], name[64] = {0};
    if (e->d_name[0] == '.') continue;
    snprintf(p, sizeof p, "/sys/class/virtio-ports/%s/name", e->d_name);
    FILE *f = fopen(p, "r");
    if (!f) continue;
    if (fgets(name, sizeof name, f)) name[strcspn(name, "\n")] = 0;
    fclose(f);
    if (strcmp(name, PORT_NAME) == 0) {
      snprintf(out, outlen, "/dev/%s", e->d_name);
      closedir(d);
      return 0;
    }
  }
  closedir(d);
  return -1;
}

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) { struct pollfd pf = {fd, POLLOUT, 0}; poll(&pf, 1, 1000); continue; }
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int send_frame(char type, const void *data, uint32_t len) {
  unsigned char h[5] = {(unsigned char)type, len >> 24, len >> 16, len >> 8, len};
  if (write_all(port, h, 5) < 0) return -1;
  return len ? write_all(port, data, len) : 0;
}

/* Incremental frame reader over the port. */
static unsigned char inbuf[MAX_FRAME + 5];
static size_t inlen = 0;

/* Returns 1 and fills type/payload/len when a whole frame is buffered, 0 when more is needed. */
static int next_frame(char *type, unsigned char **payload, uint32_t *len) {
  if (inlen < 5) return 0;
  uint32_t l = ((uint32_t)inbuf[1] << 24) | ((uint32_t)inbuf[2] << 16) | ((uint32_t)inbuf[3] << 8) | inbuf[4];
  if (l > MAX_FRAME) { inlen = 0; return 0; } /* garbage: drop it all */
  if (inlen < 5 + l) return 0;
  *type = (char)inbuf[0];
  *payload = inbuf + 5;
  *len = l;
  return 1;
}

static void consume_frame(uint32_t len) {
  memmove(inbuf, inbuf + 5 + len, inlen - 5 - len);
  inlen -= 5 + len;
}

/* Reads what the port has; returns -1 on EOF (host disconnected), 0 otherwise. */
static int fill(void) {
  ssize_t r = read(port, inbuf + inlen, sizeof inbuf - inlen);
  if (r == 0) return -1;
  if (r < 0) return (errno == EINTR || errno == EAGAIN) ? 0 : -1;
  inlen += (size_t)r;
  return 0;
}

static void fail(const char *msg) { send_frame('F', msg, (uint32_t)strlen(msg)); }

static void run_session(unsigned char *req, uint32_t len) {
  char *argv[256];
  int argc = 0;
  char *fields[4];
  int nf = 0;
  size_t off = 0;
  while (off < len && argc < 255) {
    char *s = (char *)req + off;
    size_t sl = strnlen(s, len - off);
    if (off + sl >= len) break; /* unterminated */
    if (nf < 4) fields[nf++] = s; else argv[argc++] = s;
    off += sl + 1;
  }
  argv[argc] = NULL;
  if (nf < 4 || strcmp(fields[0], "1") != 0 || argc == 0) { fail("bad request"); return; }
  int use_tty = strcmp(fields[1], "tty") == 0;
  struct winsize ws = {(unsigned short)atoi(fields[2]), (unsigned short)atoi(fields[3]), 0, 0};

  int in_fd = -1, out_fd = -1, err_fd = -1;
  pid_t pid;
  if (use_tty) {
    int master;
    /* Raw: the command (systemd-run --pty) owns the terminal semantics on its own pty; this outer one
     * must pass bytes through unchanged (no echo, no \n -> \r\n a second time). */
    struct termios tio;
    memset(&tio, 0, sizeof tio);
    cfmakeraw(&tio);
    cfsetspeed(&tio, B38400);
    pid = forkpty(&master, NULL, &tio, ws.ws_row ? &ws : NULL);
    if (pid == 0) {
      execvp(argv[0], argv);
      fprintf(stderr, "rkt-agent: cannot execute %s: %s\r\n", argv[0], strerror(errno));
      _exit(127);
    }
    in_fd = out_fd = master;
  } else {
    int pi[2], po[2], pe[2];
    if (pipe2(pi, O_CLOEXEC) < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) { fail("pipe failed"); return; }
    pid = fork();
    if (pid == 0) {
      setsid();
      dup2(pi[0], 0); dup2(po[1], 1); dup2(pe[1], 2);
      execvp(argv[0], argv);
      fprintf(stderr, "rkt-agent: cannot execute %s: %s\n", argv[0], strerror(errno));
      _exit(127);
    }
    close(pi[0]); close(po[1]); close(pe[1]);
    in_fd = pi[1]; out_fd = po[0]; err_fd = pe[0];
  }
  if (pid < 0) { fail("fork failed"); return; }

  int status = 0, exited = 0, host_gone = 0;
  char buf[65536];
  while (!exited || out_fd >= 0 || err_fd >= 0) {
    struct pollfd pf[3];
    int n = 0, ip = -1, io = -1, ie = -1;
    if (!host_gone) { pf[n] = (struct pollfd){port, POLLIN, 0}; ip = n++; }
    if (out_fd >= 0) { pf[n] = (struct pollfd){out_fd, POLLIN, 0}; io = n++; }
    if (err_fd >= 0) { pf[n] = (struct pollfd){err_fd, POLLIN, 0}; ie = n++; }
    int r = poll(pf, (nfds_t)n, exited ? 200 : 100);
    if (r < 0 && errno != EINTR) break;
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = 1;
    if (ip >= 0 && (pf[ip].revents & (POLLIN | POLLHUP))) {
      if (fill() < 0) {
        host_gone = 1;
        kill(-pid, SIGHUP);
        kill(-pid, SIGTERM);
      }
      char t; unsigned char *p; uint32_t l;
      while (next_frame(&t, &p, &l)) {
        if (t == 'I' && in_fd >= 0) write_all(in_fd, p, l);
        else if (t == 'E' && in_fd >= 0) {
          if (use_tty) { char eof = 4; write_all(in_fd, &eof, 1); } /* ^D to the line discipline */
          else { close(in_fd); in_fd = -1; }
        } else if (t == 'W' && use_tty && l == 4) {
          struct winsize w = {(unsigned short)((p[0] << 8) | p[1]), (unsigned short)((p[2] << 8) | p[3]), 0, 0};
          ioctl(out_fd, TIOCSWINSZ, &w);
        }
        consume_frame(l);
      }
    }
    for (int k = 0; k < 2; k++) {
      int idx = k == 0 ? io : ie;
      int *fd = k == 0 ? &out_fd : &err_fd;
      if (idx < 0 || *fd < 0 || !(pf[idx].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = read(*fd, buf, sizeof buf);
      if (got > 0) {
        if (!host_gone) send_frame(k == 0 ? 'O' : 'e', buf, (uint32_t)got);
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        /* EIO on a pty master means the child side is closed */
        if (use_tty && k == 0) in_fd = -1;
        close(*fd);
        *fd = -1;
      }
    }
    if (exited && use_tty && out_fd >= 0 && r == 0) { close(out_fd); out_fd = -1; in_fd = -1; }
  }
  if (!exited) waitpid(pid, &status, 0);
  if (in_fd >= 0 && in_fd != out_fd) close(in_fd);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
  if (!host_gone) {
    unsigned char c[4] = {(unsigned char)(code >> 24), (unsigned char)(code >> 16), (unsigned char)(code >> 8), (unsigned char)code};
    send_frame('X', c, 4);
  }
}

int main(void) {
  char path[300];
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; find_port(path, sizeof path) < 0; i++) {
    if (i == 100) { fprintf(stderr, "rkt-agent: no virtio port named %s\n", PORT_NAME); return 1; }
    usleep(100000);
  }
  port = open(path, O_RDWR | O_CLOEXEC);
  if (port < 0) { perror("rkt-agent: open port"); return 1; }
  for (;;) {
    if (fill() < 0) {
      /* No host connected: the port reads EOF until one connects. */
      inlen = 0;
      usleep(200000);
      continue;
    }
    char t; unsigned char *p; uint32_t l;
    while (next_frame(&t, &p, &l)) {
      if (t == 'R') {
        unsigned char *req = malloc(l ? l : 1);
        memcpy(req, p, l);
        consume_frame(l);
        run_session(req, l);
        free(req);
      } else {
        consume_frame(l); /* stray input of an ended session */
      }
    }
  }
}
