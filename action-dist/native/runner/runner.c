/*
 * tsbuild-runner: runs one RUN command in fresh namespaces on an overlay root.
 *
 * Three processes:
 *   runner  (this program, in the host's namespaces) reads the spec from stdin, clones init,
 *           forwards SIGTERM/SIGINT/SIGHUP to it, and after init ends takes the runner's
 *           mount points out of the upper dir and reports the outcome on fd 3.
 *   init    (PID 1 of new mount, PID, UTS, IPC and maybe network namespaces, or of the build's
 *           network namespace that the runner joined first: netns.h) builds the
 *           container's filesystem, forks the command, reaps zombies, forwards signals, and
 *           exits with the command's status; the kernel then kills whatever else is left.
 *   command takes the user, groups and capabilities and execs args[0].
 *
 * init and command talk to the runner over one pipe of NUL-terminated records:
 *   "S…" a mount point stub (stubs.h), "E…" a setup error, "R" setup complete.
 * The pipe is close-on-exec, so the command's exec closes the last write end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "fds.h"
#include "netns.h"
#include "rootfs.h"
#include "seccomp_filter.h"
#include "spec.h"
#include "stubs.h"
#include "user.h"
#include "util.h"

#define OUTCOME_FD 3
#define MAX_SPEC (16 << 20)
#define SETUP_FAILED 125
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static int outcome_fd = -1; /* runner: where the outcome goes, if the caller opened fd 3 */
static int report_fd = -1;  /* init and command: the write end of the report pipe */
static volatile pid_t init_pid;

/* ---- the runner's outcome ---- */

static void write_outcome(const char *json_line) {
  if (outcome_fd >= 0) write_all(outcome_fd, json_line, strlen(json_line));
}

static void report_runner_error(const char *message) {
  struct buf b = {0};
  buf_puts(&b, "{\"error\":");
  buf_json_string(&b, message);
  buf_puts(&b, "}\n");
  write_outcome(b.data);
  if (outcome_fd < 0) dprintf(2, "tsbuild-runner: %s\n", message);
  _exit(SETUP_FAILED);
}

/* init and command: the runner reports it, and removes the mount points made so far. */
static void report_to_runner(const char *message) {
  stubs_send(report_fd);
  char *record = xasprintf("E%s", message);
  write_all(report_fd, record, strlen(record) + 1);
  _exit(SETUP_FAILED);
}

/* ---- the command ---- */

static const char *env_path(const char *const *env) {
  for (const char *const *e = env; *e != NULL; e++) {
    if (strncmp(*e, "PATH=", 5) == 0) return *e + 5;
  }
  return DEFAULT_PATH;
}

/* execvp's search, with the container's PATH from the spec's env rather than ours. */
/* The environment as given, plus HOME from passwd ("/" without an entry) when the spec has
 * none: what runc does, so `RUN echo $HOME` prints what it prints under Docker. */
static char *const *environment(const struct spec *spec, const struct exec_user *user) {
  size_t n = 0;
  for (; spec->env[n] != NULL; n++) {
    if (strncmp(spec->env[n], "HOME=", 5) == 0) return (char *const *)spec->env;
  }
  const char **env = xrealloc(NULL, (n + 2) * sizeof *env);
  memcpy(env, spec->env, n * sizeof *env);
  env[n] = xasprintf("HOME=%s", user->home != NULL && user->home[0] != '\0' ? user->home : "/");
  env[n + 1] = NULL;
  return (char *const *)env;
}

static void exec_command(const struct spec *spec, const struct exec_user *user) {
  const char *file = spec->args[0];
  char *const *argv = (char *const *)spec->args;
  char *const *envp = environment(spec, user);
  if (strchr(file, '/') != NULL) {
    execve(file, argv, envp);
    fatal("exec %s: %s", file, strerror(errno));
  }
  const char *path = env_path(spec->env);
  int saw_eacces = 0;
  const char *p = path;
  for (;;) {
    const char *end = strchrnul(p, ':');
    size_t dir_len = (size_t)(end - p);
    char *candidate = dir_len == 0 ? xstrdup(file) : xasprintf("%.*s/%s", (int)dir_len, p, file);
    execve(candidate, argv, envp);
    int err = errno;
    free(candidate);
    if (err == EACCES) saw_eacces = 1;
    else if (err != ENOENT && err != ENOTDIR && err != ELOOP && err != ENAMETOOLONG) {
      fatal("exec %s: %s", file, strerror(err));
    }
    if (*end == '\0') break;
    p = end + 1;
  }
  if (saw_eacces) fatal("exec %s: %s", file, strerror(EACCES));
  fatal("exec: \"%s\": executable file not found in $PATH", file);
}

static void run_command(const struct spec *spec, const struct exec_user *user) {
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  caps_before_user_switch();
  if (setgroups(user->group_count, user->groups) < 0) fatal("setgroups: %s", strerror(errno));
  if (setresgid(user->gid, user->gid, user->gid) < 0) fatal("setgid %u: %s", (unsigned)user->gid, strerror(errno));
  /* In the sandbox, to a non-root uid the kernel clears permitted and effective capabilities, as in Docker. */
  if (setresuid(user->uid, user->uid, user->uid) < 0) fatal("setuid %u: %s", (unsigned)user->uid, strerror(errno));
  caps_after_user_switch();
  /* Only stdin, stdout and stderr cross the exec: not a descriptor the caller of tsbuild left
   * open (through /proc/self/fd it would reach the host), nor the report pipe. */
  fds_cloexec_from(3);
  exec_command(spec, user);
}

/* ---- init ---- */

static void bring_loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fatal("socket: %s", strerror(errno));
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) fatal("reading lo's flags: %s", strerror(errno));
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) fatal("bringing lo up: %s", strerror(errno));
  close(s);
}

/* As root, before the user switch: rootfs.c has already created the directory. */
static void enter_workdir(const char *cwd) {
  if (chdir(cwd) < 0) fatal("chdir to %s: %s", cwd, strerror(errno));
}

static int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return SETUP_FAILED;
}

/* The signals init waits for: children ending, and those it forwards to the command. */
static void init_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGHUP);
}

/* PID 1: reap everything, forward signals to the command, leave with its status. */
static void init_loop(pid_t command) {
  sigset_t set;
  init_signals(&set);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(command, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      /* Exiting as PID 1 makes the kernel kill the rest of the namespace. */
      if (pid == command) _exit(status_to_code(status));
    }
  }
}

static void init_main(const struct spec *spec, int alive_fd) {
  set_fatal_handler(report_to_runner);
  if (outcome_fd >= 0) close(OUTCOME_FD); /* only the runner reports there */
  /* Dies with the runner; the check closes the race with a runner killed before the prctl. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fatal("prctl: %s", strerror(errno));
  struct pollfd pfd = {.fd = alive_fd, .events = POLLIN};
  if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLHUP | POLLERR))) _exit(SETUP_FAILED);
  close(alive_fd);
  umask(022);

  setup_rootfs(spec, report_fd);
  if (sethostname(spec->hostname, strlen(spec->hostname)) < 0) fatal("sethostname: %s", strerror(errno));
  if (spec->network_none) bring_loopback_up();

  struct exec_user user;
  resolve_user(spec->user, &user);
  enter_workdir(spec->cwd);
  /* Docker's seccomp profile, loaded while init still holds CAP_SYS_ADMIN, so without
   * no_new_privs; init's own remaining calls (capset, fork, wait, kill) are all allowed. An
   * insecure step runs without a filter, as under BuildKit. */
  if (!spec->insecure) seccomp_load_default();
  if (spec->insecure) keep_all_caps();
  else drop_to_default_caps();
  /* Not dumpable: the command cannot reach init's memory or fds through /proc/1. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  sigset_t set;
  init_signals(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);

  pid_t command = fork();
  if (command < 0) fatal("fork: %s", strerror(errno));
  if (command == 0) run_command(spec, &user);
  write_all(report_fd, "R", 2);
  close(report_fd);
  init_loop(command);
}

/* ---- the runner ---- */

static void forward_signal(int sig) {
  if (init_pid > 0) kill(init_pid, sig);
}

static char *read_spec(void) {
  struct buf b = {0};
  buf_append(&b, "", 0);
  char chunk[65536];
  for (;;) {
    ssize_t n = read(0, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fatal("reading the spec from stdin: %s", strerror(errno));
    if (n == 0) break;
    buf_append(&b, chunk, (size_t)n);
    if (b.len > MAX_SPEC) fatal("the spec on stdin is larger than %d bytes", MAX_SPEC);
  }
  return b.data;
}

/* What init and the command said, read until the last write end is closed. */
struct reports {
  char *error;
  int ready;
};

static void read_reports(int fd, struct reports *out) {
  struct buf b = {0};
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf_append(&b, chunk, (size_t)n);
  }
  for (size_t i = 0; i < b.len;) {
    const char *record = b.data + i;
    size_t len = strnlen(record, b.len - i);
    if (i + len == b.len) break; /* unterminated: a writer died mid-record */
    if (record[0] == 'E' && out->error == NULL) out->error = xstrdup(record + 1);
    else if (record[0] == 'R') out->ready = 1;
    else if (record[0] == 'S' && stubs_receive(record + 1) < 0 && out->error == NULL) {
      out->error = xstrdup("malformed mount point record from init");
    }
    i += len + 1;
  }
  free(b.data);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], NETNS_HOLD_ARG) == 0) return netns_hold();
  if (fcntl(OUTCOME_FD, F_GETFD) >= 0) {
    outcome_fd = OUTCOME_FD;
    fcntl(OUTCOME_FD, F_SETFD, FD_CLOEXEC);
  }
  /* Nothing else the caller left open stays: init and the command must not inherit it. */
  fds_close_from(OUTCOME_FD + 1);
  set_fatal_handler(report_runner_error);
  if (argc > 1) {
    fatal("usage: tsbuild-runner 3>outcome < spec.json (runner spec version %d), or tsbuild-runner %s",
          RUNNER_SPEC_VERSION, NETNS_HOLD_ARG);
  }
  /* Dies with the builder that started it (then init, and the whole namespace, follow): a
   * builder killed with SIGKILL leaves no RUN behind. The second getppid() closes the race
   * with a builder that died before the prctl. */
  pid_t builder = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fatal("prctl: %s", strerror(errno));
  if (getppid() != builder) return SETUP_FAILED;

  struct spec spec;
  char *text = read_spec();
  spec_parse(text, strlen(text), &spec);

  /* The command reads nothing: stdin was the spec. */
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0 || dup2(devnull, 0) < 0) fatal("opening /dev/null: %s", strerror(errno));
  close(devnull);

  int reports[2], alive[2];
  if (pipe2(reports, O_CLOEXEC) < 0 || pipe2(alive, O_CLOEXEC) < 0) fatal("pipe: %s", strerror(errno));

  signal(SIGCHLD, SIG_DFL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward_signal; /* no SA_RESTART: reads and waits see EINTR and go on */
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  /* Blocked across the clone: init inherits the mask, so a signal forwarded during setup waits
   * for init's loop instead of being dropped (PID 1 ignores signals it has no handler for). */
  sigset_t forwarded, previous;
  sigemptyset(&forwarded);
  sigaddset(&forwarded, SIGTERM);
  sigaddset(&forwarded, SIGINT);
  sigaddset(&forwarded, SIGHUP);
  sigprocmask(SIG_BLOCK, &forwarded, &previous);

  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
  if (spec.network_none) flags |= CLONE_NEWNET;
  else if (spec.netns != NULL) netns_join(spec.netns);
  /* Raw clone without a new stack: fork semantics, with the namespaces. */
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags, NULL, NULL, NULL, NULL);
  if (pid < 0) {
    fatal("creating namespaces: %s%s", strerror(errno), errno == EPERM ? " (the runner needs root)" : "");
  }
  if (pid == 0) {
    close(reports[0]);
    close(alive[1]);
    report_fd = reports[1];
    init_main(&spec, alive[0]);
    _exit(SETUP_FAILED);
  }
  init_pid = pid;
  sigprocmask(SIG_SETMASK, &previous, NULL);
  close(reports[1]);
  close(alive[0]);

  struct reports got = {0};
  read_reports(reports[0], &got);
  close(reports[0]);

  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fatal("waiting for init: %s", strerror(errno));
  }
  init_pid = 0;
  /* The namespace is gone: every mount point is unmounted and nothing else writes. */
  stubs_cleanup(spec.rootfs.upper);

  if (got.error != NULL) fatal("%s", got.error);
  if (!got.ready) fatal("init died during setup (status %d)", status_to_code(status));
  int code = status_to_code(status);
  char line[64];
  snprintf(line, sizeof line, "{\"exit\":%d}\n", code);
  write_outcome(line);
  return code;
}
