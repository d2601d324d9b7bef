// The operating system calls Swift cannot import: prctl(2) is variadic; pipe2(2),
// posix_spawn_file_actions_addchdir_np(3) and _addclosefrom_np(3) are GNU extensions, hidden without _GNU_SOURCE.
#ifndef CSHIM_LINUX_H
#define CSHIM_LINUX_H

#include <spawn.h>

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when its parent
/// dies. Returns prctl's result (0, or -1 with errno); -1 with ENOSYS where there is no prctl.
int CShimLinux_prctl_set_pdeathsig(int signal);

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec from their birth, so a child another thread
/// spawns meanwhile cannot inherit them. Returns 0, or -1 with errno.
int CShimLinux_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addchdir_np: the child changes to `path` before it runs its program.
/// Returns 0 or an error number (ENOSYS where the C library has no such action).
int CShimLinux_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np(actions, from): the child closes every descriptor from
/// `from` up before it runs its program, so it keeps none that another thread had open without
/// close-on-exec at the moment of the spawn (a file being written holds "Text file busy" on that
/// file for as long as the child lives). Returns 0 or an error number (ENOSYS where the C library
/// has no such action, before glibc 2.34).
int CShimLinux_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from);

#endif
