/*
 * Containers: the materialised content of a file, as a descriptor whose
 * content is fixed for one open.  Message files never change, so the
 * tree puts a content that was costly to make into a cache directory
 * once, and later opens just reopen it: a second read of a body costs an
 * open(2), not a parse.  Other contents go into a memfd at each open.
 * The cache is bounded in bytes; a file evicted while open stays
 * readable through its descriptor.  It has two stores: one on a memory
 * file system, where creating a file is cheap, and, for contents of a
 * megabyte or more, one on a disk file system, whose page cache holds
 * a file in large folios: reading 50 MB from it took a third of the
 * time tmpfs's 4 KB pages took on the test machine.  Both transports
 * use containers (FUSE hands them to the kernel or reads them with
 * splice; 9P can hand the descriptor to a client).
 *
 * Concurrency: its own lock, taken last; this file calls no other.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "tree/tree.h"

typedef struct Store Store;
struct Store {
	char	*dir;	/* NULL: none */
	uint64_t	budget, used;
	Link	recent;	/* its entries, most recent first */
};

typedef struct Ent Ent;
struct Ent {
	Qpath	q;
	uint64_t	size;
	Store	*st;
	Ent	*hnext;
	Link	lru;	/* in st->recent */
};

enum {
	Nhash = 1 << 16,
	Largefile = 1 << 20,	/* to the large store from this size, if there is one */
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
/* small: the cache, NULL dir if none (every open a fresh memfd); large: for Largefile and up */
static Store small = { .recent = LISTINIT(small.recent) }, large = { .recent = LISTINIT(large.recent) };
static Ent *hash[Nhash];

static unsigned
hashq(Qpath q)
{
	return (unsigned)((q * 0x9E3779B97F4A7C15ull) >> 48) & (Nhash - 1);
}

static void
path(char *buf, size_t n, const Store *st, Qpath q)
{
	snprintf(buf, n, "%s/%016llx", st->dir, (unsigned long long)q);
}

static Ent *
lookup(Qpath q)
{
	for (Ent *e = hash[hashq(q)]; e; e = e->hnext)
		if (e->q == q)
			return e;
	return NULL;
}

static void
drop(Ent *e)
{
	char p[4096];
	Ent **l = &hash[hashq(e->q)];

	while (*l != e)
		l = &(*l)->hnext;
	*l = e->hnext;
	linkout(&e->lru);
	e->st->used -= e->size;
	path(p, sizeof p, e->st, e->q);
	unlink(p);
	free(e);
}

/* remove the cache directories of mailfs processes that are gone */
static void
sweep(const char *top)
{
	DIR *d = opendir(top);
	struct dirent *de;
	char p[2048 + 256 + 2];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		pid_t pid = atoi(de->d_name);
		if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(p, sizeof p, "%s/%s", top, de->d_name);
		DIR *sub = opendir(p);
		struct dirent *f;
		while (sub && (f = readdir(sub)) != NULL) {
			char fp[sizeof p + 256 + 2];
			if (f->d_name[0] == '.')
				continue;
			snprintf(fp, sizeof fp, "%s/%s", p, f->d_name);
			unlink(fp);
		}
		if (sub)
			closedir(sub);
		rmdir(p);
	}
	closedir(d);
}

/*
 * A store in <base>/mailfs-<uid>/<pid>; with a zero budget, a quarter of
 * the free space there, at most 2 GB.
 */
static int
storeinit(Store *st, const char *base, uint64_t bytes)
{
	char top[2048], p[2048 + 32];
	struct statvfs vfs;

	snprintf(top, sizeof top, "%s/mailfs-%u", base, (unsigned)getuid());
	if (mkdir(top, 0700) < 0 && errno != EEXIST)
		return seterr(errno, "%s: %s", top, strerror(errno));
	sweep(top);
	snprintf(p, sizeof p, "%s/%d", top, (int)getpid());
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return seterr(errno, "%s: %s", p, strerror(errno));
	if (bytes == 0 && statvfs(p, &vfs) == 0) {
		bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize / 4;
		if (bytes > (2ull << 30))
			bytes = 2ull << 30;
	}
	st->dir = xstrdup(p);
	st->budget = bytes;
	return 0;
}

/* Without a usable directory, containers are memfds made at each open. */
int
container_init(const char *base, uint64_t bytes)
{
	return storeinit(&small, base, bytes);
}

int
container_large(const char *base, uint64_t bytes)
{
	return storeinit(&large, base, bytes);
}

/*
 * Removing a large cache takes seconds, so a child does it and the
 * server exits at once; the next start sweeps up what a crash left.
 */
static void
storeclean(Store *st)
{
	if (st->dir && st->recent.next != &st->recent && fork() == 0) {
		while (st->recent.next != &st->recent)
			drop(OUTER(st->recent.next, Ent, lru));
		rmdir(st->dir);
		_exit(0);
	}
	if (st->dir && st->recent.next == &st->recent)
		rmdir(st->dir);
	free(st->dir);
	st->dir = NULL;
}

void
container_cleanup(void)
{
	pthread_mutex_lock(&lk);
	storeclean(&small);
	storeclean(&large);
	pthread_mutex_unlock(&lk);
}

static int
writeall(int fd, const Blob *b)
{
	for (size_t done = 0; done < b->n;) {
		ssize_t r = write(fd, b->p + done, b->n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return seterr(errno, "container write: %s", strerror(errno));
		done += r;
	}
	return 0;
}

int
container_mem(const Blob *b)
{
	int fd = memfd_create("mailfs", MFD_CLOEXEC);

	if (fd < 0)
		return seterr(errno, "memfd: %s", strerror(errno));
	if (writeall(fd, b) < 0) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);	/* a client handed it (Topenfd) reads from the start */
	return fd;
}

int
container_get(Qpath q)
{
	char p[4096];
	int fd = -1;

	pthread_mutex_lock(&lk);
	Ent *e = lookup(q);
	if (e) {
		path(p, sizeof p, e->st, q);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			linkout(&e->lru);
			linkfront(&e->st->recent, &e->lru);
		} else
			drop(e);
	}
	pthread_mutex_unlock(&lk);
	return fd;
}

/*
 * Keep b as q's content.  With wantfd, return a descriptor on it: the
 * cache file, or a memfd when it could not be cached (no cache, too big,
 * disk full); otherwise 0.
 */
int
container_put(Qpath q, const Blob *b, int wantfd)
{
	char p[4096];
	int fd = -1;

	pthread_mutex_lock(&lk);
	Store *st = b->n >= Largefile && large.dir ? &large : &small;
	Ent *e = st->dir && b->n <= st->budget ? lookup(q) : NULL;
	if (st->dir && b->n <= st->budget && e == NULL) {
		path(p, sizeof p, st, q);
		fd = open(p, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
		if (fd >= 0 && writeall(fd, b) < 0) {
			close(fd);
			unlink(p);
			fd = -1;
		}
		if (fd >= 0) {
			e = xzalloc(sizeof *e);
			e->q = q;
			e->size = b->n;
			e->st = st;
			e->hnext = hash[hashq(q)];
			hash[hashq(q)] = e;
			linkfront(&st->recent, &e->lru);
			st->used += b->n;
			while (st->used > st->budget && st->recent.prev != &e->lru)
				drop(OUTER(st->recent.prev, Ent, lru));
		}
	}
	pthread_mutex_unlock(&lk);
	if (!wantfd) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (fd >= 0)
		lseek(fd, 0, SEEK_SET);
	if (fd < 0 && e)
		fd = container_get(q);
	return fd >= 0 ? fd : container_mem(b);
}
