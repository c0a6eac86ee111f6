/*
 * Changing an mbox without losing mail.  Deleting rewrites the file:
 * under the delivery agents' locks (dotlock, then fcntl), mail delivered since our last look is taken into the index
 * first; the surviving messages are copied byte for byte into a new
 * file in the same directory, which is synced and renamed over the old
 * one, and the directory is synced.  Until the rename the old file is
 * untouched, so a crash, a kill or a full disk at any point leaves
 * either the old mailbox or the new one, whole.  If the file is not the
 * one we indexed, or was cut, nothing is written: we never guess.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "box/box.h"
#include "box_mbox.h"

/*
 * The dotlock <path>.lock, made with O_EXCL and holding our pid, so
 * that a lock a killed mailfs leaves behind is known to be stale at
 * once (libetpan's maillock writes no pid on Debian).  A stale lock is
 * taken over.  30 s of waiting, then an error.
 */
static int
dotlock(const char *path)
{
	char lock[4096], pid[32];

	snprintf(lock, sizeof lock, "%s.lock", path);
	for (int i = 0; i < 300; i++) {
		int fd = open(lock, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (fd >= 0) {
			int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
			int ok = write(fd, pid, n) == n, e = ok ? 0 : errno ? errno : EIO;
			close(fd);
			if (ok)
				return 0;
			unlink(lock);
			return seterr(e, "%s: cannot write the dotlock: %s", lock, strerror(e));	/* ENOSPC: a full disk */
		}
		if (errno != EEXIST)
			return seterr(errno, "%s: cannot make the dotlock: %s", lock, strerror(errno));
		if (!mbox_dotlocked(lock))
			unlink(lock);	/* stale: its owner is gone */
		else
			usleep(100 * 1000);
	}
	return seterr(EAGAIN, "%s: mailbox stays dotlocked by another program", path);
}

static void
dotunlock(const char *path)
{
	char lock[4096];

	snprintf(lock, sizeof lock, "%s.lock", path);
	unlink(lock);
}

/*
 * The locks a delivery agent takes to append: the dotlock, then an
 * exclusive fcntl lock, which procmail, postfix and dovecot honour.
 */
static int
writelock(const char *path, int fd)
{
	if (dotlock(path) < 0)
		return -1;
	if (mbox_lock(fd, path, F_WRLCK) < 0) {
		dotunlock(path);
		return -1;
	}
	return 0;
}

/* is the file at b->path still the one we indexed, whole? */
static int
unchanged(Box *b, int fd, struct stat *st)
{
	Mbox *mb = b->aux;
	struct stat pst;

	if (fstat(fd, st) < 0 || stat(b->path, &pst) < 0)
		return seterr(errno, "%s: %s", b->path, strerror(errno));
	if (st->st_dev != mb->dev || st->st_ino != mb->ino || pst.st_ino != st->st_ino)
		return seterr(EBUSY, "%s was replaced by another program; not changed", b->path);
	if ((uint64_t)st->st_size < mb->scanned)
		return seterr(EBUSY, "%s was truncated by another program; not changed", b->path);
	return 0;
}

/* take in what was appended since the index was made; the caller holds a lock */
static int
appended(Box *b, int fd, const struct stat *st)
{
	Mbox *mb = b->aux;
	size_t before = b->nmsgs;

	if ((uint64_t)st->st_size == mb->scanned)
		return 0;
	if (mbox_scanpart(b, fd, mb->scanned, st->st_size) < 0)
		return seterr(errcode(), "%s: the mail added at its end does not start a message (%s); not changed",
			b->path, errmsg());
	mb->scanned = st->st_size;
	if (b->nmsgs != before) {
		b->vers++;
		b->mtime = st->st_mtime;
	}
	return 0;
}

typedef struct Reread Reread;
struct Reread {
	Msgent	*v;
	size_t	n, cap;
};

static void
collect(void *arg, const Msgent *m)
{
	Reread *r = arg;

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 1024;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n++] = *m;
}

/*
 * Another program replaced or cut the mailbox: read it whole again.  A
 * message found again, by its envelope line and its length, keeps its
 * number, as long as numbers stay ascending in the file; any other is
 * new and gets a new number.  The rest are gone.
 */
static int
reread(Box *b)
{
	Mbox *mb = b->aux;
	Reread r = { 0 };
	struct stat st;
	int fd = open(b->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return seterr(errno, "%s: %s", b->path, strerror(errno));
	if (mbox_lock(fd, b->path, F_RDLCK) < 0 || fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	if (st.st_size > 0) {
		void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		int bad = p == MAP_FAILED || mbox_scan(p, st.st_size, 2, collect, &r) < 0;
		if (p != MAP_FAILED)
			munmap(p, st.st_size);
		if (bad) {
			mbox_unlock(fd);
			close(fd);
			free(r.v);
			return seterr(EINVAL, "%s was rewritten by another program and is no mbox now", b->path);
		}
	}
	mbox_unlock(fd);
	uint32_t last = 0;
	size_t from = 0;
	for (size_t i = 0; i < r.n; i++) {
		Msgent *m = &r.v[i];
		m->id = 0;
		for (size_t k = from; k < b->nmsgs; k++)
			if (b->msgs[k].key == m->key && b->msgs[k].len == m->len && b->msgs[k].id > last) {
				m->id = b->msgs[k].id;
				from = k + 1;
				break;
			}
		if (m->id == 0)
			m->id = b->nextid++;
		last = m->id;
	}
	free(b->msgs);
	b->msgs = r.v;
	b->nmsgs = b->capmsgs = r.n;
	if (b->msgs == NULL)
		b->msgs = xmalloc(sizeof *b->msgs);	/* box_add may grow it */
	close(mb->fd);
	mb->fd = fd;
	mb->dev = st.st_dev;
	mb->ino = st.st_ino;
	mb->scanned = st.st_size;
	b->vers++;
	b->mtime = st.st_mtime;
	return 0;
}

int
mbox_sync(Box *b)
{
	Mbox *mb = b->aux;
	struct stat st;

	if (mbox_lock(mb->fd, b->path, F_RDLCK) < 0)
		return -1;
	int r = unchanged(b, mb->fd, &st);
	if (r == 0)
		r = appended(b, mb->fd, &st);
	mbox_unlock(mb->fd);
	if (r < 0 && errcode() == EBUSY)	/* replaced or cut: read it again */
		r = reread(b);
	return r;
}

static int
contains(const uint32_t *ids, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* does a message start at off of in, as the index says? */
static int
startsmessage(int in, uint64_t off, const char *path)
{
	char head[5];

	if (pread(in, head, 5, off) != 5 || memcmp(head, "From ", 5) != 0)
		return seterr(EBUSY, "%s: a message is not where the index says; not changed", path);
	return 0;
}

/* copy len bytes at off of in to the end of out */
static int
copyspan(int in, int out, uint64_t off, uint64_t len, const char *path)
{
	loff_t o = off;

	while (len > 0) {
		ssize_t r = copy_file_range(in, &o, out, NULL, len, 0);
		if (r < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
			char buf[1 << 16];
			r = pread(in, buf, len < sizeof buf ? len : sizeof buf, o);
			if (r > 0 && write(out, buf, r) != r)
				r = -1;
			if (r > 0)
				o += r;
		}
		if (r < 0)
			return seterr(errno, "%s: %s", path, strerror(errno));
		if (r == 0)
			return seterr(EIO, "%s: ended early; not changed", path);
		len -= r;
	}
	return 0;
}

static int
isfield(const char *line, size_t n, const char *name)
{
	size_t l = strlen(name);

	return n > l && strncasecmp(line, name, l) == 0 && line[l] == ':';
}

/*
 * Copy a message whose flags changed: its Status and X-Status fields
 * (with their continuation lines) are replaced by ones that say its
 * flags; everything else stays as it was.  The new length in *len.
 */
static int
copyflagged(int in, int out, const Msgent *m, uint64_t *len, const char *path)
{
	char *p = xmalloc(*len + 1);
	Buf o = { 0 };
	int r = 0;

	if (pread(in, p, *len, m->off) != (ssize_t)*len || memcmp(p, "From ", 5) != 0) {
		free(p);
		return seterr(EBUSY, "%s: a message is not where the index says; not changed", path);
	}
	size_t el = m->envlen < *len ? m->envlen : *len;
	const char *eol = iscrlf(p + el, *len - el) ? "\r\n" : "\n";	/* as its own lines end */
	size_t i = 0, n = *len;
	int skipping = 0;
	while (i < n) {	/* the envelope line, then header lines up to the blank line */
		const char *nl = memchr(p + i, '\n', n - i);
		size_t ll = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
		int blank = (ll == 1) || (ll == 2 && p[i] == '\r');
		if (i > 0 && blank)
			break;
		if (i > 0 && (p[i] == ' ' || p[i] == '\t') && skipping) {
			i += ll;
			continue;
		}
		skipping = i > 0 && (isfield(p + i, ll, "Status") || isfield(p + i, ll, "X-Status"));
		if (!skipping)
			bufadd(&o, p + i, ll);
		i += ll;
	}
	Buf f = { 0 };
	flags_fields(&f, m->flags);
	for (size_t k = 0; k < f.n; k++)	/* in the file's line ends */
		if (f.p[k] == '\n')
			bufputs(&o, eol);
		else
			bufputc(&o, f.p[k]);
	buffree(&f);
	bufadd(&o, p + i, n - i);
	if (write(out, o.p, o.n) != (ssize_t)o.n)
		r = seterr(errno ? errno : EIO, "%s: %s", path, strerror(errno ? errno : EIO));
	*len = o.n;
	buffree(&o);
	free(p);
	return r;
}

/*
 * Write the survivors to tmp: each message with the separator that
 * followed it, so their bytes stay exactly as they were unless their
 * flags changed; runs of unchanged survivors are copied in one go.
 * newoff and newlen get each survivor's place in tmp.
 */
static int
writesurvivors(Box *b, int fd, int tmp, uint64_t size, const uint32_t *ids, size_t n,
	uint64_t *newoff, uint64_t *newlen)
{
	uint64_t at = 0, runoff = 0, runlen = 0;

	for (size_t i = 0; i < b->nmsgs; i++) {
		Msgent *m = &b->msgs[i];
		uint64_t end = i + 1 < b->nmsgs ? b->msgs[i + 1].off : size, span = end - m->off;
		if (contains(ids, n, m->id))
			continue;
		if (startsmessage(fd, m->off, b->path) < 0)
			return -1;
		newoff[i] = at;
		newlen[i] = m->len;
		if (m->dirty) {
			if (runlen && copyspan(fd, tmp, runoff, runlen, b->path) < 0)
				return -1;
			runlen = 0;
			uint64_t was = span;
			if (copyflagged(fd, tmp, m, &span, b->path) < 0)
				return -1;
			newlen[i] = m->len + span - was;
		} else if (runlen && runoff + runlen == m->off)
			runlen += span;
		else {
			if (runlen && copyspan(fd, tmp, runoff, runlen, b->path) < 0)
				return -1;
			runoff = m->off;
			runlen = span;
		}
		at += span;
	}
	return runlen ? copyspan(fd, tmp, runoff, runlen, b->path) : 0;
}

static int
syncdir(const char *path)
{
	char *copy = xstrdup(path);
	int d = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;

	free(copy);
	if (d < 0 || fsync(d) < 0)
		r = seterr(errno, "%s: syncing its directory: %s", path, strerror(errno));
	if (d >= 0)
		close(d);
	return r;
}

/*
 * Temporary files a killed rewrite left: no other rewrite can be under
 * way, since we hold the locks, so any .<name>.mailfs-* is a leftover.
 */
static void
sweeptemps(const char *path)
{
	char *copy = xstrdup(path), *base = xstrdup(path), prefix[512];
	const char *dir = dirname(copy);
	DIR *d = opendir(dir);
	struct dirent *e;

	snprintf(prefix, sizeof prefix, ".%s.mailfs-", basename(base));
	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strlen(e->d_name) == strlen(prefix) + 6) {
			char p[4096 + 256];
			snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
			unlink(p);
		}
	if (d)
		closedir(d);
	free(copy);
	free(base);
}

/* the rewrite itself, under the locks; the new file's fd, or -1 */
static int
rewrite(Box *b, int fd, const uint32_t *ids, size_t n)
{
	struct stat st;
	char tmpl[4096];
	char *copy = xstrdup(b->path);

	if (unchanged(b, fd, &st) < 0 || appended(b, fd, &st) < 0) {
		free(copy);
		return -1;
	}
	sweeptemps(b->path);
	snprintf(tmpl, sizeof tmpl, "%s/.%s.mailfs-XXXXXX", dirname(copy), basename(b->path));
	free(copy);
	int tmp = mkostemp(tmpl, O_CLOEXEC);
	if (tmp < 0)
		return seterr(errno, "%s: %s", tmpl, strerror(errno));
	uint64_t *newoff = xzalloc(b->nmsgs * sizeof *newoff + 1);
	uint64_t *newlen = xzalloc(b->nmsgs * sizeof *newlen + 1);
	int r = -1;
	if (fchmod(tmp, st.st_mode & 07777) < 0 ||
	    (fchown(tmp, st.st_uid, st.st_gid) < 0 && errno != EPERM))
		seterr(errno, "%s: %s", tmpl, strerror(errno));
	else if (writesurvivors(b, fd, tmp, st.st_size, ids, n, newoff, newlen) < 0)
		;
	else if (fsync(tmp) < 0)
		seterr(errno, "%s: %s", tmpl, strerror(errno));	/* a full disk shows here */
	else if (rename(tmpl, b->path) < 0)
		seterr(errno, "%s: %s", b->path, strerror(errno));
	else
		r = 0;
	if (r < 0) {
		unlink(tmpl);
		close(tmp);
		free(newoff);
		free(newlen);
		return -1;
	}
	/* the new file is the mailbox now: index it as such */
	size_t k = 0;
	for (size_t i = 0; i < b->nmsgs; i++)
		if (!contains(ids, n, b->msgs[i].id)) {
			b->msgs[k] = b->msgs[i];
			b->msgs[k].off = newoff[i];
			b->msgs[k].len = newlen[i];
			b->msgs[k++].dirty = 0;	/* the store says its flags now */
		}
	b->nmsgs = k;
	free(newoff);
	free(newlen);
	struct stat nst;
	fstat(tmp, &nst);
	Mbox *mb = b->aux;
	mb->dev = nst.st_dev;
	mb->ino = nst.st_ino;
	mb->scanned = nst.st_size;
	b->vers++;
	b->mtime = nst.st_mtime;
	if (syncdir(b->path) < 0)
		fprintf(stderr, "mailfs: %s\n", errmsg());	/* renamed already: report, go on */
	return tmp;
}

int
mbox_remove(Box *b, const uint32_t *ids, size_t n)
{
	Mbox *mb = b->aux;
	int fd = open(b->path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return seterr(errno, "%s: %s", b->path, strerror(errno));
	if (writelock(b->path, fd) < 0) {
		close(fd);
		return -1;
	}
	int nfd = rewrite(b, fd, ids, n);
	mbox_unlock(fd);
	dotunlock(b->path);
	close(fd);
	if (nfd < 0)
		return -1;
	close(mb->fd);
	mb->fd = nfd;
	return 0;
}

/*
 * Append data, whole messages in mbox form, to the mbox at path (made
 * if missing), under the delivery locks, as a delivery agent would:
 * after a blank line if the mailbox does not end with one, then synced.
 */
/*
 * Boxops.append: each message quoted (mboxrd) under its envelope, with
 * the blank line that separates it, all in one append under the locks.
 * The mail directory ($HOME/mail) is made if it is missing.
 */
int
mbox_appendmsgs(const char *path, const Mailmsg *m, size_t n)
{
	Buf all = { 0 };

	for (size_t i = 0; i < n; i++) {
		bufadd(&all, m[i].env, m[i].envn);
		mbox_quote(&all, m[i].p, m[i].n);
		if (m[i].n == 0 || m[i].p[m[i].n - 1] != '\n')
			bufputc(&all, '\n');
		bufputc(&all, '\n');	/* the separator */
	}
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0700);
	}
	free(dir);
	int r = all.n ? mbox_append(path, &all) : 0;
	buffree(&all);
	return r;
}

int
mbox_append(const char *path, const Buf *data)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	struct stat st, pst;
	char tail[2];
	int r = 0;

	if (fd < 0)
		return seterr(errno, "%s: %s", path, strerror(errno));
	if (writelock(path, fd) < 0) {
		close(fd);
		return -1;
	}
	if (fstat(fd, &st) < 0 || stat(path, &pst) < 0 || st.st_ino != pst.st_ino)
		r = seterr(EBUSY, "%s was replaced while we locked it; try again", path);
	else if (st.st_size > 0 && pread(fd, tail, 2, st.st_size - 2 < 0 ? 0 : st.st_size - 2) > 0) {
		size_t need = st.st_size == 1 ? (tail[0] == '\n' ? 1 : 2) :
			tail[1] != '\n' ? 2 : tail[0] != '\n' ? 1 : 0;
		if (need && write(fd, "\n\n", need) != (ssize_t)need)
			r = seterr(errno, "%s: %s", path, strerror(errno));
	}
	for (size_t done = 0; r == 0 && done < data->n;) {
		ssize_t w = write(fd, data->p + done, data->n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = seterr(errno, "%s: %s", path, strerror(errno));
			if (ftruncate(fd, st.st_size) < 0) {}	/* leave the mailbox as it was */
		} else
			done += w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = seterr(errno, "%s: %s", path, strerror(errno));
	mbox_unlock(fd);
	dotunlock(path);
	close(fd);
	return r;
}
