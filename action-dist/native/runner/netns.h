/* The build's network namespace: a holder process keeps it alive between RUN steps, and each
 * RUN's runner joins it before creating its other namespaces. */
#ifndef TSBUILD_RUNNER_NETNS_H
#define TSBUILD_RUNNER_NETNS_H

/* argv[1] that makes the runner a holder instead of running a spec. */
#define NETNS_HOLD_ARG "--hold-netns"

/* The holder: creates a network namespace, prints "ready\n" on stdout, and keeps the namespace
 * (as its own, /proc/PID/ns/net) until stdin reaches end of file or its parent dies. */
int netns_hold(void);

/* Moves the calling (single-threaded) process into the network namespace of `path`; children
 * created afterwards are born in it. Calls fatal() when that fails. */
void netns_join(const char *path);

#endif
