/*
 * FUSE passthrough: an open of a file whose content is fixed for the
 * open is answered with a backing file (the content's memfd or cache
 * file), and the kernel reads, splices and maps it with no request to
 * us.  The kernel allows one backing file per inode among its open
 * files, so an inode's id is shared by its opens.  An id is kept after
 * the last close: reopening an unchanged file (a listing read twice,
 * grep after ls) then costs one OPEN answered from this table, nothing
 * made.  Kept ids whose inode has no open are bounded in number, and
 * those on a memfd in bytes too, oldest closed first: a memfd holds
 * memory the kernel cannot reclaim, while a cache file is the container
 * cache's, which bounds it (an id kept on a cache file evicted since
 * holds it until the id goes).  The number is set above the bodies of
 * a 100,000-message mailbox, so a second grep over them reopens each
 * from this table.
 *
 * A change of a content (a message's flags, hence its info) marks its
 * record stale.  While an older open still holds the old backing file,
 * the kernel accepts no other for the inode and no open without one, so
 * opens after the change get the old id with direct I/O: their reads
 * come as READ requests, answered with the new content.  The record goes
 * at the last close.  Ids are closed only with a request at
 * hand (libfuse's call takes one), so those to close wait in a list
 * until the next open, release or forget.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <unistd.h>
#include "lib/lib.h"
#include "fuse_backing.h"

enum {
	Nhash = 1 << 12,
	Idlemax = 1 << 17,	/* kept ids of files open nowhere */
	Idlebytes = 128 << 20,	/* and of those, the bytes of memfds */
};

typedef struct Rec Rec;
struct Rec {
	fuse_ino_t	ino;
	int	id;
	int	nopen;
	int	stale;		/* content changed: no new opens; closed at the last close */
	long	bytes;	/* a memfd's size; 0 for a cache file */
	Rec	*next;		/* hash chain */
	Link	lru;		/* in idle when nopen == 0, newest first; else linked to itself */
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static Rec *hash[Nhash];
static Link idle = LISTINIT(idle);
static long nidle, idlebytes, held;
static int *doomed;	/* ids to close at the next request */
static size_t ndoomed, adoomed;
static uint64_t nchanged;	/* backing_changed calls, ever */
static int on, tracing;

#ifdef FUSE_CAP_PASSTHROUGH
static int
cansysadmin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	return (d[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
}
#endif

int
backing_usable(struct fuse_conn_info *conn, const char **why)
{
#ifdef FUSE_CAP_PASSTHROUGH
	if (!(conn->capable & FUSE_CAP_PASSTHROUGH))
		return *why = "the kernel does not offer it", 0;
	/* the kernel lets only CAP_SYS_ADMIN register backing files */
	if (!cansysadmin())
		return *why = "it needs CAP_SYS_ADMIN (root)", 0;
	return 1;
#else
	(void)conn;
	return *why = "libfuse older than 3.17 (make deps builds a newer one)", 0;
#endif
}

void
backing_start(int trace)
{
	on = 1;
	tracing = trace;
}

int
backing_on(void)
{
	return on;
}

static Rec **
slot(fuse_ino_t ino)
{
	Rec **l = &hash[(ino * 0x9E3779B97F4A7C15ull) >> 52];

	while (*l && (*l)->ino != ino)
		l = &(*l)->next;
	return l;
}

static void
unidle(Rec *r)
{
	linkout(&r->lru);
	r->lru = (Link)LISTINIT(r->lru);
	nidle--;
	idlebytes -= r->bytes;
}

/* id is closed at the next request. lk held */
static void
doomid(int id)
{
	if (ndoomed == adoomed) {
		adoomed = adoomed ? 2 * adoomed : 64;
		doomed = xrealloc(doomed, adoomed * sizeof *doomed);
	}
	doomed[ndoomed++] = id;
}

/* r leaves the table. lk held */
static void
doom(Rec *r)
{
	Rec **l = slot(r->ino);

	*l = r->next;
	if (r->lru.next != &r->lru)
		unidle(r);
	doomid(r->id);
	free(r);
}

static void
trim(void)
{
	while (nidle > Idlemax || (nidle > 0 && idlebytes > Idlebytes))
		doom(OUTER(idle.prev, Rec, lru));	/* the oldest */
}

/* close the doomed ids, if there is a request to do it with; called without lk */
static void
reap(fuse_req_t req)
{
	int *ids;
	size_t n;

	if (req == NULL)
		return;
	pthread_mutex_lock(&lk);
	ids = doomed, n = ndoomed;
	doomed = NULL, ndoomed = adoomed = 0;
	held -= n;
	pthread_mutex_unlock(&lk);
#ifdef FUSE_CAP_PASSTHROUGH
	for (size_t i = 0; i < n; i++)
		fuse_passthrough_close(req, ids[i]);
#endif
	if (tracing && n) {
		pthread_mutex_lock(&lk);
		long nheld = held;
		pthread_mutex_unlock(&lk);
		fprintf(stderr, "fuse: passthrough: %zu backing ids closed, %ld held\n", n, nheld);
	}
	free(ids);
}

/*
 * A kept id for ino, counted as one more open, or 0; *old says its
 * content changed since it was made. lk held
 */
static int
reuse(fuse_ino_t ino, int *old)
{
	Rec *r = *slot(ino);

	if (r == NULL || (r->stale && r->nopen == 0))
		return 0;
	if (r->nopen++ == 0)
		unidle(r);
	*old = r->stale;
	return r->id;
}

int
backing_open(fuse_req_t req, fuse_ino_t ino, int (*mkfd)(void *), void *arg, int *old)
{
	struct stat st;
	int id, other, fd;

	*old = 0;
	if (!on)
		return 0;
	reap(req);
	pthread_mutex_lock(&lk);
	id = reuse(ino, old);
	uint64_t before = nchanged;
	pthread_mutex_unlock(&lk);
	if (id)
		return id;
	if ((fd = mkfd(arg)) < 0)
		return 0;
#ifdef FUSE_CAP_PASSTHROUGH
	id = fuse_passthrough_open(req, fd);
#endif
	/* a memfd has no name (no link); a cache file has one */
	long bytes = fstat(fd, &st) == 0 && st.st_nlink == 0 ? (long)st.st_size : 0;
	close(fd);	/* the kernel holds the file by the id */
	if (id <= 0)
		return 0;
	pthread_mutex_lock(&lk);
	held++;
	if ((other = reuse(ino, old)) != 0) {	/* an open of the same inode came first */
		doomid(id);
		id = other;
	} else {
		Rec *r = xzalloc(sizeof *r);
		r->ino = ino;
		r->id = id;
		r->nopen = 1;
		r->bytes = bytes;
		r->stale = nchanged != before;	/* made before a change it may have missed */
		r->lru = (Link)LISTINIT(r->lru);
		*slot(ino) = r;
	}
	long nheld = held;
	pthread_mutex_unlock(&lk);
	if (tracing)
		fprintf(stderr, "fuse: passthrough: backing id %d for %lu, %ld held\n", id, (unsigned long)ino, nheld);
	return id;
}

void
backing_release(fuse_req_t req, fuse_ino_t ino)
{
	pthread_mutex_lock(&lk);
	Rec *r = *slot(ino);
	if (r && --r->nopen == 0) {
		if (r->stale)
			doom(r);
		else {	/* kept, newest idle */
			linkfront(&idle, &r->lru);
			nidle++;
			idlebytes += r->bytes;
			trim();
		}
	}
	pthread_mutex_unlock(&lk);
	reap(req);
}

void
backing_changed(fuse_ino_t ino)
{
	pthread_mutex_lock(&lk);
	nchanged++;
	Rec *r = *slot(ino);
	if (r) {
		r->stale = 1;
		if (r->nopen == 0)
			doom(r);
	}
	pthread_mutex_unlock(&lk);
}

void
backing_forget(fuse_req_t req, fuse_ino_t ino)
{
	pthread_mutex_lock(&lk);
	Rec *r = *slot(ino);
	if (r && r->nopen == 0)
		doom(r);
	pthread_mutex_unlock(&lk);
	reap(req);
}
