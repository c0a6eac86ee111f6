/*
 * fuse_backing.c: files handed to the kernel by FUSE passthrough, for
 * the FUSE transport only.  One backing id per inode, shared by its
 * concurrent opens (the kernel refuses two backing files for one
 * inode), kept after the last close while nothing changed, so that the
 * next open of the same file is answered at once, and closed when the
 * content changes, the inode is forgotten, or idle ones take too much.
 */
#ifndef MAILFS_FUSE_BACKING_H
#define MAILFS_FUSE_BACKING_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

/* the kernel offers passthrough and the server may use it; why not, if not */
int	backing_usable(struct fuse_conn_info *conn, const char **why);
void	backing_start(int trace);	/* passthrough is on from now; trace: say so of each id on stderr */
int	backing_on(void);

/*
 * The backing id for an open of ino, or 0: serve this open with READ
 * requests (passthrough off, or the kernel refused the file).  *old set:
 * the id's content changed while the inode was open, so this open must
 * be answered with the id and direct I/O, its reads served by READ.
 * mkfd makes a descriptor of the content, which backing_open closes; it
 * runs only when no id is kept.
 */
int	backing_open(fuse_req_t req, fuse_ino_t ino, int (*mkfd)(void *), void *arg, int *old);
void	backing_release(fuse_req_t req, fuse_ino_t ino);	/* an open that got an id has ended */
void	backing_changed(fuse_ino_t ino);	/* later opens get a new backing file */
void	backing_forget(fuse_req_t req, fuse_ino_t ino);

#endif
