/* The transports: each serves the tree of tree.c and knows nothing below it. */
#ifndef MAILFS_SRV_H
#define MAILFS_SRV_H

/* srv_fuse.c: mount on mnt and serve until unmounted or signalled; the exit status */
int	srv_fuse(const char *mnt, int foreground, int readonly, int trace);

#endif
