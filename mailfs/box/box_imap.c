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
 * so a second open is local.  Msgent.key holds the UID.
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
#include "box/box.h"
#include "box_imap.h"

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
	if (imap_parseurl(b->path, &im->u) < 0 || imap_connect(im) < 0)
		goto fail;
	imap_cacheopen(im);
	uint32_t exists = im->s->imap_selection_info ? im->s->imap_selection_info->sel_exists : 1;
	if (exists > 0) {
		if (imap_fetchindex(im, 1, &v, &n) < 0)
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
	imap_hangup(im);
	imap_freeurl(&im->u);
	for (int i = 0; i < Hdrrun; i++)
		buffree(&im->hdr[i]);
	imap_forgetbs(im);
	free(im->cache);
	free(im);
	b->aux = NULL;
}

/* LF line ends, as the model wants them */
void
imap_keep(Buf *raw, const char *p, size_t n)
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
struct mailimap_set *
imap_runset(Box *b, int kind, size_t i, size_t len)
{
	struct mailimap_set *set = mailimap_set_new_empty();
	size_t lo = backward(b->aux, kind, i) < 0 ? (i >= len - 1 ? i - (len - 1) : 0) : i;

	for (size_t k = lo; k < b->nmsgs && k < lo + len; k++)
		mailimap_set_add_single(set, b->msgs[k].key);
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
	uint32_t want = b->msgs[i].key;
	int found = 0;

	int step = backward(im, 1, i);
	for (size_t k = i, n = 0; k < b->nmsgs && n < Readahead && (k == i || bytes < Readbytes); k += step) {
		if (k == i || (im->cache && !imap_cached(im, b->msgs[k].key))) {
			mailimap_set_add_single(set, b->msgs[k].key);
			bytes += b->msgs[k].len;
			n++;
		}
		if (k == 0 && step < 0)
			break;
	}
	Fetch f = { set, imap_withuid(mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL))), NULL };
	int r = imap_uidfetch(im, &f, "fetching a message");
	for (clistiter *c = r == 0 && f.result ? clist_begin(f.result) : NULL; c; c = clist_next(c)) {
		Msgent e;
		const char *body;
		size_t len;
		uint32_t uid = imap_entryof(clist_content(c), &e, &body, &len);
		if (uid == 0 || body == NULL)
			continue;
		if (uid == want) {
			imap_keep(raw, body, len);
			imap_cacheput(im, uid, NULL, raw->p, raw->n);
			found = 1;
		} else if (im->cache) {
			Buf tmp = { 0 };
			imap_keep(&tmp, body, len);
			imap_cacheput(im, uid, NULL, tmp.p, tmp.n);
			buffree(&tmp);
		}
	}
	if (r == 0 && !found)
		r = seterr(ENOENT, "%s: message %u is gone from the server", im->u.text, want);
	imap_fetchfree(&f);
	return r;
}

static int
imapfetch(Box *b, const Msgent *m, Buf *raw, Buf *env)
{
	Imap *im = b->aux;

	bufreset(env);
	if (imap_cacheget(im, m->key, NULL, raw) == 0)
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

void
imap_forgetbs(Imap *im)
{
	for (int k = 0; k < Bsrun; k++) {
		im->bsuid[k] = 0;
		if (im->bs[k])
			mailimap_body_free(im->bs[k]);
		im->bs[k] = NULL;
	}
}

int
imapfetchhdr(Box *b, const Msgent *m, Buf *raw, int *whole)
{
	Imap *im = b->aux;
	size_t i = m - b->msgs;

	*whole = 0;
	if (imap_cacheget(im, m->key, NULL, raw) == 0)
		return *whole = 1, 0;
	for (int k = 0; k < Hdrrun; k++)
		if (im->hdruid[k] == m->key && im->hdr[k].n) {
			imap_keep(raw, im->hdr[k].p, im->hdr[k].n);
			return 0;
		}
	Fetch f = { imap_runset(b, 0, i, Hdrrun), imap_withuid(mailimap_fetch_att_new_body_peek_section(mailimap_section_new_header())), NULL };
	int r = imap_uidfetch(im, &f, "fetching headers"), n = 0, found = 0;
	forgetrun(im);
	for (clistiter *c = r == 0 && f.result ? clist_begin(f.result) : NULL; c && n < Hdrrun; c = clist_next(c)) {
		Msgent e;
		const char *h;
		size_t len;
		uint32_t uid = imap_entryof(clist_content(c), &e, &h, &len);
		if (uid == 0 || h == NULL)
			continue;
		im->hdruid[n] = uid;
		bufadd(&im->hdr[n], h, len);
		if (uid == m->key) {
			imap_keep(raw, h, len);
			found = 1;
		}
		n++;
	}
	if (r == 0 && !found)
		r = seterr(ENOENT, "%s: message %u is gone from the server", im->u.text, m->key);
	imap_fetchfree(&f);
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
	int lib, r = imap_run(im, opsearch, &s, &lib);

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
		if (bsearch(&b->msgs[i].key, have, n, sizeof *have, cmpu32))
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

	if (imap_run(im, opnoop, &changed, &lib) < 0)
		return -1;
	uint32_t exists = im->s->imap_selection_info ? im->s->imap_selection_info->sel_exists : 0;
	if (!changed && exists == b->nmsgs)
		return 0;
	if (dropgone(b) < 0)
		return -1;
	uint32_t last = b->nmsgs ? b->msgs[b->nmsgs - 1].key : 0;
	Msgent *v;
	size_t n;
	if (exists > 0 && imap_fetchindex(im, last + 1, &v, &n) == 0) {
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
	int lib, r = imap_run(im, opstore, &s, &lib);

	if (r == 0 && lib != MAILIMAP_NO_ERROR)
		r = imaperr(im, lib, "storing flags");
	mailimap_store_att_flags_free(s.att);
	return r;
}

/* the flags of one dirty message: what it has added, what it lacks taken away */
static int
storeflags(Imap *im, Msgent *e)
{
	struct mailimap_set *set = mailimap_set_new_single(e->key);
	int r = store(im, set, imap_flaglist(e->flags, 1), 1);

	if (r == 0)
		r = store(im, set, imap_flaglist(e->flags, 0), 0);
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
			mailimap_set_add_single(set, e->key);
	}
	struct mailimap_flag_list *del = mailimap_flag_list_new_empty();
	mailimap_flag_list_add(del, mailimap_flag_new_deleted());
	int lib;
	if ((r = store(im, set, del, 1)) == 0 && (r = imap_run(im, opexpunge, set, &lib)) == 0 && lib != MAILIMAP_NO_ERROR)
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
			imap_cachedrop(im, b->msgs[i].key);
		if (!gone)
			b->msgs[k++] = b->msgs[i];
	}
	b->nmsgs = k;
	b->vers++;
	return 0;
}

static char *
imapbeside(Box *b, const char *name)
{
	const char *host = strstr(b->path, "://") + 3, *slash = strchr(host, '/');
	Buf u = { 0 };

	bufprint(&u, "%.*s/%s", (int)((slash ? slash : host + strlen(host)) - b->path), b->path, name);
	return u.p;
}

/* RFC 3501 2.3.1.1: a UID with its UIDVALIDITY names one message for ever */
static void
imapident(Box *b, const Msgent *e, Buf *out)
{
	Imap *im = b->aux;

	bufprint(out, "imap %u %u", im->uidvalidity, e->key);
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
	.ident = imapident,
	.indexflags = 1,
};
