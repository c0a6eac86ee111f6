/*
 * The IMAP backend's connection and commands: dialling and logging in,
 * running a command again on a connection made anew, flags both ways,
 * and UID FETCH of the index.
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

static const char *
said(mailimap *s)
{
	return s && s->imap_response && *s->imap_response ? s->imap_response : "no reason given";
}

int
imaperr(Imap *im, int r, const char *what)
{
	const char *why = r == MAILIMAP_ERROR_STREAM ? "connection lost" :
		r == MAILIMAP_ERROR_CONNECTION_REFUSED ? "connection refused" :
		r == MAILIMAP_ERROR_SSL ? "TLS handshake failed" : said(im->s);
	return seterr(r == MAILIMAP_ERROR_STREAM ? EIO : EPROTO, "%s: %s: %s", im->u.text, what, why);
}

void
imap_hangup(Imap *im)
{
	if (im->s) {
		mailimap_free(im->s);
		im->s = NULL;
	}
}

/*
 * libetpan reads a literal until it has all of it and takes a read of
 * nothing (the server gone) as "more to come": a connection cut in the
 * middle of a literal spins there for ever, the folder locked.  So the
 * stream's end is made an error, by a driver that is the stream's own
 * (socket or TLS) but for its read.
 */
static struct {
	mailstream_low_driver	*orig;
	mailstream_low_driver	copy;
} guards[4];
static int nguards;
static pthread_mutex_t guardlock = PTHREAD_MUTEX_INITIALIZER;

static ssize_t
guardedread(mailstream_low *low, void *buf, size_t n)
{
	for (int i = 0; i < nguards; i++)
		if (low->driver == &guards[i].copy) {
			ssize_t r = guards[i].orig->mailstream_read(low, buf, n);
			return r == 0 && n > 0 ? -1 : r;
		}
	return -1;
}

static void
guardeof(mailstream *st)
{
	mailstream_low *low = st ? st->low : NULL;
	int i;

	if (low == NULL || low->driver == NULL)
		return;
	pthread_mutex_lock(&guardlock);
	for (i = 0; i < nguards && guards[i].orig != low->driver && &guards[i].copy != low->driver; i++)
		;
	if (i == nguards && i < (int)nelem(guards)) {
		guards[i].orig = low->driver;
		guards[i].copy = *low->driver;
		guards[i].copy.mailstream_read = guardedread;
		nguards++;
	}
	if (i < nguards)
		low->driver = &guards[i].copy;
	pthread_mutex_unlock(&guardlock);
}

/* log in and select the folder; the UIDVALIDITY must not change under us */
int
imap_dial(Imap *im, mailimap **sp, uint32_t *validity)
{
	Cred cred = { 0 };
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
	guardeof(s->imap_stream);
	if (box_credential(im->u.tls ? "imaps" : "imap", im->u.host, im->u.user, 0, &cred) < 0) {
		r = -1;
		goto fail;
	}
	if (cred.token) {
		r = imap_tokenlogin(s, &im->u, &cred);
		box_credfree(&cred);
		if (r < 0)
			goto fail;
	} else {
		r = mailimap_login(s, im->u.user, cred.secret.p);
		box_credfree(&cred);
	}
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

int
imap_connect(Imap *im)
{
	uint32_t validity;

	if (im->s)
		return 0;
	if (imap_dial(im, &im->s, &validity) < 0)
		return -1;
	if (im->uidvalidity && validity != im->uidvalidity) {
		imap_hangup(im);
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
int
imap_run(Imap *im, int (*op)(Imap *im, void *arg), void *arg, int *lib)
{
	for (int tries = 0; tries < 2; tries++) {
		if (imap_connect(im) < 0)
			return -1;
		*lib = op(im, arg);
		if (!dropped(*lib))
			return 0;
		imap_hangup(im);
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
struct mailimap_flag_list *
imap_flaglist(uint16_t f, int set)
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
uint32_t
imap_entryof(struct mailimap_msg_att *a, Msgent *e, const char **body, size_t *bodylen)
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
			e->key = st->att_data.att_uid;
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
	return e->key;
}

static int
cmpuid(const void *a, const void *b)
{
	uint32_t x = ((const Msgent *)a)->key, y = ((const Msgent *)b)->key;

	return x < y ? -1 : x > y;
}


static int
opfetch(Imap *im, void *arg)
{
	Fetch *f = arg;

	f->result = NULL;
	return mailimap_uid_fetch(im->s, f->set, f->type, &f->result);
}

/* a FETCH of f, made again once over a dropped connection: 0, or -1 with the error set */
int
imap_uidfetch(Imap *im, Fetch *f, const char *what)
{
	int lib, r = imap_run(im, opfetch, f, &lib);

	if (r == 0 && lib != MAILIMAP_NO_ERROR)
		r = imaperr(im, lib, what);
	return r;
}

/* all of f is libetpan's to free */
void
imap_fetchfree(Fetch *f)
{
	if (f->result)
		mailimap_fetch_list_free(f->result);
	if (f->type)
		mailimap_fetch_type_free(f->type);
	if (f->set)
		mailimap_set_free(f->set);
}

/* what to fetch: the UID, to tell the answers apart, and a */
struct mailimap_fetch_type *
imap_withuid(struct mailimap_fetch_att *a)
{
	struct mailimap_fetch_type *t = mailimap_fetch_type_new_fetch_att_list_empty();

	mailimap_fetch_type_new_fetch_att_list_add(t, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(t, a);
	return t;
}

static struct mailimap_fetch_type *
indextype(void)
{
	struct mailimap_fetch_type *t = imap_withuid(mailimap_fetch_att_new_flags());

	mailimap_fetch_type_new_fetch_att_list_add(t, mailimap_fetch_att_new_internaldate());
	mailimap_fetch_type_new_fetch_att_list_add(t, mailimap_fetch_att_new_rfc822_size());
	return t;
}

typedef struct Listing Listing;
struct Listing {
	const char	*what;
	size_t	done, total;
};

/*
 * Called by libetpan for each response it parses (its own counts are
 * 0 here): the FETCH answers so far, of the folder's EXISTS.
 */
static void
listed(size_t current, size_t max, void *arg)
{
	Listing *l = arg;

	(void)current;
	(void)max;
	l->done++;
	if (l->total > 0)	/* the end is told after the whole answer */
		box_progress(l->what, "list", l->done < l->total ? l->done : l->total - 1, l->total);
}

/* the index entries of the messages with UIDs in [first, *], ascending */
int
imap_fetchindex(Imap *im, uint32_t first, Msgent **v, size_t *n)
{
	Fetch f = { mailimap_set_new_interval(first, 0), indextype(), NULL };
	Listing l = { im->u.text, 0, im->s && im->s->imap_selection_info ? im->s->imap_selection_info->sel_exists : 0 };

	box_progress(l.what, "list", 0, l.total);	/* the work starts: its clock too */
	if (im->s)
		mailimap_set_progress_callback(im->s, NULL, listed, &l);
	int r = imap_uidfetch(im, &f, "fetching the index");
	if (im->s)
		mailimap_set_progress_callback(im->s, NULL, NULL, NULL);
	box_progress(l.what, "list", l.total, l.total);

	*v = NULL;
	*n = 0;
	if (r == 0 && f.result) {
		*v = xmalloc((clist_count(f.result) + 1) * sizeof **v);
		for (clistiter *c = clist_begin(f.result); c; c = clist_next(c))
			if (imap_entryof(clist_content(c), &(*v)[*n], NULL, NULL) >= first)
				(*n)++;	/* "n:*" names the last message even below n */
		qsort(*v, *n, sizeof **v, cmpuid);
	}
	imap_fetchfree(&f);
	return r;
}

