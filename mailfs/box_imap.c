/*
 * The IMAP backend: a folder on an IMAP server, through libetpan.
 *
 * The index comes from one UID FETCH of flags, size and internal date
 * for the whole folder.  Nothing of a message is fetched before one of
 * its files is read, and then only what that file is made from:
 *  - header files: BODY.PEEK[HEADER], for a run of messages at once;
 *  - a MIME part's files: the message's skeleton (imap_skel.c, from
 *    BODYSTRUCTURE and the parts' headers) and that part's section;
 *  - files of the whole message (raw, info with its digest): the
 *    message, with the next few not fetched yet in the same command,
 *    since readers go through a box in order.
 * All of it is kept in an on-disk cache keyed by UIDVALIDITY and UID,
 * so a second open is local.  Msgent.envhash holds the UID.
 *
 * The connection is used under the tree lock only.  A dropped one is
 * made again, and since messages are known by UID their numbers stay.
 * New mail: a second connection sits in IDLE, when the server has it,
 * and stirs the watcher's descriptor; otherwise the watcher's periodic
 * look (a NOOP) finds it.
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
#include "fns.h"
#include "box_imap.h"

enum {
	Timeout = 60,		/* seconds a server may keep us waiting */
	Readahead = 64,		/* messages fetched in one round trip */
	Readbytes = 8 << 20,	/* ... or this many bytes */
	Hdrrun = 256,		/* headers fetched in one round trip */
	Bsrun = 64,		/* BODYSTRUCTUREs: dearer, the server parses each message */
	Idlesecs = 25 * 60,	/* RFC 2177: renew IDLE within 29 minutes */
};

static uint64_t cachebudget = 2ull << 30;	/* bytes of messages kept on disk per folder */

typedef struct Imap Imap;
struct Imap {
	Imapurl	u;
	mailimap	*s;	/* the connection; NULL while down */
	uint32_t	uidvalidity;
	int	hasidle, hasuidplus;
	char	*cache;		/* directory of cached messages, or NULL */
	uint64_t	cached;	/* bytes in it */
	int	evfd;		/* the watcher's: written by the idler */
	uint32_t	hdruid[Hdrrun];	/* the last run of headers fetched, by UID */
	uint32_t	bsuid[Bsrun];	/* the last run of BODYSTRUCTUREs fetched, by UID */
	struct mailimap_body	*bs[Bsrun];	/* each until a skeleton takes it */
	size_t	lastmiss[3];	/* index of the last header, message, structure fetched: the reader's way */
	Buf	hdr[Hdrrun];
	pthread_t	idler;
	int	idling;
};

typedef struct Sections Sections;
static void forgetrun(Imap *im);
static void forgetbs(Imap *im);
static void takesections(struct mailimap_msg_att *a, Sections *ss, struct mailimap_body **bs);

/* the server's last words, for an error message */
static const char *
said(mailimap *s)
{
	return s && s->imap_response && *s->imap_response ? s->imap_response : "no reason given";
}

static int
imaperr(Imap *im, int r, const char *what)
{
	const char *why = r == MAILIMAP_ERROR_STREAM ? "connection lost" :
		r == MAILIMAP_ERROR_CONNECTION_REFUSED ? "connection refused" :
		r == MAILIMAP_ERROR_SSL ? "TLS handshake failed" : said(im->s);
	return seterr(r == MAILIMAP_ERROR_STREAM ? EIO : EPROTO, "%s: %s: %s", im->u.text, what, why);
}

static void
hangup(Imap *im)
{
	if (im->s) {
		mailimap_free(im->s);
		im->s = NULL;
	}
}

/* log in and select the folder; the UIDVALIDITY must not change under us */
static int
dial(Imap *im, mailimap **sp, uint32_t *validity)
{
	Buf pw = { 0 };
	int r;

	mailimap *s = mailimap_new(0, NULL);
	mailimap_set_timeout(s, Timeout);
	if (im->u.tls)
		r = mailimap_ssl_connect(s, im->u.host, im->u.port);
	else
		r = mailimap_socket_connect(s, im->u.host, im->u.port);
	Imap tmp = *im;
	tmp.s = s;
	if (r != MAILIMAP_NO_ERROR_AUTHENTICATED && r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED) {
		r = imaperr(&tmp, r == MAILIMAP_ERROR_STREAM ? MAILIMAP_ERROR_CONNECTION_REFUSED : r, "cannot connect");
		goto fail;
	}
	if (im->u.tls && imap_verify(s->imap_stream, &im->u) < 0) {
		r = -1;
		goto fail;
	}
	if (box_password(im->u.tls ? "imaps" : "imap", im->u.host, im->u.user, &pw) < 0) {
		r = -1;
		goto fail;
	}
	r = mailimap_login(s, im->u.user, pw.p);
	memset(pw.p, 0, pw.n);
	buffree(&pw);
	if (r != MAILIMAP_NO_ERROR) {
		r = r == MAILIMAP_ERROR_LOGIN ?
			seterr(EACCES, "%s: login refused: %s", im->u.text, said(s)) : imaperr(&tmp, r, "login");
		goto fail;
	}
	if ((r = mailimap_select(s, im->u.folder)) != MAILIMAP_NO_ERROR) {
		r = r == MAILIMAP_ERROR_SELECT ?
			seterr(ENOENT, "%s: no such folder: %s", im->u.text, said(s)) : imaperr(&tmp, r, "select");
		goto fail;
	}
	*validity = s->imap_selection_info ? s->imap_selection_info->sel_uidvalidity : 0;
	struct mailimap_capability_data *cap = NULL;
	if ((s->imap_connection_info == NULL || s->imap_connection_info->imap_capability == NULL) &&
	    mailimap_capability(s, &cap) == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(cap);	/* a copy: the session keeps its own */
	*sp = s;
	return 0;
fail:
	mailimap_free(s);
	return -1;
}

static int
connect_(Imap *im)
{
	uint32_t validity;

	if (im->s)
		return 0;
	if (dial(im, &im->s, &validity) < 0)
		return -1;
	if (im->uidvalidity && validity != im->uidvalidity) {
		hangup(im);
		return seterr(ESTALE, "%s: the server renumbered the folder (UIDVALIDITY changed): open it again", im->u.text);
	}
	im->uidvalidity = validity;
	im->hasidle = mailimap_has_idle(im->s);
	im->hasuidplus = mailimap_has_uidplus(im->s);
	return 0;
}

/* a dropped connection, as opposed to a command the server refused */
static int
dropped(int r)
{
	return r == MAILIMAP_ERROR_STREAM || r == MAILIMAP_ERROR_PARSE || r == MAILIMAP_ERROR_FATAL;
}

/*
 * Run op on the connection, making it again once if it was dropped:
 * the libetpan result of op.
 */
static int
run(Imap *im, int (*op)(Imap *im, void *arg), void *arg, int *lib)
{
	for (int tries = 0; tries < 2; tries++) {
		if (connect_(im) < 0)
			return -1;
		*lib = op(im, arg);
		if (!dropped(*lib))
			return 0;
		hangup(im);
	}
	return imaperr(im, *lib, "connection lost twice");
}

/* ---- flags ---- */

static const struct {
	int	type;		/* MAILIMAP_FLAG_* */
	const char	*keyword;	/* for MAILIMAP_FLAG_KEYWORD */
	uint16_t	bit;
} flagmap[] = {
	{ MAILIMAP_FLAG_ANSWERED, NULL, Fanswered },
	{ MAILIMAP_FLAG_DELETED, NULL, Fdeleted },
	{ MAILIMAP_FLAG_DRAFT, NULL, Fdraft },
	{ MAILIMAP_FLAG_FLAGGED, NULL, Fflagged },
	{ MAILIMAP_FLAG_SEEN, NULL, Fseen },
	{ MAILIMAP_FLAG_KEYWORD, "$Junk", Fjunk },
	{ MAILIMAP_FLAG_KEYWORD, "$NotJunk", Fnotjunk },
};

static uint16_t
flagsof(struct mailimap_msg_att_dynamic *d)
{
	uint16_t f = 0;

	if (d == NULL || d->att_list == NULL)
		return 0;
	for (clistiter *c = clist_begin(d->att_list); c; c = clist_next(c)) {
		struct mailimap_flag_fetch *ff = clist_content(c);
		if (ff->fl_type == MAILIMAP_FLAG_FETCH_RECENT) {
			f |= Frecent;
			continue;
		}
		if (ff->fl_flag == NULL)
			continue;
		for (size_t i = 0; i < nelem(flagmap); i++)
			if (ff->fl_flag->fl_type == flagmap[i].type && (flagmap[i].keyword == NULL ||
			    strcasecmp(ff->fl_flag->fl_data.fl_keyword, flagmap[i].keyword) == 0))
				f |= flagmap[i].bit;
	}
	return f;
}

/* the IMAP flags among those we map whose bits in f are (set) or are not */
static struct mailimap_flag_list *
flaglist(uint16_t f, int set)
{
	struct mailimap_flag_list *l = mailimap_flag_list_new_empty();

	for (size_t i = 0; i < nelem(flagmap); i++)
		if (!!(f & flagmap[i].bit) == set)
			mailimap_flag_list_add(l, mailimap_flag_new(flagmap[i].type,
				flagmap[i].keyword ? strdup(flagmap[i].keyword) : NULL, NULL));
	return l;
}

/* ---- the index ---- */

static int64_t
internaldate(struct mailimap_date_time *d)
{
	struct tm tm = { .tm_year = d->dt_year - 1900, .tm_mon = d->dt_month - 1, .tm_mday = d->dt_day,
		.tm_hour = d->dt_hour, .tm_min = d->dt_min, .tm_sec = d->dt_sec };
	int zone = d->dt_zone;	/* +hhmm */
	int secs = (zone / 100) * 3600 + (zone % 100) * 60;

	return (int64_t)timegm(&tm) - secs;
}

/* the index entry a FETCH response describes; 0 if it names no UID */
static uint32_t
entryof(struct mailimap_msg_att *a, Msgent *e, const char **body, size_t *bodylen)
{
	memset(e, 0, sizeof *e);
	if (body)
		*body = NULL;
	for (clistiter *c = clist_begin(a->att_list); c; c = clist_next(c)) {
		struct mailimap_msg_att_item *it = clist_content(c);
		if (it->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
			e->flags = flagsof(it->att_data.att_dyn);
			continue;
		}
		if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		struct mailimap_msg_att_static *st = it->att_data.att_static;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			e->envhash = st->att_data.att_uid;
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			e->len = st->att_data.att_rfc822_size;
			break;
		case MAILIMAP_MSG_ATT_INTERNALDATE:
			e->date = internaldate(st->att_data.att_internal_date);
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			if (body && st->att_data.att_body_section->sec_body_part) {
				*body = st->att_data.att_body_section->sec_body_part;
				*bodylen = st->att_data.att_body_section->sec_length;
			}
			break;
		}
	}
	return e->envhash;
}

static int
cmpuid(const void *a, const void *b)
{
	uint32_t x = ((const Msgent *)a)->envhash, y = ((const Msgent *)b)->envhash;

	return x < y ? -1 : x > y;
}

typedef struct Fetch Fetch;
struct Fetch {
	struct mailimap_set	*set;
	struct mailimap_fetch_type	*type;
	clist	*result;
};

static int
opfetch(Imap *im, void *arg)
{
	Fetch *f = arg;

	f->result = NULL;
	return mailimap_uid_fetch(im->s, f->set, f->type, &f->result);
}

/* a FETCH of f, made again once over a dropped connection: 0, or -1 with the error set */
static int
uidfetch(Imap *im, Fetch *f, const char *what)
{
	int lib, r = run(im, opfetch, f, &lib);

	if (r == 0 && lib != MAILIMAP_NO_ERROR)
		r = imaperr(im, lib, what);
	return r;
}

/* all of f is libetpan's to free */
static void
fetchfree(Fetch *f)
{
	if (f->result)
		mailimap_fetch_list_free(f->result);
	if (f->type)
		mailimap_fetch_type_free(f->type);
	if (f->set)
		mailimap_set_free(f->set);
}

/* what to fetch: the UID, to tell the answers apart, and a */
static struct mailimap_fetch_type *
withuid(struct mailimap_fetch_att *a)
{
	struct mailimap_fetch_type *t = mailimap_fetch_type_new_fetch_att_list_empty();

	mailimap_fetch_type_new_fetch_att_list_add(t, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(t, a);
	return t;
}

static struct mailimap_fetch_type *
indextype(void)
{
	struct mailimap_fetch_type *t = withuid(mailimap_fetch_att_new_flags());

	mailimap_fetch_type_new_fetch_att_list_add(t, mailimap_fetch_att_new_internaldate());
	mailimap_fetch_type_new_fetch_att_list_add(t, mailimap_fetch_att_new_rfc822_size());
	return t;
}

/* the index entries of the messages with UIDs in [first, *], ascending */
static int
fetchindex(Imap *im, uint32_t first, Msgent **v, size_t *n)
{
	Fetch f = { mailimap_set_new_interval(first, 0), indextype(), NULL };
	int r = uidfetch(im, &f, "fetching the index");

	*v = NULL;
	*n = 0;
	if (r == 0 && f.result) {
		*v = xmalloc((clist_count(f.result) + 1) * sizeof **v);
		for (clistiter *c = clist_begin(f.result); c; c = clist_next(c))
			if (entryof(clist_content(c), &(*v)[*n], NULL, NULL) >= first)
				(*n)++;	/* "n:*" names the last message even below n */
		qsort(*v, *n, sizeof **v, cmpuid);
	}
	fetchfree(&f);
	return r;
}

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
static void
cacheopen(Imap *im)
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
static void
cacheput(Imap *im, uint32_t uid, const char *what, const char *p, size_t n)
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
static void
cachedrop(Imap *im, uint32_t uid)
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
static int
cacheget(Imap *im, uint32_t uid, const char *what, Buf *out)
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

static int
cached(Imap *im, uint32_t uid)
{
	char path[4096];

	if (im->cache == NULL)
		return 0;
	cachepath(im, uid, NULL, path, sizeof path);
	return access(path, F_OK) == 0;
}

/* ---- Boxops ---- */

static int
imapprobe(const char *path)
{
	return strncmp(path, "imap://", 7) == 0 || strncmp(path, "imaps://", 8) == 0;
}

static void imapclose(Box *b);

static int
imapopen(Box *b)
{
	Imap *im = xzalloc(sizeof *im);
	Msgent *v;
	size_t n;

	im->evfd = -1;
	b->aux = im;
	if (imap_parseurl(b->path, &im->u) < 0 || connect_(im) < 0)
		goto fail;
	cacheopen(im);
	uint32_t exists = im->s->imap_selection_info ? im->s->imap_selection_info->sel_exists : 1;
	if (exists > 0) {
		if (fetchindex(im, 1, &v, &n) < 0)
			goto fail;
		for (size_t i = 0; i < n; i++)
			box_add(b, &v[i]);
		free(v);
	}
	return 0;
fail:
	imapclose(b);
	return -1;
}

static void
imapclose(Box *b)
{
	Imap *im = b->aux;

	if (im == NULL)
		return;
	if (im->idling) {
		pthread_cancel(im->idler);
		pthread_join(im->idler, NULL);
	}
	if (im->s) {
		mailimap_set_timeout(im->s, 5);	/* a polite goodbye, not a wait */
		mailimap_logout(im->s);
	}
	hangup(im);
	imap_freeurl(&im->u);
	for (int i = 0; i < Hdrrun; i++)
		buffree(&im->hdr[i]);
	forgetbs(im);
	free(im->cache);
	free(im);
	b->aux = NULL;
}

/* LF line ends, as the model wants them */
static void
keep(Buf *raw, const char *p, size_t n)
{
	bufreset(raw);
	bufadd(raw, p, n);
	raw->n = crlftolf(raw->p, raw->n);
	raw->p[raw->n] = 0;
}

/*
 * Which way the reader goes, from the last two misses of a kind (0
 * headers, 1 messages): 1 on, -1 back, as acme Mail reads a box, newest
 * first.  Runs of fetches follow it.
 */
static int
backward(Imap *im, int kind, size_t i)
{
	int step = im->lastmiss[kind] > i ? -1 : 1;

	im->lastmiss[kind] = i;
	return step;
}

/* the UIDs of len messages from index i on, or up to it if the reader goes back */
static struct mailimap_set *
runset(Box *b, int kind, size_t i, size_t len)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t lo = backward(b->aux, kind, i) < 0 ? (i >= len - 1 ? i - (len - 1) : 0) : i;

	for (size_t k = lo; k < b->nmsgs && k < lo + len; k++)
		mailimap_set_add_single(set, b->msgs[k].envhash);
	return set;
}

/*
 * Fetch the message at index i and the next ones not cached yet, in
 * one command: each goes to the cache, and i's to raw.
 */
static int
fetchrun(Box *b, size_t i, Buf *raw)
{
	Imap *im = b->aux;
	struct mailimap_set *set = mailimap_set_new_empty();
	uint64_t bytes = 0;
	uint32_t want = b->msgs[i].envhash;
	int found = 0;

	int step = backward(im, 1, i);
	for (size_t k = i, n = 0; k < b->nmsgs && n < Readahead && (k == i || bytes < Readbytes); k += step) {
		if (k == i || (im->cache && !cached(im, b->msgs[k].envhash))) {
			mailimap_set_add_single(set, b->msgs[k].envhash);
			bytes += b->msgs[k].len;
			n++;
		}
		if (k == 0 && step < 0)
			break;
	}
	Fetch f = { set, withuid(mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL))), NULL };
	int r = uidfetch(im, &f, "fetching a message");
	for (clistiter *c = r == 0 && f.result ? clist_begin(f.result) : NULL; c; c = clist_next(c)) {
		Msgent e;
		const char *body;
		size_t len;
		uint32_t uid = entryof(clist_content(c), &e, &body, &len);
		if (uid == 0 || body == NULL)
			continue;
		if (uid == want) {
			keep(raw, body, len);
			cacheput(im, uid, NULL, raw->p, raw->n);
			found = 1;
		} else if (im->cache) {
			Buf tmp = { 0 };
			keep(&tmp, body, len);
			cacheput(im, uid, NULL, tmp.p, tmp.n);
			buffree(&tmp);
		}
	}
	if (r == 0 && !found)
		r = seterr(ENOENT, "%s: message %u is gone from the server", im->u.text, want);
	fetchfree(&f);
	return r;
}

static int
imapfetch(Box *b, const Msgent *m, Buf *raw, Buf *env)
{
	Imap *im = b->aux;

	bufreset(env);
	if (cacheget(im, m->envhash, NULL, raw) == 0)
		return 0;
	return fetchrun(b, m - b->msgs, raw);
}

/*
 * The header alone, for the files made from it: from the cache if the
 * whole message is there, else from the last run of headers, else a
 * new run of them from this message on (BODY.PEEK[HEADER]), so reading
 * the subjects of a folder costs a round trip per Hdrrun messages and
 * none of their bodies.
 */
static void
forgetrun(Imap *im)
{
	for (int k = 0; k < Hdrrun; k++) {
		im->hdruid[k] = 0;
		bufreset(&im->hdr[k]);
	}
}

static void
forgetbs(Imap *im)
{
	for (int k = 0; k < Bsrun; k++) {
		im->bsuid[k] = 0;
		if (im->bs[k])
			mailimap_body_free(im->bs[k]);
		im->bs[k] = NULL;
	}
}

static int
imapfetchhdr(Box *b, const Msgent *m, Buf *raw, int *whole)
{
	Imap *im = b->aux;
	size_t i = m - b->msgs;

	*whole = 0;
	if (cacheget(im, m->envhash, NULL, raw) == 0)
		return *whole = 1, 0;
	for (int k = 0; k < Hdrrun; k++)
		if (im->hdruid[k] == m->envhash && im->hdr[k].n) {
			keep(raw, im->hdr[k].p, im->hdr[k].n);
			return 0;
		}
	Fetch f = { runset(b, 0, i, Hdrrun), withuid(mailimap_fetch_att_new_body_peek_section(mailimap_section_new_header())), NULL };
	int r = uidfetch(im, &f, "fetching headers"), n = 0, found = 0;
	forgetrun(im);
	for (clistiter *c = r == 0 && f.result ? clist_begin(f.result) : NULL; c && n < Hdrrun; c = clist_next(c)) {
		Msgent e;
		const char *h;
		size_t len;
		uint32_t uid = entryof(clist_content(c), &e, &h, &len);
		if (uid == 0 || h == NULL)
			continue;
		im->hdruid[n] = uid;
		bufadd(&im->hdr[n], h, len);
		if (uid == m->envhash) {
			keep(raw, h, len);
			found = 1;
		}
		n++;
	}
	if (r == 0 && !found)
		r = seterr(ENOENT, "%s: message %u is gone from the server", im->u.text, m->envhash);
	fetchfree(&f);
	return r;
}

/* ---- parts: a skeleton of the tree, then the sections asked for ---- */

/* "2.1" as libetpan's section part */
static struct mailimap_section_part *
sectionpart(const char *s)
{
	clist *ids = clist_new();

	for (const char *p = s; *p;) {
		uint32_t *id = xmalloc(sizeof *id);
		*id = strtoul(p, (char **)&p, 10);
		clist_append(ids, id);
		if (*p == '.')
			p++;
		else if (*p)
			break;
	}
	return mailimap_section_part_new(ids);
}

/* the name of a section in a FETCH response: "2.1", "2.1.MIME", "2.HEADER" */
static void
sectionkey(struct mailimap_section *sec, Buf *out)
{
	bufreset(out);
	bufadd(out, "", 0);
	if (sec == NULL || sec->sec_spec == NULL || sec->sec_spec->sec_type != MAILIMAP_SECTION_SPEC_SECTION_PART)
		return;
	for (clistiter *c = clist_begin(sec->sec_spec->sec_data.sec_part->sec_id); c; c = clist_next(c))
		bufprint(out, "%s%u", out->n ? "." : "", *(uint32_t *)clist_content(c));
	struct mailimap_section_text *t = sec->sec_spec->sec_text;
	if (t)
		bufputs(out, t->sec_type == MAILIMAP_SECTION_TEXT_MIME ? ".MIME" : ".HEADER");
}

struct Sections {
	struct mailimap_fetch_type	*type;
	char	**key;		/* "2.1.MIME": what was asked */
	Buf	*val;		/* what came; NULL p until it came */
	int	n;
};

static void
want(void *arg, const char *section, const char *what)
{
	Sections *ss = arg;
	Buf k = { 0 };
	struct mailimap_section_part *sp = sectionpart(section);

	bufprint(&k, "%s.%s", section, what);
	ss->key = xrealloc(ss->key, (ss->n + 1) * sizeof *ss->key);
	ss->val = xrealloc(ss->val, (ss->n + 1) * sizeof *ss->val);
	ss->key[ss->n] = k.p;
	ss->val[ss->n++] = (Buf){ 0 };
	mailimap_fetch_type_new_fetch_att_list_add(ss->type, mailimap_fetch_att_new_body_peek_section(
		strcmp(what, "MIME") == 0 ? mailimap_section_new_part_mime(sp) : mailimap_section_new_part_header(sp)));
}

static const char *
got(void *arg, const char *section, const char *what)
{
	Sections *ss = arg;
	char k[256];

	snprintf(k, sizeof k, "%s.%s", section, what);
	for (int i = 0; i < ss->n; i++)
		if (strcmp(ss->key[i], k) == 0)
			return ss->val[i].p ? ss->val[i].p : "";
	return "";
}

/* the sections of one FETCH response, each as LF text */
static void
takesections(struct mailimap_msg_att *a, Sections *ss, struct mailimap_body **bs)
{
	Buf k = { 0 };

	for (clistiter *c = clist_begin(a->att_list); c; c = clist_next(c)) {
		struct mailimap_msg_att_item *it = clist_content(c);
		if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		struct mailimap_msg_att_static *st = it->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_BODYSTRUCTURE && bs) {
			*bs = st->att_data.att_bodystructure;
			st->att_data.att_bodystructure = NULL;	/* ours now */
		}
		if (st->att_type != MAILIMAP_MSG_ATT_BODY_SECTION || ss == NULL)
			continue;
		sectionkey(st->att_data.att_body_section->sec_section, &k);
		for (int i = 0; i < ss->n; i++)
			if (strcmp(ss->key[i], k.p) == 0 && ss->val[i].p == NULL) {
				struct mailimap_msg_att_body_section *bsec = st->att_data.att_body_section;
				keep(&ss->val[i], bsec->sec_body_part ? bsec->sec_body_part : "",
					bsec->sec_body_part ? bsec->sec_length : 0);
			}
	}
	buffree(&k);
}

/* one FETCH of t for the message with UID uid; its response to take */
static int
fetchone(Imap *im, uint32_t uid, struct mailimap_fetch_type *t, Sections *ss, struct mailimap_body **bs)
{
	Fetch f = { mailimap_set_new_single(uid), t, NULL };
	int r = uidfetch(im, &f, "fetching a message's parts");

	if (r == 0 && (f.result == NULL || clist_begin(f.result) == NULL))
		r = seterr(ENOENT, "%s: message %u is gone from the server", im->u.text, uid);
	if (r == 0)
		takesections(clist_content(clist_begin(f.result)), ss, bs);
	f.type = NULL;	/* the caller's */
	fetchfree(&f);
	return r;
}

static struct mailimap_body *
takebs(Imap *im, uint32_t uid)
{
	for (int k = 0; k < Bsrun; k++)
		if (im->bsuid[k] == uid && im->bs[k]) {
			struct mailimap_body *bs = im->bs[k];
			im->bs[k] = NULL;
			return bs;
		}
	return NULL;
}

/*
 * The BODYSTRUCTUREs of a run of messages from index i, the way the
 * reader goes, in one command: a listing of every message's parts
 * costs a round trip per Bsrun messages for them.
 */
static int
bsrun(Box *b, size_t i)
{
	Imap *im = b->aux;
	Fetch f = { runset(b, 2, i, Bsrun), withuid(mailimap_fetch_att_new_bodystructure()), NULL };
	int r = uidfetch(im, &f, "fetching message structures"), n = 0;

	forgetbs(im);
	for (clistiter *c = r == 0 && f.result ? clist_begin(f.result) : NULL; c && n < Bsrun; c = clist_next(c)) {
		Msgent e;
		uint32_t uid = entryof(clist_content(c), &e, NULL, NULL);
		if (uid == 0)
			continue;
		im->bsuid[n] = uid;
		takesections(clist_content(c), NULL, &im->bs[n]);
		n++;
	}
	fetchfree(&f);
	return r;
}

/*
 * The skeleton (imap_skel.c) of message m: its header, BODYSTRUCTURE in
 * one round trip, every part's header in a second.  1 when the message
 * has none (too deep, no boundary): it is then parsed whole.
 */
static int
imapfetchskel(Box *b, const Msgent *m, Buf *skel)
{
	Imap *im = b->aux;
	Buf top = { 0 };
	struct mailimap_body *bs = NULL;
	Sections ss = { 0 };
	int whole, r;

	if (cacheget(im, m->envhash, "skel", skel) == 0)
		return skel->n ? 0 : 1;	/* an empty one: it has none */
	if ((r = imapfetchhdr(b, m, &top, &whole)) < 0)
		goto out;
	if (whole) {	/* the cache had the whole message: its header */
		size_t hl, bo;
		hdrsplit(top.p, top.n, &hl, &bo);
		top.n = hl ? bo : 0;	/* the header with its blank line */
		top.p[top.n] = 0;
	}
	if ((bs = takebs(im, m->envhash)) == NULL) {
		if ((r = bsrun(b, m - b->msgs)) < 0)
			goto out;
		bs = takebs(im, m->envhash);
	}
	if (bs == NULL) {
		r = seterr(EPROTO, "%s: no BODYSTRUCTURE for message %u", im->u.text, m->envhash);
		goto out;
	}
	ss.type = mailimap_fetch_type_new_fetch_att_list_empty();
	imap_skelwants(bs, want, &ss);
	if (ss.n > 0 && (r = fetchone(im, m->envhash, ss.type, &ss, NULL)) < 0)
		goto out;
	Skelhdrs hs = { got, &ss };
	bufreset(skel);
	r = imap_skeleton(skel, top.p, bs, &hs) < 0 ? 1 : 0;
	if (r == 1)
		bufreset(skel);
	bufadd(skel, "", 0);
	cacheput(im, m->envhash, "skel", skel->p, skel->n - (skel->n > 0 && r == 1));
out:
	for (int i = 0; i < ss.n; i++) {
		free(ss.key[i]);
		buffree(&ss.val[i]);
	}
	free(ss.key);
	free(ss.val);
	if (ss.type)
		mailimap_fetch_type_free(ss.type);
	if (bs)
		mailimap_body_free(bs);
	buffree(&top);
	return r;
}

/* the bytes of one section, as stored (transfer-encoded), LF line ends */
static int
imapfetchpart(Box *b, const Msgent *m, const char *section, Buf *out)
{
	Imap *im = b->aux;
	Sections ss = { 0 };

	if (cacheget(im, m->envhash, section, out) == 0)
		return 0;
	ss.type = mailimap_fetch_type_new_fetch_att_list_empty();
	ss.key = xmalloc(sizeof *ss.key);
	ss.val = xmalloc(sizeof *ss.val);
	ss.key[0] = xstrdup(section);
	ss.val[0] = (Buf){ 0 };
	ss.n = 1;
	mailimap_fetch_type_new_fetch_att_list_add(ss.type,
		mailimap_fetch_att_new_body_peek_section(mailimap_section_new_part(sectionpart(section))));
	int r = fetchone(im, m->envhash, ss.type, &ss, NULL);
	if (r == 0) {
		bufreset(out);
		bufadd(out, ss.val[0].p ? ss.val[0].p : "", ss.val[0].n);
		cacheput(im, m->envhash, section, out->p, out->n);
	}
	free(ss.key[0]);
	buffree(&ss.val[0]);
	free(ss.key);
	free(ss.val);
	mailimap_fetch_type_free(ss.type);
	return r;
}

typedef struct Search Search;
struct Search {
	clist	*result;
};

static int
opsearch(Imap *im, void *arg)
{
	Search *s = arg;
	struct mailimap_search_key *all = mailimap_search_key_new_all();

	s->result = NULL;
	int r = mailimap_uid_search(im->s, NULL, all, &s->result);
	mailimap_search_key_free(all);
	return r;
}

static int
opnoop(Imap *im, void *arg)
{
	int *changed = arg;
	struct mailimap_response_info *ri;
	int r = mailimap_noop(im->s);

	ri = im->s->imap_response_info;
	*changed = ri && ri->rsp_expunged && clist_count(ri->rsp_expunged) > 0;
	return r;
}

static int
cmpu32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* drop the index entries whose UIDs the server no longer has */
static int
dropgone(Box *b)
{
	Imap *im = b->aux;
	Search s = { NULL };
	int lib, r = run(im, opsearch, &s, &lib);

	if (r == 0 && lib != MAILIMAP_NO_ERROR)
		r = imaperr(im, lib, "listing the folder");
	if (r < 0)
		return -1;
	size_t n = 0;
	uint32_t *have = xmalloc((clist_count(s.result) + 1) * sizeof *have);
	for (clistiter *c = clist_begin(s.result); c; c = clist_next(c))
		have[n++] = *(uint32_t *)clist_content(c);
	mailimap_search_result_free(s.result);
	qsort(have, n, sizeof *have, cmpu32);
	size_t k = 0;
	for (size_t i = 0; i < b->nmsgs; i++)
		if (bsearch(&b->msgs[i].envhash, have, n, sizeof *have, cmpu32))
			b->msgs[k++] = b->msgs[i];
	if (k != b->nmsgs)
		b->vers++;
	b->nmsgs = k;
	free(have);
	return 0;
}

static int
imapsync(Box *b)
{
	Imap *im = b->aux;
	int changed = 0, lib;

	if (run(im, opnoop, &changed, &lib) < 0)
		return -1;
	uint32_t exists = im->s->imap_selection_info ? im->s->imap_selection_info->sel_exists : 0;
	if (!changed && exists == b->nmsgs)
		return 0;
	if (dropgone(b) < 0)
		return -1;
	uint32_t last = b->nmsgs ? b->msgs[b->nmsgs - 1].envhash : 0;
	Msgent *v;
	size_t n;
	if (exists > 0 && fetchindex(im, last + 1, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++)
			box_add(b, &v[i]);
		if (n)
			b->vers++;
		free(v);
	}
	return 0;
}

typedef struct Store Store;
struct Store {
	struct mailimap_set	*set;
	struct mailimap_store_att_flags	*att;
};

static int
opstore(Imap *im, void *arg)
{
	Store *s = arg;

	return mailimap_uid_store(im->s, s->set, s->att);
}

static int
opexpunge(Imap *im, void *arg)
{
	return im->hasuidplus ? mailimap_uid_expunge(im->s, arg) : mailimap_expunge(im->s);
}

/* add (sign 1) or take away (0) the flags of list on the messages of set */
static int
store(Imap *im, struct mailimap_set *set, struct mailimap_flag_list *list, int sign)
{
	Store s = { set, sign ? mailimap_store_att_flags_new_add_flags_silent(list) :
		mailimap_store_att_flags_new_remove_flags_silent(list) };
	int lib, r = run(im, opstore, &s, &lib);

	if (r == 0 && lib != MAILIMAP_NO_ERROR)
		r = imaperr(im, lib, "storing flags");
	mailimap_store_att_flags_free(s.att);
	return r;
}

/* the flags of one dirty message: what it has added, what it lacks taken away */
static int
storeflags(Imap *im, Msgent *e)
{
	struct mailimap_set *set = mailimap_set_new_single(e->envhash);
	int r = store(im, set, flaglist(e->flags, 1), 1);

	if (r == 0)
		r = store(im, set, flaglist(e->flags, 0), 0);
	mailimap_set_free(set);
	if (r == 0)
		e->dirty = 0;
	return r;
}

/*
 * Deletes are \Deleted and an expunge of just those UIDs where the
 * server has UIDPLUS; without it a plain EXPUNGE also removes what
 * another client had marked \Deleted, as every client then does.
 */
static int
imapremove(Box *b, const uint32_t *ids, size_t n)
{
	Imap *im = b->aux;
	int r = 0;

	for (size_t i = 0; i < b->nmsgs && r == 0; i++)
		if (b->msgs[i].dirty)
			r = storeflags(im, &b->msgs[i]);
	if (r < 0 || n == 0)
		return r;
	struct mailimap_set *set = mailimap_set_new_empty();
	for (size_t i = 0; i < n; i++) {
		Msgent *e = box_msg(b, ids[i]);
		if (e)
			mailimap_set_add_single(set, e->envhash);
	}
	struct mailimap_flag_list *del = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(del, mailimap_flag_new_deleted());
	int lib;
	if ((r = store(im, set, del, 1)) == 0 && (r = run(im, opexpunge, set, &lib)) == 0 && lib != MAILIMAP_NO_ERROR)
		r = imaperr(im, lib, "expunging");
	mailimap_set_free(set);
	if (r < 0)
		return r;
	size_t k = 0;
	for (size_t i = 0; i < b->nmsgs; i++) {
		int gone = 0;
		for (size_t j = 0; j < n && !gone; j++)
			gone = b->msgs[i].id == ids[j];
		if (gone)
			cachedrop(im, b->msgs[i].envhash);
		if (!gone)
			b->msgs[k++] = b->msgs[i];
	}
	b->nmsgs = k;
	b->vers++;
	return 0;
}

/* ---- new mail: the idler ---- */

static void
stir(Imap *im)
{
	uint64_t one = 1;

	if (write(im->evfd, &one, sizeof one) < 0) {}
}

static void
dropconn(void *arg)
{
	mailimap **s = arg;

	if (*s)
		mailimap_free(*s);
}

/*
 * Its own connection sits in IDLE; anything the server says there
 * means a look is due.  A drop is redialled after a pause, and stirs
 * too, since mail may have come meanwhile.
 */
static void *
idler(void *arg)
{
	Imap *im = arg;
	mailimap *s = NULL;
	uint32_t validity;

	pthread_cleanup_push(dropconn, &s);
	for (;;) {
		int old;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		if (s == NULL && dial(im, &s, &validity) < 0)
			s = NULL;
		int ok = s && mailimap_idle(s) == MAILIMAP_NO_ERROR;
		pthread_setcancelstate(old, NULL);
		if (!ok) {
			if (s)
				mailimap_free(s);
			s = NULL;
			sleep(5);
			stir(im);
			continue;
		}
		struct pollfd p = { mailimap_idle_get_fd(s), POLLIN, 0 };
		int r = poll(&p, 1, Idlesecs * 1000);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		if (mailimap_idle_done(s) != MAILIMAP_NO_ERROR) {
			mailimap_free(s);
			s = NULL;
			r = 1;
		}
		pthread_setcancelstate(old, NULL);
		if (r != 0)
			stir(im);
	}
	pthread_cleanup_pop(1);
	return NULL;
}

/*
 * Servers cap a user's connections (Dovecot at 10), so only the first
 * folder watched on a server gets a connection to sit in IDLE; the
 * others have the watcher's periodic look.
 */
static int
firstonserver(Imap *im)
{
	static char **servers;
	static size_t n;
	char key[1024];

	snprintf(key, sizeof key, "%s@%s:%d", im->u.user, im->u.host, im->u.port);
	for (size_t i = 0; i < n; i++)
		if (strcmp(servers[i], key) == 0)
			return 0;
	servers = xrealloc(servers, (n + 1) * sizeof *servers);
	servers[n++] = xstrdup(key);
	return 1;
}

static int
imapwatch(Box *b)
{
	Imap *im = b->aux;

	if (!im->hasidle || !firstonserver(im))
		return -1;	/* the watcher's periodic look will do */
	im->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (im->evfd < 0)
		return -1;
	if (pthread_create(&im->idler, NULL, idler, im) != 0) {
		close(im->evfd);
		return im->evfd = -1;
	}
	im->idling = 1;
	return im->evfd;
}

/* Boxops.beside: the folder name on b's server, as a URL */
static char *
imapbeside(Box *b, const char *name)
{
	const char *host = strstr(b->path, "://") + 3, *slash = strchr(host, '/');
	Buf u = { 0 };

	bufprint(&u, "%.*s/%s", (int)((slash ? slash : host + strlen(host)) - b->path), b->path, name);
	return u.p;
}

const Boxops imapops = {
	.name = "imap",
	.probe = imapprobe,
	.open = imapopen,
	.close = imapclose,
	.fetch = imapfetch,
	.fetchhdr = imapfetchhdr,
	.fetchskel = imapfetchskel,
	.fetchpart = imapfetchpart,
	.sync = imapsync,
	.commit = imapremove,
	.beside = imapbeside,
	.watch = imapwatch,
	.indexflags = 1,
};
