/*
 * The IMAP backend's on-disk cache: what was fetched, kept per folder
 * by UIDVALIDITY and UID, files 0600 in 0700 directories, bounded in bytes.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <libetpan/libetpan.h>
#include "box/box.h"
#include "box_imap.h"

static uint64_t cachebudget = 2ull << 30;	/* bytes of messages kept on disk per folder */

/* ---- the on-disk cache ---- */

/* a message's file is named by its UID; a section's or skeleton's, "UID-what" */
static void
cachepath(Imap *im, uint32_t uid, const char *what, char *buf, size_t n)
{
	if (what)
		snprintf(buf, n, "%s/%u-%s", im->cache, uid, what);
	else
		snprintf(buf, n, "%s/%u", im->cache, uid);
}

static int
mkdirs(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = 0;
		int r = mkdir(path, 0700);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	return mkdir(path, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

/* $XDG_CACHE_HOME/mailfs/imap/user@host:port/folder/uidvalidity: ours alone */
void
imap_cacheopen(Imap *im)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	Buf p = { 0 }, folder = { 0 };

	for (const char *s = im->u.folder; *s; s++)	/* a flat name: '/' and '%' escaped */
		if (*s == '/' || *s == '%')
			bufprint(&folder, "%%%02X", (unsigned char)*s);
		else
			bufputc(&folder, *s);
	if (xdg && *xdg)
		bufprint(&p, "%s/mailfs/imap", xdg);
	else if (home && *home)
		bufprint(&p, "%s/.cache/mailfs/imap", home);
	else {
		buffree(&folder);
		return;
	}
	bufprint(&p, "/%s@%s:%d/%s/%u", im->u.user, im->u.host, im->u.port, folder.p, im->uidvalidity);
	buffree(&folder);
	if (mkdirs(p.p) < 0) {
		fprintf(stderr, "mailfs: %s: %s; messages are not cached\n", p.p, strerror(errno));
		buffree(&p);
		return;
	}
	im->cache = p.p;
	DIR *d = opendir(im->cache);
	struct dirent *e;
	struct stat st;
	while (d && (e = readdir(d)) != NULL)
		if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode))
			im->cached += st.st_size;
	if (d)
		closedir(d);
}

typedef struct Old Old;
struct Old {
	time_t	t;
	char	name[64];
	off_t	size;
};

static int
cmpold(const void *a, const void *b)
{
	time_t x = ((const Old *)a)->t, y = ((const Old *)b)->t;

	return x < y ? -1 : x > y;
}

/* over budget: drop the least recently fetched until a quarter is free */
static void
cachetrim(Imap *im)
{
	if (im->cached <= cachebudget)
		return;
	DIR *d = opendir(im->cache);
	Old *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;
	while (d && (e = readdir(d)) != NULL)
		if (fstatat(dirfd(d), e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode) && strlen(e->d_name) < sizeof v->name) {
			if (n == cap)
				v = xrealloc(v, (cap = cap ? 2 * cap : 256) * sizeof *v);
			v[n].t = st.st_mtime;
			v[n].size = st.st_size;
			strcpy(v[n++].name, e->d_name);
		}
	qsort(v, n, sizeof *v, cmpold);
	for (size_t i = 0; i < n && im->cached > cachebudget / 4 * 3; i++)
		if (unlinkat(dirfd(d), v[i].name, 0) == 0)
			im->cached -= v[i].size < (off_t)im->cached ? (uint64_t)v[i].size : im->cached;
	if (d)
		closedir(d);
	free(v);
}

/*
 * Keep a fetched message: written whole into a file with no name, which
 * is then linked in under its UID, so a reader never sees half of one
 * and a crash leaves nothing behind.  One directory entry made per
 * message: creating files is most of what filling the cache costs.
 */
void
imap_cacheput(Imap *im, uint32_t uid, const char *what, const char *p, size_t n)
{
	char path[4096], fdpath[64];

	if (im->cache == NULL)
		return;
	cachepath(im, uid, what, path, sizeof path);
	int fd = open(im->cache, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	ssize_t w = write(fd, p, n);
	snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
	if (w == (ssize_t)n && linkat(AT_FDCWD, fdpath, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) {
		im->cached += n;
		cachetrim(im);
	}
	close(fd);
}

/* a deleted message's files: the whole, the skeleton, the sections */
void
imap_cachedrop(Imap *im, uint32_t uid)
{
	char path[4096], prefix[16];
	DIR *d;
	struct dirent *e;

	if (im->cache == NULL)
		return;
	cachepath(im, uid, NULL, path, sizeof path);
	unlink(path);
	snprintf(prefix, sizeof prefix, "%u-", uid);
	if ((d = opendir(im->cache)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* a cached message (what NULL), section or skeleton; -1 if not there */
int
imap_cacheget(Imap *im, uint32_t uid, const char *what, Buf *out)
{
	char path[4096], buf[65536];
	ssize_t k;

	if (im->cache == NULL)
		return -1;
	cachepath(im, uid, what, path, sizeof path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	bufreset(out);
	bufadd(out, "", 0);
	while ((k = read(fd, buf, sizeof buf)) > 0)
		bufadd(out, buf, k);
	close(fd);
	return k < 0 ? -1 : 0;
}

int
imap_cached(Imap *im, uint32_t uid)
{
	char path[4096];

	if (im->cache == NULL)
		return 0;
	cachepath(im, uid, NULL, path, sizeof path);
	return access(path, F_OK) == 0;
}

