/*
 * The FUSE transport (libfuse 3 low-level API).  Inode numbers are qid
 * paths plus one, so they are stable and need no table.  An open is
 * the tree's open file (ofile.c), with the mount's policy: ctl lines
 * apply at close.  A message file's content is fixed for the open:
 * where the kernel allows, its descriptor is handed to the kernel
 * (passthrough, fuse_backing.c) and no READ comes; else it is a Blob or
 * a container read with splice, pushed into the page cache at first
 * open.  Message files never change but for flags and info, so the
 * kernel may cache entries and attributes for long.  Each request is
 * answered exactly once, in the handler.
 */
#define FUSE_USE_VERSION 312

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tree/tree.h"
#include "srv.h"
#include "fuse_backing.h"

static const double Cachesecs = 3600;	/* message trees never change */
enum {
	Pushmax = 256 << 10,	/* pushed into the page cache at first open below this */
};
static int policy = Obatch;	/* through the mount: ctl lines apply at close */
static Fuseconf conf;

/* What an open file's fh points to: the tree's open file, and when its content was made. */
typedef struct Handle Handle;
struct Handle {
	Link	live;		/* first: in the list of opens not yet released */
	Ofile	*f;
	Qpath	q;
	uint64_t	changes;	/* nchanges when its content was made */
	int	backed;		/* handed to the kernel: a backing id is held for it */
	int	counted;	/* an open of a cached file, counted by firstopen */
};

/*
 * Cache invalidations go through a thread of their own: the kernel may
 * hold the directory's lock while it waits for the request that caused
 * them, so sending them from a handler could deadlock.
 */
typedef struct Inval Inval;
struct Inval {
	fuse_ino_t	ino;	/* a directory with name; a file without */
	char	name[16];
	Inval	*next;
};
static struct fuse_session *session;
static pthread_mutex_t invallk = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t invalcond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t invaldone = PTHREAD_COND_INITIALIZER;
static Inval *invals, **invaltail = &invals;
static uint64_t nqueued, nsent;	/* invalidations queued, and sent, ever */
static uint64_t nchanges;	/* changes the tree reported, ever; atomic */

/*
 * Files the kernel looked up and has not opened since: a new inode, so
 * no pages of it are cached, and its first open pushes its content.  An
 * open of any other file finds the pages it pushed before (keep_cache),
 * and should the kernel have dropped them, its READ makes the content.
 * Direct-mapped, so a lookup never opened costs nothing; a slot lost to
 * another costs that open one READ.
 */
enum { Nfresh = 1 << 16, Nopened = 1 << 12 };
static pthread_mutex_t freshlk = PTHREAD_MUTEX_INITIALIZER;	/* fresh and opened */
static Qpath fresh[Nfresh];	/* qid + 1; 0 is empty */
typedef struct Opened Opened;
struct Opened {	/* a message file open now, and how many times */
	Qpath	q;
	int	n;
	Opened	*next;
};
static Opened *opened[Nopened];
static int tracing;
static uid_t uid;	/* every file is the server's user's */
static gid_t gid;

#define trace(...) do { if (tracing) fprintf(stderr, "fuse: " __VA_ARGS__); } while (0)

static size_t
freshslot(Qpath q)
{
	return (size_t)((q * 0x9E3779B97F4A7C15ull) >> 40) & (Nfresh - 1);
}

static void
markfresh(Qpath q)
{
	pthread_mutex_lock(&freshlk);
	fresh[freshslot(q)] = q + 1;
	pthread_mutex_unlock(&freshlk);
}

/*
 * Counted open: is this the first open of a fresh inode, with no other
 * open of it?  Only then may its content be pushed: notify_store waits
 * for the lock of each page it fills, which a READ of another open may
 * hold until a worker answers it.  q is not fresh any more.
 */
static int
firstopen(Qpath q)
{
	pthread_mutex_lock(&freshlk);
	size_t i = freshslot(q);
	int r = fresh[i] == q + 1;
	if (r)
		fresh[i] = 0;
	Opened **l = &opened[freshslot(q) & (Nopened - 1)];
	while (*l && (*l)->q != q)
		l = &(*l)->next;
	if (*l == NULL) {
		*l = xzalloc(sizeof **l);
		(*l)->q = q;
	}
	r = r && (*l)->n++ == 0;
	pthread_mutex_unlock(&freshlk);
	return r;
}

static void
lastclose(Qpath q)
{
	pthread_mutex_lock(&freshlk);
	Opened **l = &opened[freshslot(q) & (Nopened - 1)], *o;
	while (*l && (*l)->q != q)
		l = &(*l)->next;
	if ((o = *l) != NULL && --o->n == 0) {
		*l = o->next;
		free(o);
	}
	pthread_mutex_unlock(&freshlk);
}

static Qpath
toq(fuse_ino_t ino)
{
	return (Qpath)ino - 1;
}

static fuse_ino_t
toino(Qpath q)
{
	return (fuse_ino_t)(q + 1);
}

static void
fail(fuse_req_t req)
{
	int e = errcode() ? errcode() : EIO;

	trace("error %d %s\n", e, errmsg());
	fuse_reply_err(req, e);
}

static void
toattr(struct stat *st, const Dirinfo *d)
{
	memset(st, 0, sizeof *st);
	st->st_ino = toino(d->q);
	st->st_mode = (d->isdir ? S_IFDIR : S_IFREG) | d->mode;
	st->st_nlink = d->isdir ? 2 : 1;
	st->st_uid = uid;
	st->st_gid = gid;
	st->st_size = d->length;
	st->st_blksize = 4096;
	st->st_blocks = (d->length + 511) / 512;
	st->st_atime = st->st_mtime = st->st_ctime = d->mtime;
}

static void
toentry(struct fuse_entry_param *e, const Dirinfo *d)
{
	memset(e, 0, sizeof *e);
	e->ino = toino(d->q);
	e->generation = 1;
	toattr(&e->attr, d);
	e->attr_timeout = Cachesecs;
	e->entry_timeout = Cachesecs;
}

static void *
invalidator(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&invallk);
	for (;;) {
		while (invals == NULL)
			pthread_cond_wait(&invalcond, &invallk);
		Inval *v = invals;
		if ((invals = v->next) == NULL)
			invaltail = &invals;
		pthread_mutex_unlock(&invallk);
		/* a new name's negative entry and a gone name's entry, and the listing */
		if (v->name[0])
			fuse_lowlevel_notify_inval_entry(session, v->ino, v->name, strlen(v->name));
		/* attributes and cached pages: a listing, or a changed file */
		fuse_lowlevel_notify_inval_inode(session, v->ino, 0, 0);
		free(v);
		pthread_mutex_lock(&invallk);
		nsent++;
		pthread_cond_broadcast(&invaldone);
	}
	return NULL;
}

static void
queue(fuse_ino_t ino, const char *name)
{
	Inval *v = xzalloc(sizeof *v);

	v->ino = ino;
	snprintf(v->name, sizeof v->name, "%s", name ? name : "");
	pthread_mutex_lock(&invallk);
	*invaltail = v;
	invaltail = &v->next;
	nqueued++;
	pthread_cond_signal(&invalcond);
	pthread_mutex_unlock(&invallk);
}

/* the tree's watcher: runs with the tree locked, so it only queues */
static void
changed(Qpath q, const char *name, int what)
{
	__atomic_add_fetch(&nchanges, 1, __ATOMIC_SEQ_CST);
	if (what == Wmodified)
		backing_changed(toino(q));
	queue(toino(q), name);
}

/*
 * Wait, a little at most, until the invalidations queued so far are
 * sent, so that what a close changed is seen as soon as it returns.
 * Other workers of the multithreaded loop answer the requests the
 * kernel may make meanwhile.
 */
static void
invalidated(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	pthread_mutex_lock(&invallk);
	uint64_t want = nqueued;
	while (nsent < want && pthread_cond_timedwait(&invaldone, &invallk, &until) == 0)
		;
	pthread_mutex_unlock(&invallk);
}

/*
 * Say which way requests come, and set the kernel's request timeout:
 * both are libfuse 3.18's (io_uring: kernel 6.14 with the fuse module's
 * enable_uring set; the timeout: protocol 7.43).
 */
static void
transport(struct fuse_conn_info *conn)
{
#if FUSE_MINOR_VERSION >= 18
	if (conf.uring && (conn->capable_ext & FUSE_CAP_OVER_IO_URING))
		trace("transport: io_uring%s\n", conf.timeout ? " (the kernel may not time its requests out)" : "");
	else if (conf.uring)
		trace("transport: /dev/fuse, the kernel does not offer io_uring (see /sys/module/fuse/parameters/enable_uring)\n");
	else
		trace("transport: /dev/fuse, %d threads (io_uring: -o uring)\n", conf.threads);
	if (conf.timeout && conn->proto_minor >= 43) {
		conn->request_timeout = conf.timeout;
		trace("request timeout: %d s\n", conf.timeout);
	} else
		trace("request timeout: none, %s\n", conf.timeout ? "the kernel has none" : "turned off (-o timeout=0)");
#else
	(void)conn;
	trace("transport: /dev/fuse; request timeout: none (libfuse older than 3.18)\n");
#endif
}

static void
fs_init(void *data, struct fuse_conn_info *conn)
{
	const char *why = "it was turned off (-o nopassthrough)";

	(void)data;
	trace("libfuse %s, protocol 7.%u\n", fuse_pkgversion(), conn->proto_minor);
	if (conf.passthrough && backing_usable(conn, &why)) {
#ifdef FUSE_CAP_PASSTHROUGH
		fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH);
		backing_start(tracing);
#endif
	}
	if (backing_on())
		trace("passthrough: on, message files are handed to the kernel\n");
	else
		trace("passthrough: off, %s\n", why);
	transport(conn);
	if (conn->capable & FUSE_CAP_SPLICE_WRITE)
		conn->want |= FUSE_CAP_SPLICE_WRITE;
	if (conn->capable & FUSE_CAP_SPLICE_MOVE)
		conn->want |= FUSE_CAP_SPLICE_MOVE;
	/* contents never change under a name, so no attribute checks on open */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
}

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Qpath q;
	Dirinfo d;
	struct fuse_entry_param e;

	trace("lookup %lu %s\n", (unsigned long)parent, name);
	if (tree_walk(toq(parent), name, &q) < 0 || tree_stat(q, &d) < 0) {
		fail(req);
		return;
	}
	toentry(&e, &d);
	if (!d.isdir)
		markfresh(d.q);
	fuse_reply_entry(req, &e);
}

/* the kernel forgets an inode only when it drops it: nlookup is all it had */
static void
fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)nlookup;
	backing_forget(req, ino);
	fuse_reply_none(req);
}

static void
fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		backing_forget(req, forgets[i].ino);
	fuse_reply_none(req);
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Dirinfo d;
	struct stat st;

	(void)fi;
	trace("getattr %lu\n", (unsigned long)ino);
	if (tree_stat(toq(ino), &d) < 0) {
		fail(req);
		return;
	}
	toattr(&st, &d);
	fuse_reply_attr(req, &st, Cachesecs);
}

static void
fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	Dirinfo d;
	struct stat st;

	(void)fi;
	trace("setattr %lu\n", (unsigned long)ino);
	/* "> ctl" truncates: a file that takes writes keeps nothing to lose */
	if (to_set == FUSE_SET_ATTR_SIZE && attr->st_size == 0 && tree_openmode(toq(ino), 1) == 0 &&
	    tree_stat(toq(ino), &d) == 0) {
		toattr(&st, &d);
		fuse_reply_attr(req, &st, 0);
		return;
	}
	fuse_reply_err(req, to_set & FUSE_SET_ATTR_SIZE ? EACCES : EPERM);
}

/* access(2): what the modes say, for the owner every file has */
static void
fs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	Dirinfo d;

	trace("access %lu %#o\n", (unsigned long)ino, mask);
	if (tree_stat(toq(ino), &d) < 0) {
		fail(req);
		return;
	}
	unsigned want = (mask & R_OK ? 4 : 0) | (mask & W_OK ? 2 : 0) | (mask & X_OK ? 1 : 0);
	unsigned mode = d.mode >> 6 & 7;
	fuse_reply_err(req, (mode & want) == want || getuid() == 0 ? 0 : EACCES);
}

static void
fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Dirinfo d;

	trace("opendir %lu\n", (unsigned long)ino);
	if (tree_stat(toq(ino), &d) < 0) {
		fail(req);
		return;
	}
	if (!d.isdir) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->cache_readdir = 1;
	fi->keep_cache = 1;
	fuse_reply_open(req, fi);
}

typedef struct Fill Fill;
struct Fill {
	fuse_req_t	req;
	char	*buf;
	size_t	size;
	size_t	used;
	int	plus;
};

static int
fill(void *arg, const Dirinfo *d, uint64_t next)
{
	Fill *f = arg;
	size_t n;

	if (f->plus) {
		struct fuse_entry_param e;
		toentry(&e, d);
		n = fuse_add_direntry_plus(f->req, f->buf + f->used, f->size - f->used, d->name, &e, next);
	} else {
		struct stat st;
		toattr(&st, d);
		n = fuse_add_direntry(f->req, f->buf + f->used, f->size - f->used, d->name, &st, next);
	}
	if (n > f->size - f->used)
		return 1;	/* full: this entry comes in the next call */
	f->used += n;
	return 0;
}

static void
readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	Fill f = { req, xmalloc(size), size, 0, plus };

	trace("readdir%s %lu off %lld\n", plus ? "plus" : "", (unsigned long)ino, (long long)off);
	if (tree_readdir(toq(ino), off, fill, &f) < 0)
		fail(req);
	else
		fuse_reply_buf(req, f.buf, f.used);
	free(f.buf);
}

static void
fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir(req, ino, size, off, 0);
}

static void
fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	readdir(req, ino, size, off, 1);
}

/*
 * Put h's content into the kernel's page cache now, so that the reads
 * of this open (and, with keep_cache, of later ones) need no READ round
 * trip: for the small files most opens are for, that is one of the
 * three requests an open and read costs.  A change the tree made while
 * the content was made may have been invalidated before this store
 * landed, so then it is invalidated once more.
 */
static void
push(fuse_ino_t ino, Handle *h, uint64_t changes)
{
	struct fuse_bufvec bv;
	struct stat st;
	Blob *b;
	int fd;
	size_t n;

	if (ofile_content(h->f, &b, &fd) < 0)
		return;
	if (b)
		n = b->n;
	else if (fstat(fd, &st) == 0)
		n = st.st_size;
	else
		return;
	if (n <= Pushmax) {
		bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT(n);
		if (b)
			bv.buf[0].mem = b->p;
		else {
			bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
			bv.buf[0].fd = fd;
			bv.buf[0].pos = 0;
		}
		/* a failed store may have stored part: drop that too */
		if ((n > 0 && fuse_lowlevel_notify_store(session, ino, 0, &bv, 0) != 0) ||
		    __atomic_load_n(&nchanges, __ATOMIC_SEQ_CST) != changes)
			queue(ino, NULL);
	}
	blobunref(b);
}

/*
 * The opens the kernel has not released.  An unmount does not wait for
 * the RELEASE of a file closed just before it, so the ones still here
 * when the loop ends are closed by us.
 */
static Link opens = LISTINIT(opens);
static pthread_mutex_t openslk = PTHREAD_MUTEX_INITIALIZER;

/* the end of an open: req NULL if it was never answered */
static void
closehandle(fuse_req_t req, Handle *h)
{
	if (h->live.next) {
		pthread_mutex_lock(&openslk);
		linkout(&h->live);
		pthread_mutex_unlock(&openslk);
	}
	if (h->backed)
		backing_release(req, toino(h->q));
	else if (h->counted)
		lastclose(h->q);
	ofile_close(h->f);
	free(h);
}

static int
contentfd(void *arg)
{
	return ofile_fd(arg);
}

/*
 * Hand the content to the kernel: no READ will come for this open.  An
 * open that cannot have it is served by READ with direct I/O: one the
 * kernel refused, and one whose inode still holds a content that has
 * changed since (the kernel wants its id given, not a new one, nor a
 * cached open).  0, or -1 + err.
 */
static int
handdown(fuse_req_t req, fuse_ino_t ino, Handle *h, struct fuse_file_info *fi)
{
	int old, id = backing_open(req, ino, contentfd, h->f, &old);

	fi->noflush = 1;
	if (id) {
#ifdef FUSE_CAP_PASSTHROUGH	/* else backing_open gives none */
		fi->backing_id = id;
#endif
		h->backed = 1;
	}
	if (id == 0 || old) {
		fi->direct_io = 1;
		return ofile_make(h->f);
	}
	ofile_seen(h->f);	/* no READ will say the message was read */
	return 0;
}

/*
 * Content fixed for the open, without passthrough: made now only at
 * the first open of its inode, and pushed to the kernel; later opens
 * find its pages cached, and a READ makes it should they be gone.
 */
static int
cached(fuse_ino_t ino, Handle *h, int write, uint64_t changes, struct fuse_file_info *fi)
{
	int pushit = firstopen(h->q) && !write;

	h->counted = 1;
	fi->keep_cache = 1;
	fi->noflush = 1;
	if (write || pushit) {
		if (ofile_make(h->f) < 0)
			return -1;	/* the caller's closehandle uncounts it */
		if (pushit)
			push(ino, h, changes);
	}
	return 0;
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Qpath q = toq(ino);
	int write = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC);
	uint64_t changes = __atomic_load_n(&nchanges, __ATOMIC_SEQ_CST);
	Ofile *f;
	int r = 0;

	trace("open %lu flags %#x\n", (unsigned long)ino, fi->flags);
	if ((f = ofile_open(q, write, policy)) == NULL) {
		fail(req);
		return;
	}
	Handle *h = xzalloc(sizeof *h);
	h->f = f;
	h->q = q;
	h->changes = changes;
	/*
	 * A file that takes writes (ctl, search, a message's flags) is read
	 * and written by requests: each write(2) arrives as it was made, and
	 * no page cache holds what a write changed.
	 */
	if (!ofile_settled(f)) {
		fi->direct_io = 1;
		fi->nonseekable = ofile_stream(f);
		r = ofile_fixed(f) ? ofile_make(f) : 0;	/* a close waits for what a write invalidated */
	} else if (backing_on())
		r = handdown(req, ino, h, fi);
	else
		r = cached(ino, h, write, changes, fi);
	if (r < 0) {
		fail(req);
		closehandle(NULL, h);
		return;
	}
	fi->fh = (uintptr_t)h;
	pthread_mutex_lock(&openslk);
	linkfront(&opens, &h->live);
	pthread_mutex_unlock(&openslk);
	if (fuse_reply_open(req, fi) != 0)	/* the open was interrupted: no release will come */
		closehandle(NULL, h);
}

/* after the loop: no request is left to release these */
static void
closeall(void)
{
	while (opens.next != &opens)
		closehandle(NULL, (Handle *)opens.next);
}

/*
 * A READ of content fixed for the open.  A small content made before a
 * change the tree reported since is made again, so that no READ puts
 * back in the page cache what an invalidation took out (flags and info
 * change; a content that did not is made again the same).
 */
static void
readfixed(fuse_req_t req, Handle *h, size_t size, off_t off)
{
	struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
	uint64_t now = __atomic_load_n(&nchanges, __ATOMIC_SEQ_CST);
	Blob *b;
	int fd;

	if (__atomic_exchange_n(&h->changes, now, __ATOMIC_SEQ_CST) != now)
		ofile_forget(h->f);
	if (ofile_content(h->f, &b, &fd) < 0) {
		fail(req);
		return;
	}
	if (b) {
		size_t at = (uint64_t)off < b->n ? (size_t)off : b->n, n = b->n - at;
		fuse_reply_buf(req, b->p + at, n < size ? n : size);
		blobunref(b);
		return;
	}
	bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	bv.buf[0].fd = fd;
	bv.buf[0].pos = off;
	fuse_reply_data(req, &bv, FUSE_BUF_SPLICE_MOVE);
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	Handle *h = (Handle *)(uintptr_t)fi->fh;

	trace("read %lu %zu@%lld\n", (unsigned long)ino, size, (long long)off);
	if (ofile_fixed(h->f)) {
		readfixed(req, h, size, off);
		return;
	}
	char *buf = xmalloc(size ? size : 1);	/* a search answer, or a ctl's last error */
	ssize_t n = ofile_read(h->f, buf, size, off);
	if (n < 0)
		fail(req);
	else
		fuse_reply_buf(req, buf, n);
	free(buf);
}

/*
 * Every close(2) of a descriptor sends a flush: the ctl lines written so
 * far are applied together, and their error (or a refused line's) is
 * close's.  The first flush of a shell redirection comes before any
 * write, with nothing to apply.
 */
static void
fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Handle *h = (Handle *)(uintptr_t)fi->fh;

	trace("flush %lu\n", (unsigned long)ino);
	if (ofile_flush(h->f) < 0)
		fail(req);
	else {
		invalidated();
		fuse_reply_err(req, 0);
	}
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Handle *h = (Handle *)(uintptr_t)fi->fh;

	trace("release %lu\n", (unsigned long)ino);
	closehandle(req, h);	/* applies what is left: nothing can report an error any more */
	fuse_reply_err(req, 0);
}

static void
fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	Handle *h = (Handle *)(uintptr_t)fi->fh;

	(void)off;
	trace("write %lu %zu bytes\n", (unsigned long)ino, size);
	if (ofile_write(h->f, buf, size) < 0)
		fail(req);
	else
		fuse_reply_write(req, size);
}

/* the tree has no files to create, link or rename */
static void
fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent; (void)name; (void)mode; (void)rdev;
	fuse_reply_err(req, EACCES);
}

static void
fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent; (void)name; (void)mode;
	fuse_reply_err(req, EACCES);
}

static void
fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent; (void)name;
	fuse_reply_err(req, EACCES);
}

/* rmdir of a message directory deletes the message, at once */
static void
fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	Qpath q;

	trace("rmdir %lu %s\n", (unsigned long)parent, name);
	/* no waiting for invalidations here: the kernel holds the directory */
	if (tree_walk(toq(parent), name, &q) < 0 || ctl_removemsg(q) < 0)
		fail(req);
	else
		fuse_reply_err(req, 0);
}

static void
fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
	const char *newname, unsigned int flags)
{
	(void)parent; (void)name; (void)newparent; (void)newname; (void)flags;
	fuse_reply_err(req, EACCES);
}

static void
fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi)
{
	(void)parent; (void)name; (void)mode; (void)fi;
	fuse_reply_err(req, EACCES);
}

static const struct fuse_lowlevel_ops ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.setattr = fs_setattr,
	.access = fs_access,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.readdirplus = fs_readdirplus,
	.open = fs_open,
	.read = fs_read,
	.flush = fs_flush,
	.release = fs_release,
	.write = fs_write,
	.mknod = fs_mknod,
	.mkdir = fs_mkdir,
	.unlink = fs_unlink,
	.rmdir = fs_rmdir,
	.rename = fs_rename,
	.create = fs_create,
};

/* -o options: what each sets in a Fuseconf */
static const struct {
	const char	*name;
	size_t	off;
	int	val;	/* -1: takes =N, from min to max */
	int	min, max;
} fuseopts[] = {
	{ "passthrough", offsetof(Fuseconf, passthrough), 1, 0, 0 },
	{ "nopassthrough", offsetof(Fuseconf, passthrough), 0, 0, 0 },
	{ "uring", offsetof(Fuseconf, uring), 1, 0, 0 },
	{ "nouring", offsetof(Fuseconf, uring), 0, 0, 0 },
	{ "threads", offsetof(Fuseconf, threads), -1, 1, 64 },
	{ "timeout", offsetof(Fuseconf, timeout), -1, 0, 65535 },	/* the kernel's field is 16 bits */
};

void
srv_fuseconf(Fuseconf *c)
{
	memset(c, 0, sizeof *c);
	c->passthrough = 1;
	/*
	 * Measured on the 2-core test machine, one reader opening and
	 * reading a cached info: 28-34 us a round on /dev/fuse with the
	 * multithreaded loop (which answers a RELEASE while the next OPEN
	 * comes), 43 us over io_uring, 63-69 us single-threaded.  And
	 * over io_uring the kernel's request timeout did not fire (a stopped
	 * mailfs hung its reader past 150 s), so it is asked for only.
	 */
	c->uring = 0;
	c->threads = 8;
	c->timeout = 30;
}

static int
fuseopt(Fuseconf *c, const char *o, size_t n)
{
	for (size_t i = 0; i < nelem(fuseopts); i++) {
		size_t k = strlen(fuseopts[i].name);
		if (n < k || memcmp(o, fuseopts[i].name, k) != 0)
			continue;
		int *field = (int *)((char *)c + fuseopts[i].off);
		if (fuseopts[i].val >= 0 && n == k) {
			*field = fuseopts[i].val;
			return 0;
		}
		if (fuseopts[i].val >= 0 || n == k || o[k] != '=')
			continue;
		char num[16], *end;
		if (n - k - 1 == 0 || n - k - 1 >= sizeof num)
			break;
		memcpy(num, o + k + 1, n - k - 1);
		num[n - k - 1] = 0;
		long v = strtol(num, &end, 10);
		if (*end || v < fuseopts[i].min || v > fuseopts[i].max)
			return seterr(EINVAL, "%.*s: not a number from %d to %d", (int)n, o,
				fuseopts[i].min, fuseopts[i].max);
		*field = (int)v;
		return 0;
	}
	return seterr(EINVAL, "unknown option %.*s (passthrough, nopassthrough, uring, nouring, threads=N, timeout=SECS)",
		(int)n, o);
}

int
srv_fuseopt(Fuseconf *c, const char *opts)
{
	for (const char *p = opts; *p;) {
		size_t n = strcspn(p, ",");
		if (n && fuseopt(c, p, n) < 0)
			return -1;
		p += n + (p[n] == ',');
	}
	return 0;
}

static int
loop(struct fuse_session *se)
{
	if (conf.threads == 1)
		return fuse_session_loop(se);
	/* several workers, so a flush waiting for its invalidations blocks nobody */
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, conf.threads);
	int r = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return r;
}

int
srv_fuse(const char *mnt, const Fuseconf *c, void (*serving)(void))
{
	/*
	 * No default_permissions: the tree decides at open what an open may
	 * do (a ctl, mode 0222, is opened read-write to read its last error
	 * back), and access(2) is answered from the modes below.  Only the
	 * mounting user reaches the mount (no allow_other).
	 */
	char opts[] = "fsname=mailfs,subtype=mailfs,auto_unmount,noatime";
	char *argv[8] = { "mailfs", "-o", opts };
	int argc = 3;
	struct fuse_session *se;
	int ret = 1;

	conf = *c;
	if (conf.readonly)
		argv[argc++] = "-oro";
#if FUSE_MINOR_VERSION >= 18
	if (conf.uring)
		argv[argc++] = "-oio_uring";
#endif
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	tracing = conf.trace;
	policy = Obatch | (conf.seen ? Oseen : 0);
	uid = getuid();
	gid = getgid();
	se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	if (se == NULL) {
		fprintf(stderr, "mailfs: cannot start FUSE session\n");
		goto out;
	}
	if (fuse_set_signal_handlers(se) != 0) {
		fprintf(stderr, "mailfs: cannot set signal handlers\n");
		goto destroy;
	}
	if (fuse_session_mount(se, mnt) != 0) {
		fprintf(stderr, "mailfs: cannot mount on %s\n", mnt);
		goto signals;
	}
	/*
	 * If we are killed, the auto_unmount helper (fusermount3) unmounts
	 * only when it sees ENOTCONN; when the kernel closes the FUSE fd
	 * before the helper's socket it can see ECONNABORTED instead and
	 * leave the mount behind.  A copy of the FUSE fd above the socket
	 * makes the device the last thing released.
	 */
	fcntl(fuse_session_fd(se), F_DUPFD_CLOEXEC, 200);
	/* the parent returns once the mount exists, so "mailfs -m d && ls d" cannot race */
	if (fuse_daemonize(conf.foreground) != 0)
		goto unmount;
	if (serving)
		serving();
	session = se;
	pthread_t inv;
	if (pthread_create(&inv, NULL, invalidator, NULL) == 0)
		pthread_detach(inv);
	tree_watch(changed);
	ret = loop(se) < 0 ? 1 : 0;
	closeall();
unmount:
	fuse_session_unmount(se);
signals:
	fuse_remove_signal_handlers(se);
destroy:
	fuse_session_destroy(se);
out:
	fuse_opt_free_args(&args);
	return ret;
}
