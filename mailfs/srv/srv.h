/* The transports: each serves the tree of tree.c and knows nothing below it. */
#ifndef MAILFS_SRV_H
#define MAILFS_SRV_H

#include <stdint.h>
#include <sys/types.h>

/*
 * srv_fuse.c: mount on mnt and serve until unmounted or signalled; the
 * exit status.  serving, if not NULL, runs in the serving process once
 * the mount is up (after it has gone to the background).
 */
typedef struct Fuseconf Fuseconf;
struct Fuseconf {
	int	foreground;
	int	readonly;
	int	trace;
	int	seen;		/* reading a message marks it seen */
	int	passthrough;	/* hand fixed contents to the kernel, where it can be */
	int	uring;		/* FUSE over io_uring, where the kernel offers it */
	int	threads;	/* most worker threads: 1, the single-threaded loop */
	int	timeout;	/* seconds the kernel waits for an answer; 0, forever */
};
void	srv_fuseconf(Fuseconf *c);	/* the defaults */
int	srv_fuseopt(Fuseconf *c, const char *opts);	/* -o a,b=n,...: 0, or -1 + err */
int	srv_fuse(const char *mnt, const Fuseconf *c, void (*serving)(void));

/*
 * srv_9p.c: post the 9P service name in the plan9port namespace; the
 * listening socket, or -1 with the error record set.  srv_9p_start
 * serves it from a thread of its own; srv_9p_serve from this one, until
 * a signal asks to stop; srv_9p_unpost removes the posted name.
 */
int	srv_9p_post(const char *name, int trace, int seen);	/* seen: reading a message marks it seen */
int	srv_9p_start(int lfd);
void	srv_9p_run(int lfd);
void	srv_9p_serve(int lfd);
void	srv_9p_unpost(void);
void	srv_9p_conn(int fd);	/* one connection, in this thread, until it closes */
int	srv_9p_nsdir(char *buf, size_t n);	/* the namespace directory, made if missing */

/* p9dial.c: a client of the 9P services posted in the namespace */
typedef struct P9conn P9conn;
struct P9conn {
	int	fd;
	uint8_t	buf[16384];
	char	strs[8192];
};
int	p9c_dial(P9conn *c, const char *name);	/* attaches fid 0 */
int	p9c_open(P9conn *c, uint32_t fid, const char *name, int mode);
int	p9c_write(P9conn *c, uint32_t fid, const void *p, size_t n);
ssize_t	p9c_read(P9conn *c, uint32_t fid, void *p, size_t n);
void	p9c_close(P9conn *c);

/* keys.c: passwords for the backends, from a key file or factotum */
void	keys_init(const char *file);	/* NULL: the default file */
enum { Nokey, Passkey, Tokenkey };
int	keys_match(char *line, const char *service, const char *server, const char *user, const char **val);	/* one key file line, split in place */

/* plumb.c: new and deleted messages announced to the plumber's seemail */
void	plumb_start(void);

/* sdnotify.c: readiness for a service manager (systemd Type=notify) */
void	notify_init(void);	/* before any thread or child */
void	notify_ready(void);	/* the mount and the 9P service are up */

#endif
