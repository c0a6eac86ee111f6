/*
 * The index of every open box: what the builder thread has put in each
 * box's store (index_db.c), and the map from the box's messages to the
 * store's rows.  A message is known to the store by its ident: what its
 * backend names it by for ever (Boxops.ident), or else a digest of its
 * bytes, so that a mailbox changed behind mailfs's back never gets a
 * summary that is not its own.
 *
 * The builder works on the other core in batches: it names a batch of
 * messages with the tree locked, asks the store which it has, reads the
 * rest out of the tree lock (msg_detach) and parses them, and stores
 * them in one transaction.  A search does the same work for what is
 * still missing before it answers, so that an answer is never partial.
 *
 * Concurrency: lk guards the maps.  Order: the tree lock, then a
 * store's writer lock, then lk; none is held while one before it is
 * taken.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tree/index.h"

enum {
	Batch = 64,	/* messages a transaction */
	Maxboxes = 256,	/* box numbers are 8 bits */
	Pending = -1,	/* Ient.doc: a worker has it */
	Failed = -2,	/* could not be read: tried again when it changes */
};

/* what the map knows of one message: its row, for the entry it had then */
typedef struct Ient Ient;
struct Ient {
	uint32_t	id;	/* 0: a free slot */
	uint16_t	hflags;
	int64_t	doc;	/* > 0 its row; 0 not in the store; Pending; Failed */
	int64_t	date;
	Msgent	snap;
};

typedef struct Dslot Dslot;
struct Dslot {
	int64_t	doc;	/* 0: free */
	uint32_t	id;
};

typedef struct Ix Ix;
struct Ix {
	uint32_t	boxid;
	char	*name;
	Idb	*db;
	int	ref;
	int	gone;	/* its box closed: freed with the last reference */
	Ient	*ents;	/* open addressing by id */
	size_t	cap, n;
	Dslot	*docs;	/* by doc */
	size_t	dcap, dn;
	size_t	cursor;	/* where the next batch is looked for, in the box's order */
	int	clean;	/* a look found every message known, at the box's: */
	uint32_t	cleanvers;
	size_t	cleann;
	int	inflight;	/* messages workers hold */
	size_t	made, served;
	size_t	tidied;	/* made, when the store was last tidied */
	double	busy;	/* seconds spent making what was made */
	int64_t	lastdoc;	/* the record read last, kept for the next file of its message */
	Buf	lastsum;
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static Ix *ixs[Maxboxes];
static char *dir;	/* of the stores; NULL: in memory */
static int dirset, running, stopping, working, kicked;

/* ---- the maps (lk held) ---- */

static size_t
hash(uint64_t k, size_t cap)
{
	return (size_t)(k * 0x9E3779B97F4A7C15ull >> 17) & (cap - 1);
}

static Ient *
entslot(Ix *ix, uint32_t id)
{
	size_t i = hash(id, ix->cap);

	while (ix->ents[i].id != 0 && ix->ents[i].id != id)
		i = (i + 1) & (ix->cap - 1);
	return &ix->ents[i];
}

static Ient *
entget(Ix *ix, uint32_t id)
{
	Ient *e = ix->cap ? entslot(ix, id) : NULL;

	return e && e->id == id ? e : NULL;
}

static Dslot *
docslot(Ix *ix, int64_t doc)
{
	size_t i = hash(doc, ix->dcap);

	while (ix->docs[i].doc != 0 && ix->docs[i].doc != doc)
		i = (i + 1) & (ix->dcap - 1);
	return &ix->docs[i];
}

static void
growents(Ix *ix)
{
	Ient *old = ix->ents;
	size_t n = ix->cap;

	ix->cap = n ? 2 * n : 1024;
	ix->ents = xzalloc(ix->cap * sizeof *ix->ents);
	for (size_t i = 0; i < n; i++)
		if (old[i].id)
			*entslot(ix, old[i].id) = old[i];
	free(old);
}

static void
growdocs(Ix *ix)
{
	Dslot *old = ix->docs;
	size_t n = ix->dcap;

	ix->dcap = n ? 2 * n : 1024;
	ix->docs = xzalloc(ix->dcap * sizeof *ix->docs);
	for (size_t i = 0; i < n; i++)
		if (old[i].doc)
			*docslot(ix, old[i].doc) = old[i];
	free(old);
}

static void
entput(Ix *ix, uint32_t id, const Msgent *snap, int64_t doc, const Idoc *d)
{
	if (2 * (ix->n + 1) > ix->cap)
		growents(ix);
	Ient *e = entslot(ix, id);
	if (e->id == 0)
		ix->n++;
	*e = (Ient){ .id = id, .doc = doc, .snap = *snap };
	if (d) {
		e->hflags = d->hflags;
		e->date = d->date;
	}
	if (doc > 0) {
		if (2 * (ix->dn + 1) > ix->dcap)
			growdocs(ix);
		Dslot *s = docslot(ix, doc);
		if (s->doc == 0)
			ix->dn++;
		*s = (Dslot){ doc, id };
	}
}

/* the same message in the same place, whatever its flags */
static int
sameent(const Msgent *s, const Msgent *m)
{
	return s->off == m->off && s->len == m->len && s->key == m->key && s->envlen == m->envlen &&
		s->date == m->date && s->crlf == m->crlf;
}

/* the entry it was made for is the entry now */
static int
same(const Ient *e, const Msgent *m)
{
	return sameent(&e->snap, m);
}

/* ---- the boxes ---- */

void
index_setdir(const char *d)
{
	dirset = 1;
	free(dir);
	dir = d && strcmp(d, "none") != 0 ? xstrdup(d) : NULL;
}

static void
defaultdir(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	Buf b = { 0 };

	if (x && x[0] == '/')
		bufprint(&b, "%s/mailfs", x);
	else if (home && home[0] == '/')
		bufprint(&b, "%s/.cache/mailfs", home);
	dir = b.p;
	dirset = 1;
}

static void
unref(Ix *ix)
{
	if (--ix->ref > 0)
		return;
	idb_close(ix->db);
	free(ix->ents);
	free(ix->docs);
	buffree(&ix->lastsum);
	free(ix->name);
	free(ix);
}

/* the boxes open now get stores, and closed ones lose theirs; the tree locked */
static void
boxes(void)
{
	if (!dirset)
		defaultdir();
	pthread_mutex_lock(&lk);
	for (uint32_t i = 0; i < Maxboxes; i++) {
		Box *b = box_byid(i);
		if (ixs[i] && (b == NULL || b->closed)) {
			ixs[i]->gone = 1;
			unref(ixs[i]);
			ixs[i] = NULL;
		}
	}
	for (size_t i = 0; box_at(i); i++) {
		Box *b = box_at(i);
		if (b->id >= Maxboxes || ixs[b->id] || b->closed)
			continue;
		Ix *ix = xzalloc(sizeof *ix);
		ix->boxid = b->id;
		ix->name = xstrdup(b->name);
		ix->ref = 1;
		ix->db = idb_open(dir, b->path, b->name);
		ixs[b->id] = ix;
	}
	pthread_mutex_unlock(&lk);
}

static Ix *
ixref(uint32_t boxid)
{
	pthread_mutex_lock(&lk);
	Ix *ix = boxid < Maxboxes ? ixs[boxid] : NULL;
	if (ix)
		ix->ref++;
	pthread_mutex_unlock(&lk);
	return ix;
}

static void
ixput(Ix *ix)
{
	pthread_mutex_lock(&lk);
	unref(ix);
	pthread_mutex_unlock(&lk);
}

/* what the store knows m by; the tree locked.  0, or -1 + err */
static int
ident(Box *b, const Msgent *e, Buf *out)
{
	if (b->ops->ident) {
		b->ops->ident(b, e, out);
		return 0;
	}
	Buf raw = { 0 }, env = { 0 };
	int r = b->ops->fetch(b, e, &raw, &env);
	if (r == 0) {
		bufputs(out, "sha1 ");
		info_digest(out, env.p ? env.p : "", env.n, raw.p ? raw.p : "", raw.n);
	}
	buffree(&raw);
	buffree(&env);
	return r;
}

/* ---- the work ---- */

typedef struct Job Job;
struct Job {
	uint32_t	id;
	Msgent	snap;
	Buf	ident;
	Idoc	d;
	int	known;	/* the store had it before this batch */
	int	found;	/* the store has it: known, or another's in this batch */
	int	made;	/* parsed: sum and rows are its */
	int	moved;	/* its entry changed meanwhile: looked at again */
	Buf	sum;
	Wrow	*rows;
	size_t	nrows;
};

static void
addrow(void *arg, uint32_t part, Buf cols[Ncols])
{
	Job *j = arg;

	j->rows = xrealloc(j->rows, (j->nrows + 1) * sizeof *j->rows);
	Wrow *w = &j->rows[j->nrows++];
	w->part = part;
	memcpy(w->cols, cols, sizeof w->cols);
	memset(cols, 0, Ncols * sizeof *cols);	/* taken */
}

static void
jobfree(Job *j)
{
	buffree(&j->ident);
	buffree(&j->sum);
	for (size_t i = 0; i < j->nrows; i++)
		for (int c = 0; c < Ncols; c++)
			buffree(&j->rows[i].cols[c]);
	free(j->rows);
}

static int unchanged(Ix *ix, int mark);

static int
needed(Ix *ix, const Msgent *m)
{
	Ient *e = entget(ix, m->id);

	return e == NULL || !same(e, m) || e->doc == 0;
}

/*
 * The next messages the map lacks, named and marked Pending; the tree
 * locked.  The count; -1 when the box is gone.
 */
static int
collect(Ix *ix, Job *jobs, int bg)
{
	Box *b = box_byid(ix->boxid);
	int n = 0;

	if (b == NULL || b->closed)
		return -1;
	if (bg && b->ops->fetchskel)
		return 0;	/* a remote store: its messages are fetched when asked for, not ahead */
	for (size_t seen = 0; seen < b->nmsgs && n < Batch; seen++) {
		if (ix->cursor >= b->nmsgs)
			ix->cursor = 0;
		Msgent *m = &b->msgs[ix->cursor++];
		pthread_mutex_lock(&lk);
		int need = needed(ix, m);
		pthread_mutex_unlock(&lk);
		if (!need)
			continue;
		Job *j = &jobs[n];
		memset(j, 0, sizeof *j);
		j->id = m->id;
		j->snap = *m;
		int ok = ident(b, m, &j->ident) == 0;
		pthread_mutex_lock(&lk);
		entput(ix, m->id, m, ok ? Pending : Failed, NULL);
		ix->inflight += ok;
		pthread_mutex_unlock(&lk);
		if (ok)
			n++;
		else
			jobfree(j);
	}
	if (n == 0)
		unchanged(ix, 1);	/* nothing missing: the next search need not look */
	return n;
}

static void
parse(Job *j, Msg *m)
{
	if (part_build(m) < 0)
		return;
	j->d.date = m->date;
	if (sum_make(&j->sum, m->parts[0], &j->d.hflags) < 0)
		bufreset(&j->sum);	/* an empty record: the model serves it */
	words_make(m, addrow, j);
	j->made = 1;
}

/* read and parse what the store lacks: out of the tree lock where the backend allows */
static void
make(Ix *ix, Job *j)
{
	tree_lock();
	Box *b = box_byid(ix->boxid);
	Msgent *e = b && !b->closed ? box_msg(b, j->id) : NULL;
	if (e == NULL || !sameent(e, &j->snap)) {
		tree_unlock();
		j->moved = 1;	/* changed or gone: the next round sees it */
		return;
	}
	Msg *m = msg_detach(b, j->id);
	if (m && !sameent(m->snap, &j->snap)) {
		msg_drop(m);
		m = NULL;
	}
	if (m) {
		tree_unlock();
		parse(j, m);
		msg_drop(m);
		return;
	}
	/* kept out of detach (big, cached, or a store that fetches by parts): under the lock */
	if ((m = msg_get(b, j->id)) != NULL)
		parse(j, m);
	msg_put(m);
	tree_unlock();
}

static int
store(Ix *ix, Job *jobs, int n)
{
	for (int i = 0; i < n; i++) {
		Job *j = &jobs[i];
		if (!j->made || j->found)
			continue;
		if (idb_wfind(ix->db, j->ident.p, &j->d)) {
			j->found = 1;
			continue;
		}
		if ((j->d.doc = idb_add(ix->db, j->ident.p, &j->d, &j->sum)) < 0)
			return -1;
		for (size_t r = 0; r < j->nrows; r++)
			if (idb_words(ix->db, j->d.doc, j->rows[r].part, j->rows[r].cols) < 0)
				return -1;
	}
	return 0;
}

/* one transaction of the batch: again in memory if the file gave out */
static void
commit(Ix *ix, Job *jobs, int n)
{
	for (int tries = 0; tries < 2; tries++) {
		if (idb_begin(ix->db) == 0 && store(ix, jobs, n) == 0 && idb_commit(ix->db) == 0)
			return;
		idb_rollback(ix->db);
		for (int i = 0; i < n; i++)
			if (!jobs[i].known) {	/* what this transaction gave them is gone */
				jobs[i].found = 0;
				jobs[i].d.doc = 0;
			}
		if (!idb_fault(ix->db))
			break;
	}
	for (int i = 0; i < n; i++)
		if (!jobs[i].found)
			jobs[i].made = 0;	/* nowhere to keep them */
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/*
 * One batch of ix's box: the count of messages it took (0: nothing is
 * missing, or only what others hold), -1 when the box is gone.  bg: the
 * builder's, which leaves a remote store alone.
 */
static int
batch(Ix *ix, int bg)
{
	Job jobs[Batch];

	tree_lock();
	int n = collect(ix, jobs, bg);
	tree_unlock();
	if (n <= 0)
		return n;
	double t0 = now();
	idb_wlock(ix->db);
	for (int i = 0; i < n; i++)
		jobs[i].known = jobs[i].found = jobs[i].made = idb_wfind(ix->db, jobs[i].ident.p, &jobs[i].d);
	idb_wunlock(ix->db);
	size_t made = 0;
	for (int i = 0; i < n; i++)
		if (!jobs[i].found) {
			make(ix, &jobs[i]);
			made += jobs[i].made;
		}
	idb_wlock(ix->db);
	if (made)
		commit(ix, jobs, n);
	pthread_mutex_lock(&lk);
	for (int i = 0; i < n; i++) {
		Job *j = &jobs[i];
		Ient *e = entget(ix, j->id);
		if (e && e->doc == Pending && same(e, &j->snap))
			entput(ix, j->id, &j->snap, j->made ? j->d.doc : j->moved ? 0 : Failed, &j->d);
		jobfree(j);
	}
	ix->inflight -= n;
	ix->made += made;
	if (made)
		ix->busy += now() - t0;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lk);
	idb_wunlock(ix->db);
	return n;
}

/* how many of the box's messages the map has, of how many; the tree locked */
static void
counts(Ix *ix, Box *b, size_t *have, size_t *failed)
{
	*have = *failed = 0;
	pthread_mutex_lock(&lk);
	for (size_t i = 0; i < b->nmsgs; i++) {
		Ient *e = entget(ix, b->msgs[i].id);
		if (e && same(e, &b->msgs[i]) && e->doc > 0)
			++*have;
		else if (e && same(e, &b->msgs[i]) && e->doc == Failed)
			++*failed;
	}
	pthread_mutex_unlock(&lk);
}

static void
report(Ix *ix)
{
	size_t have, failed;

	tree_lock();
	Box *b = box_byid(ix->boxid);
	if (b && !b->closed) {
		counts(ix, b, &have, &failed);
		box_progress(b->name, "index", have + failed, b->nmsgs);
	}
	tree_unlock();
}

/* is the box as it was when a look last found nothing missing?  The tree locked */
static int
unchanged(Ix *ix, int mark)
{
	Box *b = box_byid(ix->boxid);
	int r = 0;

	pthread_mutex_lock(&lk);
	if (mark && b && ix->inflight == 0) {
		ix->clean = 1;
		ix->cleanvers = b->vers;
		ix->cleann = b->nmsgs;
	}
	r = b && ix->clean && ix->inflight == 0 && ix->cleanvers == b->vers && ix->cleann == b->nmsgs;
	pthread_mutex_unlock(&lk);
	return r;
}

/* every message of ix's box is in the map, or failed: what a search needs first */
static void
cover(Ix *ix)
{
	for (;;) {
		tree_lock();
		int done = unchanged(ix, 0);
		tree_unlock();
		if (done)
			return;
		int n = batch(ix, 0);
		if (n < 0)
			return;
		pthread_mutex_lock(&lk);
		while (n == 0 && ix->inflight > 0)	/* another worker's: wait for it */
			pthread_cond_wait(&cond, &lk);
		pthread_mutex_unlock(&lk);
	}
}

static void *
builder(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lk);
	for (;;) {
		working = 0;
		pthread_cond_broadcast(&cond);
		/* stopped, it stays here: a thread ending at exit leaks what it keeps per thread */
		while (stopping || !kicked)
			pthread_cond_wait(&cond, &lk);
		kicked = 0;
		working = 1;
		pthread_mutex_unlock(&lk);
		tree_lock();
		boxes();
		tree_unlock();
		for (uint32_t i = 0; i < Maxboxes; i++) {
			Ix *ix = ixref(i);
			if (ix == NULL)
				continue;
			double shown = 0;
			int n;
			while ((n = batch(ix, 1)) > 0 && !stopping)
				if (now() - shown > 0.1) {
					report(ix);
					shown = now();
				}
			if (shown)
				report(ix);
			pthread_mutex_lock(&lk);
			int built = ix->made != ix->tidied;
			ix->tidied = ix->made;
			pthread_mutex_unlock(&lk);
			if (built) {
				idb_wlock(ix->db);
				idb_tidy(ix->db);
				idb_wunlock(ix->db);
			}
			ixput(ix);
		}
		pthread_mutex_lock(&lk);
	}
	return NULL;
}

/* the boxes open now get their stores, and the builder starts: 0, or -1 + err */
int
index_start(void)
{
	pthread_t t;

	part_init();
	tree_lock();
	boxes();
	tree_unlock();
	pthread_mutex_lock(&lk);
	int r = 0;
	if (!running && pthread_create(&t, NULL, builder, NULL) == 0) {
		pthread_detach(t);
		running = 1;
		kicked = 1;
		pthread_cond_broadcast(&cond);
	} else if (!running)
		r = seterr(EAGAIN, "cannot start the indexer");
	pthread_mutex_unlock(&lk);
	return r;
}

/* mail came, or a box opened: the builder looks again */
void
index_wake(void)
{
	pthread_mutex_lock(&lk);
	kicked = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lk);
}

/* the builder is idle and stays so: before the boxes go */
void
index_stop(void)
{
	pthread_mutex_lock(&lk);
	stopping = 1;
	pthread_cond_broadcast(&cond);
	while (running && working)
		pthread_cond_wait(&cond, &lk);
	for (uint32_t i = 0; i < Maxboxes; i++)
		if (ixs[i]) {
			unref(ixs[i]);
			ixs[i] = NULL;
		}
	pthread_mutex_unlock(&lk);
}

/* index b whole now, in this thread (tests; a search does it through cover) */
int
index_sync(Box *b)
{
	tree_lock();
	boxes();
	tree_unlock();
	Ix *ix = ixref(b->id);
	if (ix == NULL)
		return seterr(ENOENT, "no such mailbox");
	cover(ix);
	ixput(ix);
	return 0;
}

/* ---- serving ---- */

/*
 * A top-level file of message e served from the index, and the time its
 * stat gives; the tree locked.  NULL when the index has not got it (the
 * model makes it then).
 */
Blob *
index_file(Box *b, const Msgent *e, int kind, int64_t *mtime)
{
	if (!sum_kind(kind) || b->id >= Maxboxes)
		return NULL;
	pthread_mutex_lock(&lk);
	Ix *ix = ixs[b->id];
	Ient *ent = ix ? entget(ix, e->id) : NULL;
	int known = ent && same(ent, e) && ent->doc != 0;
	if (ix)
		ix->ref++;
	pthread_mutex_unlock(&lk);
	if (ix == NULL)
		return NULL;
	if (!known) {	/* not seen yet this run: maybe in the store from the last */
		Buf id = { 0 };
		Idoc d = { 0 };
		int found = ident(b, e, &id) == 0 && idb_find(ix->db, id.p, &d);
		pthread_mutex_lock(&lk);
		if ((ent = entget(ix, e->id)) == NULL || !same(ent, e) || ent->doc == 0)
			entput(ix, e->id, e, found ? d.doc : 0, &d);
		pthread_mutex_unlock(&lk);
		buffree(&id);
	}
	Blob *r = NULL;
	pthread_mutex_lock(&lk);
	ent = entget(ix, e->id);
	if (ent && same(ent, e) && ent->doc > 0) {
		if (ix->lastdoc != ent->doc) {
			bufreset(&ix->lastsum);
			ix->lastdoc = idb_summary(ix->db, ent->doc, &ix->lastsum) == 0 ? ent->doc : 0;
		}
		uint16_t flags = e->dirty || b->ops->indexflags ? e->flags : ent->hflags;
		if (ix->lastdoc == ent->doc && (r = sum_file(ix->lastsum.p, ix->lastsum.n, kind, flags)) != NULL) {
			ix->served++;
			*mtime = ent->date ? ent->date : e->date ? e->date : b->mtime;
		}
	}
	unref(ix);
	pthread_mutex_unlock(&lk);
	return r;
}

/* the box's index file: how far it is; the tree locked */
void
index_status(Buf *out, Box *b)
{
	size_t have = 0, failed = 0;
	Ix *ix = ixref(b->id);

	if (ix == NULL) {
		bufprint(out, "indexed 0 of %zu\n", b->nmsgs);
		return;
	}
	counts(ix, b, &have, &failed);
	pthread_mutex_lock(&lk);
	double rate = ix->busy > 0 ? ix->made / ix->busy : 0;
	bufprint(out, "indexed %zu of %zu\n", have, b->nmsgs);
	bufprint(out, "rate %.0f messages/s\n", rate);
	bufprint(out, "made %zu\nserved %zu\n", ix->made, ix->served);
	if (failed)
		bufprint(out, "unreadable %zu\n", failed);
	bufprint(out, "store %s\n", idb_path(ix->db));
	if (!idb_ondisk(ix->db))
		bufprint(out, "stopped growing: new messages are searched in memory\n");
	pthread_mutex_unlock(&lk);
	ixput(ix);
}

/* ---- searching ---- */

typedef struct Sarg Sarg;
struct Sarg {
	Ix	*ix;
};

static size_t
resolve(void *arg, const int64_t *docs, size_t n, uint32_t *ids)
{
	Ix *ix = ((Sarg *)arg)->ix;
	size_t k = 0;

	tree_lock();
	Box *b = box_byid(ix->boxid);
	pthread_mutex_lock(&lk);
	for (size_t i = 0; b && ix->dcap && i < n; i++) {
		Dslot *s = docslot(ix, docs[i]);
		Ient *e = s->doc == docs[i] ? entget(ix, s->id) : NULL;
		Msgent *m = e && e->doc == docs[i] ? box_msg(b, e->id) : NULL;
		if (m && same(e, m))
			ids[k++] = e->id;
	}
	pthread_mutex_unlock(&lk);
	tree_unlock();
	return k;
}

static size_t
all(void *arg, uint32_t **ids, uint16_t **flags, int64_t **dates)
{
	Ix *ix = ((Sarg *)arg)->ix;

	tree_lock();
	Box *b = box_byid(ix->boxid);
	size_t n = b ? b->nmsgs : 0;
	*ids = xmalloc((n + 1) * sizeof **ids);
	*flags = xmalloc((n + 1) * sizeof **flags);
	*dates = xmalloc((n + 1) * sizeof **dates);
	pthread_mutex_lock(&lk);
	for (size_t i = 0; i < n; i++) {
		Msgent *m = &b->msgs[i];
		Ient *e = entget(ix, m->id);
		int ok = e && same(e, m) && e->doc > 0;
		(*ids)[i] = m->id;
		(*flags)[i] = m->dirty || b->ops->indexflags || !ok ? m->flags : e->hflags;
		(*dates)[i] = ok && e->date ? e->date : m->date;
	}
	pthread_mutex_unlock(&lk);
	tree_unlock();
	return n;
}

/* message id's words, in j's rows: read again, out of the tree lock where the backend allows */
static int
rowsof(Ix *ix, uint32_t id, Job *j)
{
	tree_lock();
	Box *b = box_byid(ix->boxid);
	int there = b && !b->closed && box_msg(b, id);
	Msg *m = there ? msg_detach(b, id) : NULL;
	if (m) {
		tree_unlock();
		int r = part_build(m);
		if (r == 0)
			words_make(m, addrow, j);
		msg_drop(m);
		return r;
	}
	if (there && (m = msg_get(b, id)) != NULL)
		words_make(m, addrow, j);
	msg_put(m);
	tree_unlock();
	return m ? 0 : -1;
}

/* the messages of ids that match expr, phrases and all */
static size_t
verify(void *arg, uint32_t *ids, size_t n, const char *expr)
{
	Ix *ix = ((Sarg *)arg)->ix;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		Job j = { 0 };
		int r = -1;
		if (rowsof(ix, ids[i], &j) == 0) {
			idb_wlock(ix->db);
			r = idb_phrase(ix->db, j.rows, j.nrows, expr);
			idb_wunlock(ix->db);
		}
		if (r == 1)
			ids[k++] = ids[i];
		jobfree(&j);
	}
	return k;
}

static int
search1(Ix *ix, Query *q, uint32_t **ids, size_t *n)
{
	Sarg a = { ix };
	Qenv env = { ix->db, resolve, all, verify, &a };

	cover(ix);
	return query_run(q, &env, ids, n);
}

/*
 * The answer of the search file of box b (b NULL: the root's, over every
 * open box): b's matching message numbers ascending, space-separated,
 * or "box/number" lines.  The tree not locked.  NULL + err.
 */
Blob *
index_search(Box *b, const char *query, size_t len)
{
	char *s = xmalloc(len + 1);

	memcpy(s, query, len);
	s[len] = 0;
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		s[--len] = 0;
	Query *q = query_parse(s);
	free(s);
	if (q == NULL)
		return NULL;
	tree_lock();
	boxes();
	uint32_t want[Maxboxes];
	size_t nwant = 0;
	for (size_t i = 0; box_at(i); i++)
		if (b == NULL || box_at(i) == b)
			want[nwant++] = box_at(i)->id;
	tree_unlock();
	Buf out = { 0 };
	int r = 0;
	for (size_t i = 0; i < nwant && r == 0; i++) {
		Ix *ix = ixref(want[i]);
		uint32_t *ids = NULL;
		size_t n = 0;
		if (ix && (r = search1(ix, q, &ids, &n)) == 0)
			for (size_t k = 0; k < n; k++) {
				if (b)
					bufprint(&out, k ? " %u" : "%u", ids[k]);
				else
					bufprint(&out, "%s/%u\n", ix->name, ids[k]);
			}
		free(ids);
		if (ix)
			ixput(ix);
	}
	query_free(q);
	Blob *res = r == 0 ? blobnew(out.p ? out.p : "", out.n) : NULL;
	buffree(&out);
	return res;
}
