/* Mount points the runner creates in the root overlay ("stubs"), recorded so that only they,
 * and only while untouched, are taken out of the upper dir after the command: a layer never
 * gains /proc, /dev or /etc/hosts that the image did not have.
 *
 * The init process records (stubs_before_create) before it creates anything, then, once every
 * mount is in place, stats the records in the upper dir and sends them to the runner
 * (stubs_send). The runner, after the command and its namespace are gone, removes a created
 * entry only if it is still the same inode with the same ctime, owner and mode and is an empty
 * dir or empty file, and puts back the times of upper dirs whose entries it changed. */
#ifndef TSBUILD_RUNNER_STUBS_H
#define TSBUILD_RUNNER_STUBS_H

#include <stddef.h>

/* Init side. upper_fd: the root overlay's upper dir; root_fd: the merged root. */
void stubs_init(int upper_fd, int root_fd);

/* Before creating `name` (kind 'd' dir or 'f' file) in directory dir_fd of the merged root.
 * Records it, every ancestor dir the creation will copy up, and the times of the deepest
 * ancestor already in the upper dir. Entries on other mounts than the root are ignored. */
void stubs_before_create(int dir_fd, const char *name, char kind);

/* Stats the records in the upper dir and writes them to fd, NUL-terminated, prefixed "S".
 * Only the first call does anything, so a setup error can send what was made so far. */
void stubs_send(int fd);

/* Runner side: one record as received (without the leading "S"). Returns 0, or -1 if malformed. */
int stubs_receive(const char *record);

/* Runner side: undoes what the records allow in the upper dir at `upper`. Best effort: an entry
 * that cannot be proven untouched stays. */
void stubs_cleanup(const char *upper);

#endif
