/* Descriptors that must not reach the command: whatever the runner's caller left open. */
#ifndef TSBUILD_RUNNER_FDS_H
#define TSBUILD_RUNNER_FDS_H

/* Closes every descriptor numbered `first` or above. */
void fds_close_from(unsigned first);

/* Marks every descriptor numbered `first` or above close-on-exec: they stay usable until the
 * exec (a setup error can still be reported), and none of them crosses it. */
void fds_cloexec_from(unsigned first);

#endif
