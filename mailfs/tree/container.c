/*
 * Containers: the materialised content of a file, as a descriptor whose
 * content is fixed for one open.  Message files never change, so the
 * tree puts a content that was costly to make into a cache directory
 * once, and later opens just reopen it: a second read of a body costs an
 * open(2), not a parse.  Other contents go into a memfd at each open.
 * The cache is bounded in bytes; a file evicted while open stays
 * readable through its descriptor.  Both transports use containers
 * (FUSE reads them with splice; 9P can hand the descriptor to a client).
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

typedef struct Ent Ent;
struct Ent {
	Qpath	q;
	uint64_t	size;
	Ent	*hnext;
	Link	lru;	/* in recent, most recent first */
};

enum { Nhash = 1 << 16 };

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static char *dir;	/* NULL: no cache, every open is a fresh memfd */
static uint64_t budget, used;
static Ent *hash[Nhash];
static Link recent = LISTINIT(recent);

static unsigned
hashq(Qpath q)
{
	return (unsigned)((q * 0x9E3779B97F4A7C15ull) >> 48) & (Nhash - 1);
}

static void
path(char *buf, size_t n, Qpath q)
{
	snprintf(buf, n, "%s/%016llx", dir, (unsigned long long)q);
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
	used -= e->size;
	path(p, sizeof p, e->q);
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
 * Cache in <base>/mailfs-<uid>/<pid>; with a zero budget, a quarter of
 * the free space there, at most 2 GB.  Without a usable directory,
 * containers are memfds made at each open.
 */
int
container_init(const char *base, uint64_t bytes)
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
	dir = xstrdup(p);
	budget = bytes;
	return 0;
}

/*
 * Removing a large cache takes seconds, so a child does it and the
 * server exits at once; the next start sweeps up what a crash left.
 */
void
container_cleanup(void)
{
	pthread_mutex_lock(&lk);
	if (dir && recent.next != &recent && fork() == 0) {
		while (recent.next != &recent)
			drop(OUTER(recent.next, Ent, lru));
		rmdir(dir);
		_exit(0);
	}
	if (dir && recent.next == &recent)
		rmdir(dir);
	free(dir);
	dir = NULL;
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
	Ent *e = dir ? lookup(q) : NULL;
	if (e) {
		path(p, sizeof p, q);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			linkout(&e->lru);
			linkfront(&recent, &e->lru);
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
	Ent *e = dir && b->n <= budget ? lookup(q) : NULL;
	if (dir && b->n <= budget && e == NULL) {
		path(p, sizeof p, q);
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
			e->hnext = hash[hashq(q)];
			hash[hashq(q)] = e;
			linkfront(&recent, &e->lru);
			used += b->n;
			while (used > budget && recent.prev != &e->lru)
				drop(OUTER(recent.prev, Ent, lru));
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
