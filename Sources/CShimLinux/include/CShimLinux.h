// The operating system calls PeerKit needs that Swift cannot import: prctl(2) is variadic.
#ifndef CSHIM_LINUX_H
#define CSHIM_LINUX_H

/// prctl(PR_SET_PDEATHSIG, signal): the kernel sends `signal` to this process when its parent
/// dies. Returns prctl's result (0, or -1 with errno); -1 with ENOSYS where there is no prctl.
int CShimLinux_prctl_set_pdeathsig(int signal);

#endif
