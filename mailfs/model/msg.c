/*
 * The message cache.  At start only the index entries (Msgent) exist;
 * a message is read and parsed the first time any of its files is
 * needed, and kept here until the cache is over its byte budget and no
 * one holds it.  Each Msg is charged for its raw bytes, an estimate of
 * its parse tree, and every file content generated from it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "model/gm.h"

enum {
	Nhash = 4096,
	Maxdetach = 1 << 20,	/* bigger messages are not read ahead: two copies of one are too many */
};

static Msg *hash[Nhash];
static Link lru = LISTINIT(lru);	/* most recent first */
static size_t budget = 16 << 20;
static size_t used;

void
msg_init(size_t cachebytes)
{
	if (cachebytes)
		budget = cachebytes;
}

static unsigned
hashof(uint32_t box, uint32_t id)
{
	return (box * 2654435761u ^ id) % Nhash;
}

static Msg *
cached(Box *b, uint32_t id)
{
	for (Msg *m = hash[hashof(b->id, id)]; m; m = m->hnext)
		if (m->box == b && m->id == id)
			return m;
	return NULL;
}

/* what msgfree frees, for a message not in the cache */
static void
dispose(Msg *m)
{
	part_free(m);
	buffree(&m->raw);
	buffree(&m->env);
	free(m->snap);
	free(m);
}

static void
msgfree(Msg *m)
{
	Msg **l = &hash[hashof(m->box->id, m->id)];

	while (*l != m)
		l = &(*l)->hnext;
	*l = m->hnext;
	linkout(&m->lru);
	used -= m->cost;
	dispose(m);
}

static void
evict(void)
{
	for (Link *l = lru.prev; used > budget && l != &lru;) {
		Msg *m = OUTER(l, Msg, lru);
		l = l->prev;
		if (m->ref == 0)
			msgfree(m);
	}
}

void
msg_charge(Msg *m, size_t n)
{
	m->cost += n;
	if (m->cached)
		used += n;
}

void
msg_flush(void)
{
	size_t keep = budget;

	budget = 0;
	evict();
	budget = keep;
}

/* header block: up to the first empty line */
static void
splithead(Msg *m)
{
	hdrsplit(m->raw.p, m->raw.n, &m->hdrlen, &m->bodyoff);
}

/* the message's bytes from its store: all of them, or (IMAP) its header */
static int
fetchraw(Msg *m)
{
	Msgent *e = box_msg(m->box, m->id);

	if (e == NULL)
		return seterr(ENOENT, "no such message");
	if (m->box->ops->fetchhdr) {
		int whole = 0;
		if (m->box->ops->fetchhdr(m->box, e, &m->raw, &whole) < 0)
			return -1;
		m->partial = !whole;
	} else if (m->box->ops->fetch(m->box, e, &m->raw, &m->env) < 0)
		return -1;
	if (m->raw.cap == 0)
		bufadd(&m->raw, "", 0);
	splithead(m);
	m->date = e->date;
	return 0;
}

static int
load(Msg *m)
{
	return fetchraw(m) < 0 ? -1 : part_build(m);
}


/* into the cache, most recent, charged for what it holds */
static void
insert(Msg *m)
{
	unsigned h = hashof(m->box->id, m->id);

	m->hnext = hash[h];
	hash[h] = m;
	linkfront(&lru, &m->lru);
	m->cached = 1;
	used += m->cost;
	msg_charge(m, sizeof *m + m->raw.n + m->env.n + m->bodyoff + 256);
}

/*
 * A message loaded from its header alone gets the rest.  What was made
 * from the header (the top Part's fields, the envelope made up for a
 * store without one) stays as it is.
 */
int
msg_whole(Msg *m)
{
	Buf raw = { 0 }, env = { 0 };

	if (!m->partial)
		return 0;	/* before the index is looked at: a detached message may not */
	Msgent *e = box_msg(m->box, m->id);
	if (e == NULL)
		return seterr(ENOENT, "no such message");
	if (m->box->ops->fetch(m->box, e, &raw, &env) < 0) {
		buffree(&raw);
		buffree(&env);
		return -1;
	}
	if (raw.cap == 0)
		bufadd(&raw, "", 0);
	if (raw.n > m->raw.n)
		msg_charge(m, raw.n - m->raw.n);
	buffree(&m->raw);
	m->raw = raw;
	if (env.n) {
		buffree(&m->env);
		m->env = env;
	} else
		buffree(&env);
	splithead(m);
	m->partial = 0;
	return 0;
}

Msg *
msg_get(Box *b, uint32_t id)
{
	unsigned h = hashof(b->id, id);
	Msg *m;

	for (m = hash[h]; m; m = m->hnext)
		if (m->box == b && m->id == id) {
			linkout(&m->lru);
			linkfront(&lru, &m->lru);
			m->ref++;
			return m;
		}
	m = xzalloc(sizeof *m);
	m->box = b;
	m->id = id;
	if (load(m) < 0) {
		dispose(m);
		return NULL;
	}
	insert(m);
	m->ref = 1;
	evict();
	return m;
}

/* the message if it is in the cache, counted; NULL if not: nothing is read */
Msg *
msg_peek(Box *b, uint32_t id)
{
	Msg *m = cached(b, id);

	if (m)
		m->ref++;
	return m;
}

/*
 * A message read from its store but kept out of the cache, so that
 * another thread may parse it and make its files without the tree lock
 * (prefetch.c): only the store's fetch needs the lock.  NULL when it is
 * cached already, gone, over Maxdetach, or in a store that gives
 * headers alone.  Unlocked, nothing may look at the box's index: what
 * of it the message needs is in m->snap.  The
 * caller then calls part_build and file_content on it, unlocked, and
 * hands it to msg_adopt.
 */
Msg *
msg_detach(Box *b, uint32_t id)
{
	Msgent *e = box_msg(b, id);

	if (e == NULL || e->len > Maxdetach || cached(b, id) || b->ops->fetchhdr || b->ops->fetchskel)
		return NULL;
	Msg *m = xzalloc(sizeof *m);
	m->box = b;
	m->id = id;
	m->snap = xmalloc(sizeof *m->snap);
	*m->snap = *e;
	if (fetchraw(m) < 0) {
		dispose(m);
		return NULL;
	}
	return m;
}

static int
sameent(const Msgent *a, const Msgent *b)
{
	return a->off == b->off && a->len == b->len && a->date == b->date && a->envlen == b->envlen &&
		a->crlf == b->crlf && a->dirty == b->dirty && a->flags == b->flags && a->key == b->key;
}

/*
 * Cache a detached message, with the tree locked again: unless it was
 * not built (part_build failed), or cached meanwhile, or its box closed, or its index entry changed (a
 * rewrite moved it, its flags changed), when what was made is dropped.
 * 1 if cached.
 */
int
msg_adopt(Msg *m)
{
	Msgent *e = box_msg(m->box, m->id);

	if (m->nparts == 0 || m->box->closed || e == NULL || cached(m->box, m->id) || !sameent(e, m->snap)) {
		dispose(m);
		return 0;
	}
	free(m->snap);
	m->snap = NULL;
	insert(m);
	evict();
	return 1;
}

/* a detached message freed, never cached: read once, by the indexer */
void
msg_drop(Msg *m)
{
	if (m)
		dispose(m);
}

void
msg_put(Msg *m)
{
	if (m && --m->ref == 0)
		evict();
}

uint16_t
msg_flags(Msg *m)
{
	Msgent *e = m->snap ? m->snap : box_msg(m->box, m->id);
	Hdr *h = part_hdr(m->parts[0]);

	if (e && (e->dirty || m->box->ops->indexflags))
		return e->flags;
	return flags_fromfields(hdr_get(h, "Status"), hdr_get(h, "X-Status"));
}

/*
 * Change a message's flags in the index; the store learns them at its
 * next rewrite.  What the file table made of them is its to drop
 * (file_flagschanged).
 */
int
msg_setflags(Box *b, uint32_t id, uint16_t set, uint16_t clear)
{
	Msgent *e = box_msg(b, id);
	Msg *m;

	if (e == NULL)
		return seterr(ENOENT, "no such message");
	if (!e->dirty && !b->ops->indexflags) {
		if ((m = msg_get(b, id)) == NULL)
			return -1;
		e = box_msg(b, id);	/* msg_get may have moved nothing, but be sure */
		e->flags = msg_flags(m);
		msg_put(m);
	}
	e->flags = (e->flags | set) & ~clear;
	e->dirty = 1;
	return 0;
}

void
msg_forget(Box *b, uint32_t id)
{
	Msg *m = cached(b, id);

	if (m && m->ref == 0)
		msgfree(m);
}

Part *
msg_part(Msg *m, uint32_t idx)
{
	if (idx > 0 && part_full(m) < 0)
		return NULL;
	return idx < m->nparts ? m->parts[idx] : NULL;
}
