// idmap-bind SRC DST SHIFT COUNT: bind-mounts SRC on DST as an ID-mapped mount (ids 0..COUNT-1 of SRC
// appear as SHIFT..SHIFT+COUNT-1), so an overlay can use it as a lower layer for a user-namespaced pod.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mount.h>

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

static int die(const char *what) { fprintf(stderr, "idmap-bind: %s: %s\n", what, strerror(errno)); return 1; }

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  close(fd);
  return n == (ssize_t)strlen(text) ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: idmap-bind SRC DST SHIFT COUNT\n"); return 2; }
  unsigned long shift = strtoul(argv[3], NULL, 10), count = strtoul(argv[4], NULL, 10);
  int pipefd[2];
  if (pipe(pipefd) < 0) return die("pipe");
  // A child in a new user namespace that only waits: its namespace carries the mapping.
  pid_t pid = fork();
  if (pid < 0) return die("fork");
  if (pid == 0) {
    char c;
    close(pipefd[1]);
    if (unshare(CLONE_NEWUSER) < 0) _exit(1);
    if (read(pipefd[0], &c, 1) < 0) _exit(1); // returns when the parent closes the pipe
    _exit(0);
  }
  close(pipefd[0]);
  char path[64], map[64];
  snprintf(map, sizeof map, "0 %lu %lu\n", shift, count);
  int ok = -1;
  for (int i = 0; i < 1000 && ok < 0; i++) {
    // wait until the child has unshared (its uid_map becomes writable)
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    ok = write_file(path, map);
    if (ok < 0) usleep(1000);
  }
  if (ok < 0) { kill(pid, SIGKILL); return die("uid_map"); }
  snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
  write_file(path, "deny");
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  if (write_file(path, map) < 0) { kill(pid, SIGKILL); return die("gid_map"); }
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  int userns = open(path, O_RDONLY | O_CLOEXEC);
  if (userns < 0) { kill(pid, SIGKILL); return die("open userns"); }
  int tree = syscall(SYS_open_tree, AT_FDCWD, argv[1], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  if (tree < 0) { kill(pid, SIGKILL); return die("open_tree"); }
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns };
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) { kill(pid, SIGKILL); return die("mount_setattr"); }
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, argv[2], MOVE_MOUNT_F_EMPTY_PATH) < 0) { kill(pid, SIGKILL); return die("move_mount"); }
  close(pipefd[1]);
  waitpid(pid, NULL, 0);
  return 0;
}
