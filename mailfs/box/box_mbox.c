/*
 * The mbox backend.  One pass over the file, mapped, finds the message
 * boundaries: a boundary is a line that starts "From " and carries a
 * sender and an asctime date (RFC 4155), so an unquoted "From " inside
 * an mboxo body does not split a message unless it looks exactly like
 * an envelope.  The blank line before a From_ line belongs to the
 * separator, not to the message.
 *
 * The file is read under a shared fcntl lock, the lock Debian's
 * delivery agents (procmail, postfix local, exim, dovecot-lda) take
 * exclusively while they append, so we never see half a delivery.  They
 * also hold a dotlock (<mbox>.lock); a reader may lack the right to
 * create one in the spool directory, so we only wait while a fresh one
 * exists.
 * Message bytes are read later with pread, not through the mapping, so
 * a file truncated behind our back gives an error, not SIGBUS.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "box/box.h"

#include "box_mbox.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22	/* Linux 5.14 */
#endif

enum {
	Locktries = 300,		/* 100 ms apart: 30 s */
	Stalelock = 300,		/* seconds after which a dotlock is abandoned */
	Window = 32 << 20,	/* map this much ahead of the scan, and drop it after */
};

static const char *wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int
nameindex(const char *s, size_t n, const char **tab, int ntab)
{
	if (n != 3)
		return -1;
	for (int i = 0; i < ntab; i++)
		if (strncasecmp(s, tab[i], 3) == 0)
			return i;
	return -1;
}

static int
number(const char *s, size_t n, int min, int max)
{
	int v = 0;

	if (n == 0 || n > 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + s[i] - '0';
	}
	return v >= min && v <= max ? v : -1;
}

/* hh:mm or hh:mm:ss */
static int
hhmmss(const char *s, size_t n, struct tm *tm)
{
	if (n != 5 && n != 8)
		return -1;
	if (s[2] != ':' || (n == 8 && s[5] != ':'))
		return -1;
	tm->tm_hour = number(s, 2, 0, 23);
	tm->tm_min = number(s + 3, 2, 0, 59);
	tm->tm_sec = n == 8 ? number(s + 6, 2, 0, 60) : 0;
	return tm->tm_hour < 0 || tm->tm_min < 0 || tm->tm_sec < 0 ? -1 : 0;
}

/* +hhmm or -hhmm: seconds east of UTC; 0 for a zone name */
static long
zoneoffset(const char *s, size_t n)
{
	if (n != 5 || (s[0] != '+' && s[0] != '-'))
		return 0;
	int hh = number(s + 1, 2, 0, 23), mm = number(s + 3, 2, 0, 59);
	if (hh < 0 || mm < 0)
		return 0;
	return (s[0] == '-' ? -1 : 1) * (hh * 3600L + mm * 60L);
}

enum { Maxtok = 16 };

/*
 * Is p[0..n), a line without its line end, an envelope line?  The
 * accepted shapes are "From sender Www Mmm dd hh:mm[:ss] [zone] yyyy
 * [zone]"; the sender may be empty or hold spaces, so the date is found
 * by its shape, not its position.
 */
int
mbox_fromline(const char *p, size_t n, int64_t *date)
{
	const char *tok[Maxtok];
	size_t len[Maxtok];
	int nt = 0;

	if (n < 5 || memcmp(p, "From ", 5) != 0)
		return 0;
	for (size_t i = 5; i < n && nt < Maxtok;) {
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i == n)
			break;
		tok[nt] = p + i;
		while (i < n && p[i] != ' ' && p[i] != '\t')
			i++;
		len[nt] = p + i - tok[nt];
		nt++;
	}
	for (int w = 0; w + 4 < nt; w++) {
		struct tm tm = { 0 };
		long off = 0;
		if (nameindex(tok[w], len[w], wdays, 7) < 0)
			continue;
		if ((tm.tm_mon = nameindex(tok[w + 1], len[w + 1], months, 12)) < 0)
			continue;
		if ((tm.tm_mday = number(tok[w + 2], len[w + 2], 1, 31)) < 0)
			continue;
		if (hhmmss(tok[w + 3], len[w + 3], &tm) < 0)
			continue;
		int y = -1, k = w + 4;
		for (int z = 0; k < nt && z < 3 && y < 0; k++, z++) {
			y = number(tok[k], len[k], 1900, 9999);
			if (y < 0)
				off = zoneoffset(tok[k], len[k]);
		}
		if (y < 0)
			continue;
		if (k < nt)
			off = zoneoffset(tok[k], len[k]);
		tm.tm_year = y - 1900;
		if (date)
			*date = (int64_t)timegm(&tm) - off;
		return 1;
	}
	return 0;
}

static size_t
linelen(const char *p, size_t n)
{
	const char *e = memchr(p, '\n', n);

	return e ? (size_t)(e - p) : n;
}

/*
 * What a boundary tells: the envelope line at p[at] (everything of the
 * Msgent but the length), and the separator before it, so that the
 * message before can be ended without going back to the file.
 */
typedef struct Bound Bound;
struct Bound {
	Msgent	m;
	uint8_t	lfsep;		/* a blank line (LF) ends what comes before */
	uint8_t	crlfsep;	/* ... a CRLF one */
};

static void
bound(const char *p, size_t at, size_t n, Bound *b)
{
	size_t ll = linelen(p + at, n - at);

	memset(b, 0, sizeof *b);
	b->m.off = at;
	mbox_fromline(p + at, ll && p[at + ll - 1] == '\r' ? ll - 1 : ll, &b->m.date);
	b->m.crlf = ll > 0 && p[at + ll - 1] == '\r';
	b->m.key = 2166136261u;	/* FNV-1a */
	for (size_t i = 0; i < ll - b->m.crlf; i++)
		b->m.key = (b->m.key ^ (unsigned char)p[at + i]) * 16777619u;
	b->m.envlen = ll < n - at ? ll + 1 : ll;
	b->lfsep = at >= 2 && p[at - 1] == '\n' && p[at - 2] == '\n';
	b->crlfsep = at >= 4 && memcmp(p + at - 4, "\r\n\r\n", 4) == 0;
}

/* Emit the message that starts at b and ends where next (a Bound at end, or none) begins */
static void
emit(const Bound *b, size_t end, const Bound *next, void (*fn)(void *, const Msgent *), void *arg)
{
	Msgent m = b->m;
	size_t len = end - m.off;

	/* the separator: one blank line before the next From_ line */
	if (m.crlf && len >= m.envlen + 2 && next->crlfsep)
		len -= 2;
	else if (len >= m.envlen + 1 && len >= 2 && next->lfsep)
		len -= 1;
	m.len = len;
	fn(arg, &m);
}

/*
 * The first line start in [pos, to) that begins "From " (reading up to
 * n).  It looks at 16 bytes at a time for a newline followed by 'F',
 * which is rare, so the search runs at memory speed; hits are checked
 * one by one.  pos > 0.
 */
typedef char V16 __attribute__((vector_size(16)));

static const char *
nextfrom(const char *p, size_t pos, size_t to, size_t n)
{
	size_t i = pos;

	for (; i + 16 <= to; i += 16) {
		V16 prev, cur, hit;
		uint64_t w[2];
		memcpy(&prev, p + i - 1, 16);
		memcpy(&cur, p + i, 16);
		hit = (prev == '\n') & (cur == 'F');
		memcpy(w, &hit, 16);
		if ((w[0] | w[1]) == 0)
			continue;
		for (size_t j = i; j < i + 16; j++)
			if (p[j - 1] == '\n' && p[j] == 'F' && n - j >= 5 && memcmp(p + j, "From ", 5) == 0)
				return p + j;
	}
	for (; i < to; i++)
		if (p[i - 1] == '\n' && p[i] == 'F' && n - i >= 5 && memcmp(p + i, "From ", 5) == 0)
			return p + i;
	return NULL;
}

static int
isenvelope(const char *p, size_t at, size_t n)
{
	size_t ll = linelen(p + at, n - at);

	return mbox_fromline(p + at, ll && p[at + ll - 1] == '\r' ? ll - 1 : ll, NULL);
}

/* One thread's share of the file: where its envelope lines start. */
typedef struct Range Range;
struct Range {
	const char	*p;
	size_t	from, to, n;
	int	mapped;		/* p is our mapping of the file */
	Bound	*at;		/* read while the page is in: never faulted in again */
	size_t	nat;
};

/*
 * A mapping is faulted in a window at a time ahead of the search (one
 * call instead of a fault per page) and given back behind it, so a large
 * mailbox is scanned at memory speed without becoming resident.
 */
static void *
findall(void *arg)
{
	Range *r = arg;
	size_t pos = r->from, cap = 0;
	size_t mapped = r->from & ~(size_t)(Window - 1), dropped = mapped;

	while (pos < r->to) {
		for (; r->mapped && mapped < r->to && mapped < pos + 2 * (size_t)Window; mapped += Window)
			madvise((char *)r->p + mapped, r->n - mapped < (size_t)Window ? r->n - mapped : (size_t)Window,
				MADV_POPULATE_READ);
		for (; r->mapped && pos >= dropped + 2 * (size_t)Window; dropped += Window)
			madvise((char *)r->p + dropped, Window, MADV_DONTNEED);
		size_t to = r->to - pos > (size_t)Window ? pos + Window : r->to;
		const char *q = nextfrom(r->p, pos, to, r->n);
		if (q == NULL) {
			pos = to;
			continue;
		}
		pos = q - r->p + 5;
		if (!isenvelope(r->p, q - r->p, r->n))
			continue;
		if (r->nat == cap) {
			cap = cap ? 2 * cap : 4096;
			r->at = xrealloc(r->at, cap * sizeof *r->at);
		}
		bound(r->p, q - r->p, r->n, &r->at[r->nat++]);
	}
	return NULL;
}

/*
 * Scan p[0..n) with nthreads threads (1 or 2), each searching its share
 * of the file; the boundaries are then joined in order.
 */
static int
scan(const char *p, size_t n, int mapped, int nthreads, void (*fn)(void *, const Msgent *), void *arg)
{
	size_t i = 0;

	while (i < n && (p[i] == '\n' || (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')))
		i += p[i] == '\r' ? 2 : 1;
	if (i == n)
		return 0;
	if (!isenvelope(p, i, n))
		return seterr(EINVAL, "not an mbox file: it does not begin with a From line");
	size_t mid = n / 2 & ~(size_t)(Window - 1);
	if (nthreads < 2 || mid <= i + 1)
		mid = n;
	Range r[2] = {
		{ p, i + 1, mid, n, mapped, NULL, 0 },
		{ p, mid, n, n, mapped, NULL, 0 },
	};
	pthread_t t;
	int threaded = mid < n && pthread_create(&t, NULL, findall, &r[1]) == 0;
	findall(&r[0]);
	if (threaded)
		pthread_join(t, NULL);
	else if (mid < n)
		findall(&r[1]);
	Bound first, last;
	const Bound *cur = &first;
	bound(p, i, n, &first);
	for (int k = 0; k < 2; k++)
		for (size_t j = 0; j < r[k].nat; j++) {
			emit(cur, r[k].at[j].m.off, &r[k].at[j], fn, arg);
			cur = &r[k].at[j];
		}
	memset(&last, 0, sizeof last);	/* the end of the file: its own blank line stays */
	last.lfsep = n >= 2 && p[n - 1] == '\n' && p[n - 2] == '\n';
	last.crlfsep = n >= 4 && memcmp(p + n - 4, "\r\n\r\n", 4) == 0;
	emit(cur, n, &last, fn, arg);
	free(r[0].at);
	free(r[1].at);
	return 0;
}

int
mbox_scan(const char *p, size_t n, int nthreads, void (*fn)(void *arg, const Msgent *m), void *arg)
{
	return scan(p, n, 0, nthreads, fn, arg);
}

/*
 * mboxrd quoting: a line of '>'s (none, to quote) then "From " gains
 * one '>' (quote) or loses one (unquote, where there is one).
 */
static void
requote(Buf *dst, const char *p, size_t n, int quote)
{
	size_t i = 0;

	while (i < n) {
		size_t ll = linelen(p + i, n - i), j = i;
		while (j < i + ll && p[j] == '>')
			j++;
		int from = i + ll - j >= 5 && memcmp(p + j, "From ", 5) == 0;
		size_t skip = from && !quote && j > i;
		size_t end = i + ll < n ? i + ll + 1 : n;
		if (from && quote)
			bufputc(dst, '>');
		bufadd(dst, p + i + skip, end - i - skip);
		i = end;
	}
}

/*
 * Undo mboxrd quoting.  mboxo files quote the same way but cannot be
 * undone exactly; treating them as mboxrd restores the common case.
 */
void
mbox_unquote(Buf *dst, const char *p, size_t n)
{
	requote(dst, p, n, 0);
}

/* mboxrd quoting, for a message that comes from a store without it */
void
mbox_quote(Buf *dst, const char *p, size_t n)
{
	requote(dst, p, n, 1);
}

/* wait until no live dotlock is held on path */
static int
dotlockwait(const char *path, int *tries)
{
	char lock[4096];

	snprintf(lock, sizeof lock, "%s.lock", path);
	while (mbox_dotlocked(lock)) {
		if ((*tries)++ == Locktries)
			return seterr(EAGAIN, "%s: mailbox stays dotlocked by another program", path);
		usleep(100 * 1000);
	}
	return 0;
}

/*
 * Is the dotlock lock held?  Not when it is missing, older than
 * Stalelock seconds, or names a process of this machine that is gone
 * (a killed mailfs leaves its pid there).
 */
int
mbox_dotlocked(const char *lock)
{
	struct stat st;
	char buf[32];

	if (stat(lock, &st) < 0 || time(NULL) - st.st_mtime >= Stalelock)
		return 0;
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = 0;
		long pid = strtol(buf, NULL, 10);
		if (pid > 0 && kill(pid, 0) < 0 && errno == ESRCH)
			return 0;
	}
	return 1;
}

/*
 * A read lock waits for a fresh dotlock to go, then takes the fcntl
 * lock; a write lock (F_WRLCK) is taken by a caller that already holds
 * the dotlock, so it takes the fcntl lock alone.
 */
int
mbox_lock(int fd, const char *path, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	int i = 0;

	if (type == F_RDLCK && dotlockwait(path, &i) < 0)
		return -1;
	for (; fcntl(fd, F_SETLK, &fl) < 0; i++) {
		if (errno != EAGAIN && errno != EACCES && errno != EINTR)
			return seterr(errno, "%s: cannot lock: %s", path, strerror(errno));
		if (i == Locktries)
			return seterr(EAGAIN, "%s: mailbox stays locked by another program", path);
		usleep(100 * 1000);
	}
	return 0;
}

void
mbox_unlock(int fd)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	fcntl(fd, F_SETLK, &fl);
}

static int
mboxprobe(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

typedef struct Appended Appended;
struct Appended {
	Box	*box;
	uint64_t	base;
};

static void
appended(void *arg, const Msgent *m)
{
	Appended *a = arg;
	Msgent e = *m;

	e.off += a->base;
	box_add(a->box, &e);
}

static void
found(void *arg, const Msgent *m)
{
	box_add(arg, m);
}

/* the messages in [from, to) of fd, appended to b's index */
int
mbox_scanpart(Box *b, int fd, uint64_t from, uint64_t to)
{
	size_t page = sysconf(_SC_PAGESIZE), skew = from % page;

	if (to <= from)
		return 0;
	char *p = mmap(NULL, to - from + skew, PROT_READ, MAP_PRIVATE, fd, from - skew);
	if (p == MAP_FAILED)
		return seterr(errno, "%s: cannot map: %s", b->path, strerror(errno));
	Appended a = { b, from };
	int r = scan(p + skew, to - from, 0, 1, appended, &a);
	munmap(p, to - from + skew);
	return r;
}

static int
mboxopen(Box *b)
{
	struct stat st;
	int fd = open(b->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return seterr(errno, "%s: %s", b->path, strerror(errno));
	if (mbox_lock(fd, b->path, F_RDLCK) < 0)
		goto fail;
	if (fstat(fd, &st) < 0) {
		seterr(errno, "%s: %s", b->path, strerror(errno));
		goto unlock;
	}
	b->mtime = st.st_mtime;
	if (st.st_size > 0) {
		void *p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			seterr(errno, "%s: cannot map: %s", b->path, strerror(errno));
			goto unlock;
		}
		int r = scan(p, st.st_size, 1, 2, found, b);
		munmap(p, st.st_size);
		if (r < 0) {
			char why[128];
			snprintf(why, sizeof why, "%s", errmsg());
			seterr(errcode(), "%s: %s", b->path, why);
			goto unlock;
		}
	}
	mbox_unlock(fd);
	Mbox *mb = xzalloc(sizeof *mb);
	mb->fd = fd;
	mb->dev = st.st_dev;
	mb->ino = st.st_ino;
	mb->scanned = st.st_size;
	b->aux = mb;
	return 0;
unlock:
	mbox_unlock(fd);
fail:
	close(fd);
	return -1;
}

static void
mboxclose(Box *b)
{
	Mbox *mb = b->aux;

	if (mb) {
		close(mb->fd);
		free(mb);
	}
	b->aux = NULL;
}

static int
readat(int fd, char *p, size_t n, uint64_t off)
{
	while (n > 0) {
		ssize_t r = pread(fd, p, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return seterr(errno, "mailbox read: %s", strerror(errno));
		if (r == 0)
			return seterr(EIO, "mailbox was truncated by another program");
		p += r;
		n -= r;
		off += r;
	}
	return 0;
}

static int
mboxfetch(Box *b, const Msgent *m, Buf *raw, Buf *env)
{
	Mbox *mb = b->aux;
	size_t n = m->len;
	char *p = xmalloc(n + 1);

	if (mbox_lock(mb->fd, b->path, F_RDLCK) < 0)
		goto fail;
	int r = readat(mb->fd, p, n, m->off);
	mbox_unlock(mb->fd);
	if (r < 0)
		goto fail;
	/*
	 * The envelope's line end and the message's are decided apart: an
	 * agent may write an LF From_ line above a CRLF message.
	 */
	size_t el = m->envlen > n ? n : m->envlen;
	bufreset(env);
	bufadd(env, p, el);
	if (env->n >= 2 && env->p[env->n - 2] == '\r' && env->p[env->n - 1] == '\n') {
		env->n--;
		env->p[env->n - 1] = '\n';
		env->p[env->n] = 0;
	}
	if (env->n && env->p[env->n - 1] != '\n')
		bufputc(env, '\n');
	size_t bn = n - el;
	if (iscrlf(p + el, bn))
		bn = crlftolf(p + el, bn);
	bufreset(raw);
	bufadd(raw, p + el, bn);
	free(p);
	return 0;
fail:
	free(p);
	return -1;
}

/* the directory, since a rewrite renames a new file over the old */
static int
mboxwatch(Box *b)
{
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	char *copy = xstrdup(b->path);

	if (fd >= 0 && inotify_add_watch(fd, dirname(copy), IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_CREATE) < 0) {
		close(fd);
		fd = -1;
	}
	free(copy);
	return fd;
}

const Boxops mboxops = {
	.name = "mbox",
	.probe = mboxprobe,
	.open = mboxopen,
	.close = mboxclose,
	.fetch = mboxfetch,
	.sync = mbox_sync,
	.commit = mbox_remove,
	.append = mbox_appendmsgs,
	.create = 1,
	.unquote = mbox_unquote,
	.watch = mboxwatch,
};
