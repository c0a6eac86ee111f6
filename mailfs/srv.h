/* The transports: each serves the tree of tree.c and knows nothing below it. */
#ifndef MAILFS_SRV_H
#define MAILFS_SRV_H

/*
 * srv_fuse.c: mount on mnt and serve until unmounted or signalled; the
 * exit status.  serving, if not NULL, runs in the serving process once
 * the mount is up (after it has gone to the background).
 */
int	srv_fuse(const char *mnt, int foreground, int readonly, int trace, void (*serving)(void));

#endif
