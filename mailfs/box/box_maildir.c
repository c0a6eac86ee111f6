/*
 * The Maildir backend, on libetpan's low-level maildir module, which
 * lists new/ and cur/, finds a message by its unique name (the file
 * name up to ":2,"), removes and delivers.  Messages are numbered in
 * delivery order, the order of the timestamps that start their unique
 * names; the unique name is the key, so a message another program
 * renames (flags changed, moved from new/ to cur/) keeps its number.
 * Flags live in the file name (":2," then letters); Frecent is "in
 * new/".  Deleting unlinks exactly the files asked for: nothing is
 * moved or rewritten, so mail delivered meanwhile cannot be lost.
 *
 * The index keeps, per message, only a slot number (Msgent.slot) into
 * names[], which holds the file's place relative to the maildir.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libetpan/libetpan.h>
#include <libetpan/maildir.h>
#include "box/box.h"
#include "box_maildir.h"

typedef struct Mdir Mdir;
struct Mdir {
	struct maildir	*md;
	chash	*known;		/* unique name -> slot, for each message in the index */
	char	**names;	/* by slot: "new/<file>" or "cur/<file>"; NULL when free */
	uint32_t	nnames, capnames;
	uint32_t	*freeslots;
	uint32_t	nfree;
	time_t	looked;		/* when libetpan last read the directories */
	int	stale;		/* we renamed files since: libetpan's view is old */
	int	pending;	/* libetpan read the directories since the index learnt of it */
	int	hadfolder;	/* a maildirfolder file was there before us */
};

typedef struct Found Found;
struct Found {
	int64_t	date;
	const char	*rest;	/* of the unique name, after its timestamp */
	const struct maildir_msg	*mm;
};



static const char flagletters[] = "DFRST";	/* the info letters that are flags here */

static int
isdir(const char *dir, const char *sub)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, sub);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int
maildir_isdir(const char *path)
{
	return isdir(path, ".") && isdir(path, "cur") && isdir(path, "new") && isdir(path, "tmp");
}

/* the length of the unique name in a file name: up to ":2,", as libetpan keys it */
static size_t
uidlen(const char *file)
{
	const char *p = strstr(file, ":2,");

	return p ? (size_t)(p - file) : strlen(file);
}

/* the info letters of a file name, or "" */
static const char *
infoof(const char *file)
{
	const char *p = strstr(file, ":2,");

	return p ? p + 3 : "";
}

static uint16_t
flagsof(const char *rel)
{
	static const struct { char c; uint16_t f; } map[] = {
		{ 'D', Fdraft }, { 'F', Fflagged }, { 'R', Fanswered }, { 'S', Fseen }, { 'T', Fdeleted },
	};
	uint16_t f = strncmp(rel, "new/", 4) == 0 ? Frecent : 0;

	for (const char *p = infoof(rel + 4); *p; p++)
		for (size_t i = 0; i < nelem(map); i++)
			if (*p == map[i].c)
				f |= map[i].f;
	return f;
}

/*
 * The info a file should carry for flags f: the letters of f and every
 * other letter it had (Dovecot keywords, P for passed), in ASCII order,
 * each once, as the Maildir specification asks.
 */
static void
infofor(Buf *out, const char *oldinfo, uint16_t f)
{
	int want[256] = { 0 };

	for (const char *p = oldinfo; *p; p++)
		if (strchr(flagletters, *p) == NULL)
			want[(unsigned char)*p] = 1;
	want['D'] = (f & Fdraft) != 0;
	want['F'] = (f & Fflagged) != 0;
	want['R'] = (f & Fanswered) != 0;
	want['S'] = (f & Fseen) != 0;
	want['T'] = (f & Fdeleted) != 0;
	bufputs(out, ":2,");
	for (int c = 33; c < 256; c++)
		if (want[c] && c != 127)
			bufputc(out, c);
}

/* delivery time: the timestamp a unique name starts with, else the file's mtime */
static int64_t
datefor(const char *dir, const char *rel, const char *uid, const char **rest)
{
	int64_t t = 0;
	const char *p = uid;
	struct stat st;
	char path[PATH_MAX];

	while (isdigit((unsigned char)*p) && p - uid < 18)
		t = t * 10 + (*p++ - '0');
	if (p > uid && (*p == '.' || *p == 0)) {
		*rest = p;
		return t;
	}
	*rest = uid;
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	return stat(path, &st) == 0 ? st.st_mtime : 0;
}

/* strings compared with runs of digits as numbers: M9P1 before M10P1 */
static int
natcmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			size_t na = strspn(a, "0123456789"), nb = strspn(b, "0123456789");
			if (na != nb)
				return na < nb ? -1 : 1;
			int c = memcmp(a, b, na);
			if (c)
				return c;
			a += na, b += nb;
		} else if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		else
			a++, b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int
foundcmp(const void *x, const void *y)
{
	const Found *a = x, *b = y;

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	int c = natcmp(a->rest, b->rest);
	return c ? c : strcmp(a->mm->msg_uid, b->mm->msg_uid);
}


static int
mderr(const char *dir, int r, int saved)
{
	if (r == MAILDIR_ERROR_MEMORY)
		return seterr(ENOMEM, "%s: out of memory", dir);
	if (saved == 0)
		saved = r == MAILDIR_ERROR_DIRECTORY ? ENOENT : EIO;
	return seterr(saved, "%s: cannot read the maildir: %s", dir, strerror(saved));
}

/*
 * Have libetpan read new/ and cur/ again.  It does so only when their
 * mtime differs from its last look, in whole seconds, so a change made
 * in the second of that look would go unseen: then we make it look.
 * force makes it look anyway.
 */
static int
rescan(Box *b, int force)
{
	Mdir *d = b->aux;
	struct maildir *md = d->md;
	time_t now = time(NULL);

	if (force || d->stale || md->mdir_mtime_new + 2 >= d->looked || md->mdir_mtime_cur + 2 >= d->looked)
		md->mdir_mtime_new = md->mdir_mtime_cur = (time_t)-1;
	time_t was[2] = { md->mdir_mtime_new, md->mdir_mtime_cur };
	errno = 0;
	int r = maildir_update(md);
	int saved = errno;
	unfolder(b->path, d->hadfolder);
	if (r != MAILDIR_NO_ERROR)
		return mderr(b->path, r, saved);
	if (!maildir_isdir(b->path))	/* libetpan does not look at tmp/ */
		return seterr(ENOENT, "%s: not a maildir any more", b->path);
	d->looked = now;
	d->stale = 0;
	d->pending |= was[0] != md->mdir_mtime_new || was[1] != md->mdir_mtime_cur;
	return 0;
}

/*
 * libetpan's own table, by unique name: maildir_message_get would give
 * the same, but as a malloc'd path per call, and a look goes through
 * every message of the index.
 */
static const struct maildir_msg *
mdlookup(Mdir *d, const char *uid, size_t n)
{
	chashdatum key = { (void *)uid, n }, v;

	return chash_get(d->md->mdir_msg_hash, &key, &v) == 0 ? v.data : NULL;
}

static char *
relname(const struct maildir_msg *mm)
{
	Buf r = { 0 };

	bufprint(&r, "%s/%s", mm->msg_flags & MAILDIR_FLAG_NEW ? "new" : "cur", mm->msg_filename);
	return r.p;
}

static uint32_t
newslot(Mdir *d, char *rel)
{
	uint32_t s;

	if (d->nfree)
		s = d->freeslots[--d->nfree];
	else {
		if (d->nnames == d->capnames) {
			d->capnames = d->capnames ? 2 * d->capnames : 1024;
			d->names = xrealloc(d->names, d->capnames * sizeof *d->names);
			d->freeslots = xrealloc(d->freeslots, d->capnames * sizeof *d->freeslots);
		}
		s = d->nnames++;
	}
	d->names[s] = rel;
	chashdatum key = { rel + 4, uidlen(rel + 4) }, v = { (void *)(uintptr_t)s, 0 };
	if (chash_set(d->known, &key, &v, NULL) < 0) {
		fprintf(stderr, "mailfs: out of memory in the maildir index\n");
		abort();
	}
	return s;
}

static void
freeslot(Mdir *d, uint32_t s)
{
	char *rel = d->names[s];
	chashdatum key = { rel + 4, uidlen(rel + 4) };

	chash_delete(d->known, &key, NULL);
	free(rel);
	d->names[s] = NULL;
	d->freeslots[d->nfree++] = s;
}

static int
isknown(Mdir *d, const char *uid)
{
	chashdatum key = { (void *)uid, strlen(uid) }, v;

	return chash_get(d->known, &key, &v) == 0;
}

/* messages libetpan lists that the index lacks, in delivery order */
static Found *
newfound(Box *b, size_t *np)
{
	Mdir *d = b->aux;
	carray *list = d->md->mdir_msg_list;
	Found *f = xmalloc((carray_count(list) + 1) * sizeof *f);
	size_t n = 0;

	for (unsigned i = 0; i < carray_count(list); i++) {
		const struct maildir_msg *mm = carray_get(list, i);
		/* a name listed twice (in new/ and cur/): the one the hash holds counts */
		if (isknown(d, mm->msg_uid) || mdlookup(d, mm->msg_uid, strlen(mm->msg_uid)) != mm)
			continue;
		char *rel = relname(mm);
		f[n].date = datefor(b->path, rel, mm->msg_uid, &f[n].rest);
		f[n++].mm = mm;
		free(rel);
	}
	qsort(f, n, sizeof *f, foundcmp);
	*np = n;
	return f;
}

static void
addfound(Box *b, const Found *f, size_t n)
{
	Mdir *d = b->aux;

	for (size_t i = 0; i < n; i++) {
		Msgent e = { 0 };
		char *rel = relname(f[i].mm);
		e.date = f[i].date;
		e.flags = flagsof(rel);
		e.slot = newslot(d, rel);
		box_add(b, &e);
	}
}

static void
dirmtime(Box *b)
{
	struct maildir *md = ((Mdir *)b->aux)->md;

	b->mtime = md->mdir_mtime_new > md->mdir_mtime_cur ? md->mdir_mtime_new : md->mdir_mtime_cur;
}

static void
mdfree(Mdir *d)
{
	if (d->md)
		maildir_free(d->md);
	if (d->known)
		chash_free(d->known);
	for (uint32_t i = 0; i < d->nnames; i++)
		free(d->names[i]);
	free(d->names);
	free(d->freeslots);
	free(d);
}

static int
mdopen(Box *b)
{
	if (strlen(b->path) >= PATH_MAX - 64)
		return seterr(ENAMETOOLONG, "%s: path too long", b->path);
	if (!maildir_isdir(b->path))
		return seterr(ENOTDIR, "%s: not a maildir (it needs cur/, new/ and tmp/)", b->path);
	Mdir *d = xzalloc(sizeof *d);
	d->hadfolder = hasfolder(b->path);
	d->md = maildir_new(b->path);
	d->known = chash_new(CHASH_DEFAULTSIZE, CHASH_COPYKEY);
	if (d->md == NULL || d->known == NULL) {
		mdfree(d);
		return seterr(ENOMEM, "%s: out of memory", b->path);
	}
	b->aux = d;
	if (rescan(b, 1) < 0) {
		mdfree(d);
		b->aux = NULL;
		return -1;
	}
	size_t n;
	Found *f = newfound(b, &n);
	addfound(b, f, n);
	free(f);
	dirmtime(b);
	d->pending = 0;
	return 0;
}

static void
mdclose(Box *b)
{
	if (b->aux)
		mdfree(b->aux);
	b->aux = NULL;
}

/* has a message of the index no file in libetpan's last look? */
static int
anymissing(Box *b)
{
	Mdir *d = b->aux;

	for (size_t i = 0; i < b->nmsgs; i++) {
		const char *rel = d->names[b->msgs[i].slot];
		if (mdlookup(d, rel + 4, uidlen(rel + 4)) == NULL)
			return 1;
	}
	return 0;
}

/*
 * A message stays with its number as long as a file has its unique
 * name; its place and, unless changed here, its flags follow the file.
 */
static int
follow(Box *b, Msgent *e)
{
	Mdir *d = b->aux;
	char *rel = d->names[e->slot];
	const struct maildir_msg *mm = mdlookup(d, rel + 4, uidlen(rel + 4));

	if (mm == NULL)
		return 0;
	if (strncmp(rel, mm->msg_flags & MAILDIR_FLAG_NEW ? "new/" : "cur/", 4) != 0 ||
	    strcmp(rel + 4, mm->msg_filename) != 0) {
		free(rel);
		d->names[e->slot] = relname(mm);
	}
	if (!e->dirty)
		e->flags = flagsof(d->names[e->slot]);
	return 1;
}

/*
 * A file renamed while libetpan reads the directories (another reader
 * moving it from new/ to cur/, between the two) can be missed by that
 * look; so a message is taken for gone only when a second look misses
 * it too.
 */
static int
mdsync(Box *b)
{
	Mdir *d = b->aux;
	size_t before = b->nmsgs, k = 0;

	if (rescan(b, 0) < 0)
		return -1;
	if (!d->pending)	/* a quiet maildir costs two stats */
		return 0;
	if (anymissing(b) && rescan(b, 1) < 0)
		return -1;
	d->pending = 0;
	for (size_t i = 0; i < b->nmsgs; i++) {
		if (follow(b, &b->msgs[i]))
			b->msgs[k++] = b->msgs[i];
		else
			freeslot(d, b->msgs[i].slot);
	}
	b->nmsgs = k;
	size_t n;
	Found *f = newfound(b, &n);
	addfound(b, f, n);
	free(f);
	if (k != before || n > 0) {
		b->vers++;
		dirmtime(b);
	}
	return 0;
}

/*
 * Where the message is now: libetpan looks again and finds it by its
 * unique name.  1 found (its slot updated), 0 gone, -1 error.
 */
static int
relocate(Box *b, Msgent *e)
{
	if (rescan(b, 1) < 0)
		return -1;
	return follow(b, e);
}

static int
readfile(const char *path, Buf *raw)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -1;
	int bad = fstat(fd, &st) < 0 ? errno : !S_ISREG(st.st_mode) ? EISDIR : 0;
	if (bad) {
		close(fd);
		errno = bad;
		return -1;
	}
	bufreset(raw);
	bufadd(raw, "", 0);	/* an empty file is an empty message, not a NULL one */
	for (;;) {
		char tmp[65536];
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		bufadd(raw, tmp, r);
	}
	close(fd);
	return 0;
}

/*
 * The file as it is, in LF line ends.  Only a file whose first line
 * ends in CRLF is converted, so that a stray CR in an LF message stays.
 */
static int
mdfetch(Box *b, const Msgent *m, Buf *raw, Buf *env)
{
	Mdir *d = b->aux;
	Msgent *e = box_msg(b, m->id);
	char path[PATH_MAX];

	bufreset(env);
	if (e == NULL)
		return seterr(ENOENT, "no such message");
	for (int i = 0; i < Tries; i++) {
		snprintf(path, sizeof path, "%s/%s", b->path, d->names[e->slot]);
		if (readfile(path, raw) == 0) {
			if (iscrlf(raw->p, raw->n)) {
				raw->n = crlftolf(raw->p, raw->n);
				raw->p[raw->n] = 0;
			}
			return 0;
		}
		if (errno != ENOENT)
			return seterr(errno, "%s: %s", path, strerror(errno));
		int r = relocate(b, e);
		if (r < 0)
			return -1;
		if (r == 0)
			return seterr(ENOENT, "%s: the message was deleted by another program", path);
	}
	return seterr(EBUSY, "%s: the message keeps being renamed by another program", path);
}

/* the unique name of a slot, NUL-terminated, for libetpan */
static void
uidof(Mdir *d, const Msgent *e, char *uid, size_t n)
{
	const char *rel = d->names[e->slot] + 4;

	snprintf(uid, n, "%.*s", (int)uidlen(rel), rel);
}

/*
 * Unlink one message's file, through libetpan.  A file renamed since
 * the last look is found again by its unique name; one already gone
 * (deleted by another program) is no error.  1 unlinked, 0 gone.
 */
static int
unlinkone(Box *b, Msgent *e)
{
	Mdir *d = b->aux;
	char uid[PATH_MAX];

	uidof(d, e, uid, sizeof uid);
	for (int i = 0; i < Tries; i++) {
		errno = 0;
		int r = maildir_message_remove(d->md, uid);
		if (r == MAILDIR_NO_ERROR)
			return 1;
		if (r == MAILDIR_ERROR_FILE && errno != ENOENT)
			return seterr(errno ? errno : EIO, "%s/%s: cannot delete: %s",
				b->path, d->names[e->slot], strerror(errno ? errno : EIO));
		if ((r = relocate(b, e)) <= 0)
			return r;
	}
	return seterr(EBUSY, "%s/%s: the message keeps being renamed by another program", b->path, d->names[e->slot]);
}

/*
 * Store a message's flags in its file name.  libetpan's
 * maildir_message_change_flags is not used: it drops the D (draft)
 * flag and every letter it does not know (Dovecot keywords, P), and
 * writes the letters out of ASCII order.  The message goes to cur/,
 * since a reader has seen it now.
 */
static int
storeflags(Box *b, Msgent *e)
{
	Mdir *d = b->aux;

	for (int i = 0; i < Tries; i++) {
		const char *rel = d->names[e->slot];
		Buf to = { 0 }, from = { 0 };
		bufprint(&to, "cur/%.*s", (int)uidlen(rel + 4), rel + 4);
		infofor(&to, infoof(rel + 4), e->flags);
		if (strcmp(to.p, rel) == 0) {
			buffree(&to);
			e->dirty = 0;
			return 0;
		}
		bufprint(&from, "%s/%s", b->path, rel);
		Buf top = { 0 };
		bufprint(&top, "%s/%s", b->path, to.p);
		int r = rename(from.p, top.p), err = errno;
		buffree(&from);
		buffree(&top);
		if (r == 0) {
			free(d->names[e->slot]);
			d->names[e->slot] = to.p;
			d->stale = 1;
			e->dirty = 0;
			e->flags = flagsof(to.p);
			return 0;
		}
		buffree(&to);
		if (err != ENOENT)
			return seterr(err, "%s/%s: cannot store its flags: %s", b->path, rel, strerror(err));
		if ((r = relocate(b, e)) <= 0)
			return r;	/* deleted by another program: nothing to store */
	}
	return seterr(EBUSY, "%s/%s: the message keeps being renamed by another program", b->path, d->names[e->slot]);
}

static int
cmpu32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
contains(const uint32_t *sorted, size_t n, uint32_t id)
{
	return n > 0 && bsearch(&id, sorted, n, sizeof id, cmpu32) != NULL;
}

/*
 * Unlink the files of ids, then store the flags changed here.  On a
 * failure the index keeps what was unlinked already: the next look
 * finds those files gone and tells the tree.
 */
static int
mdremove(Box *b, const uint32_t *ids, size_t n)
{
	Mdir *d = b->aux;
	uint32_t *sorted = xmalloc((n + 1) * sizeof *sorted);
	int r = 0;

	if (n > 0)
		memcpy(sorted, ids, n * sizeof *ids);
	qsort(sorted, n, sizeof *sorted, cmpu32);
	if (d->stale && n > 0)
		r = rescan(b, 1);
	for (size_t i = 0; r == 0 && i < n; i++) {
		Msgent *e = box_msg(b, ids[i]);
		if (e && unlinkone(b, e) < 0)
			r = -1;
	}
	for (size_t i = 0; r == 0 && i < b->nmsgs; i++)
		if (b->msgs[i].dirty && !contains(sorted, n, b->msgs[i].id) && storeflags(b, &b->msgs[i]) < 0)
			r = -1;
	size_t k = 0;
	for (size_t i = 0; r == 0 && i < b->nmsgs; i++)
		if (contains(sorted, n, b->msgs[i].id))
			freeslot(d, b->msgs[i].slot);
		else
			b->msgs[k++] = b->msgs[i];
	if (r == 0 && k != b->nmsgs) {
		b->nmsgs = k;
		b->vers++;
		b->mtime = time(NULL);
	}
	free(sorted);
	return r;
}

static int
mdwatch(Box *b)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char p[PATH_MAX];
	uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR;

	if (fd < 0)
		return -1;
	snprintf(p, sizeof p, "%s/new", b->path);
	int ok = inotify_add_watch(fd, p, mask) >= 0;
	snprintf(p, sizeof p, "%s/cur", b->path);
	ok = ok && inotify_add_watch(fd, p, mask) >= 0;
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

/* the unique part of its file name: what stays when its flags change */
static void
mdident(Box *b, const Msgent *e, Buf *out)
{
	Mdir *d = b->aux;
	const char *base = strrchr(d->names[e->slot], '/');

	base = base ? base + 1 : d->names[e->slot];
	bufputs(out, "maildir ");
	bufadd(out, base, strcspn(base, ":"));
}

const Boxops maildirops = {
	.name = "maildir",
	.probe = maildir_isdir,
	.open = mdopen,
	.close = mdclose,
	.fetch = mdfetch,
	.sync = mdsync,
	.commit = mdremove,
	.append = mdappend,
	.beside = mdbeside,
	.watch = mdwatch,
	.ident = mdident,
	.indexflags = 1,
};
