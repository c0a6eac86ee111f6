/*
 * The file tree, for both transports: walk, stat, readdir and read by
 * qid path.  A qid path encodes box, message, part and file kind, so
 * any path can be resolved without a node table, and none is ever
 * reused because message numbers are not.
 *
 * Concurrency: one lock over the tree and everything below it (boxes,
 * the message cache, GMime); transports call in from any thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "tree/tree.h"

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static time_t started;

/*
 * Lengths of costly contents already made (tree_costly), so that a stat
 * after the message has left the cache does not decode it again: the
 * kernel re-stats files it has read, since their atime may have moved.
 * Open addressing; when full it simply starts over.
 */
enum { Nmemo = 1 << 18 };
typedef struct Memo Memo;
struct Memo {
	Qpath	q;	/* 0: empty (qid 0 is the root, never a file) */
	uint64_t	n;
	int64_t	mtime;
};
static Memo *memo;
static size_t nmemo;

#define QBOX(q)		((uint32_t)((q) >> (Qbits_msg + Qbits_part + Qbits_kind)))
#define QMSG(q)		((uint32_t)((q) >> (Qbits_part + Qbits_kind)))
#define QPART(q)	((uint32_t)(((q) >> Qbits_kind) & ((1u << Qbits_part) - 1)))
#define QKIND(q)	((int)((q) & ((1u << Qbits_kind) - 1)))

static Qpath
mkq(uint32_t box, uint32_t msg, uint32_t part, int kind)
{
	return (Qpath)box << (Qbits_msg + Qbits_part + Qbits_kind) |
		(Qpath)msg << (Qbits_part + Qbits_kind) |
		(Qpath)part << Qbits_kind | (Qpath)kind;
}

void
tree_init(void)
{
	started = time(NULL);
}

static Memo *
memoslot(Qpath q)
{
	size_t i = (size_t)(q * 0x9E3779B97F4A7C15ull >> 40) & (Nmemo - 1);

	while (memo[i].q != 0 && memo[i].q != q)
		i = (i + 1) & (Nmemo - 1);
	return &memo[i];
}

static Memo *
memoget(Qpath q)
{
	Memo *m = memo ? memoslot(q) : NULL;

	return m && m->q == q ? m : NULL;
}

static void
memoput(Qpath q, uint64_t n, int64_t mtime)
{
	if (!tree_costly(q))
		return;
	if (memo == NULL || nmemo >= Nmemo / 2) {
		free(memo);
		memo = xzalloc(Nmemo * sizeof *memo);
		nmemo = 0;
	}
	Memo *m = memoslot(q);
	if (m->q == 0)
		nmemo++;
	m->q = q;
	m->n = n;
	m->mtime = mtime;
}

/* A resolved path: what the bits of a qid name. */
typedef struct Node Node;
struct Node {
	Box	*box;	/* NULL for the root */
	Msgent	*ent;	/* NULL above messages */
	Msg	*msg;	/* held reference when part or file of a message */
	Part	*part;
	int	kind;
};

static void
release(Node *n)
{
	msg_put(n->msg);
	n->msg = NULL;
}

static int
resolve(Qpath q, Node *n)
{
	memset(n, 0, sizeof *n);
	n->kind = QKIND(q);
	if (QBOX(q) == 0)
		return q == QROOT || q == mkq(0, 0, 0, Qctl) || q == mkq(0, 0, 0, Qsearch) ? 0 :
			seterr(ENOENT, "file does not exist");
	if ((n->box = box_byid(QBOX(q))) == NULL)
		return seterr(ENOENT, "no such mailbox");
	if (QMSG(q) == 0)
		return (n->kind == Qdir || n->kind == Qctl || n->kind == Qsearch || n->kind == Qthreads || n->kind == Qindex) &&
			QPART(q) == 0 ? 0 :
			seterr(ENOENT, "file does not exist");
	if ((n->ent = box_msg(n->box, QMSG(q))) == NULL)
		return seterr(ENOENT, "no such message");
	if (n->kind == Qdir && QPART(q) == 0)
		return 0;	/* a message directory needs no parse */
	if ((n->msg = msg_get(n->box, QMSG(q))) == NULL)
		return -1;
	if ((n->part = msg_part(n->msg, QPART(q))) == NULL) {
		release(n);
		return seterr(ENOENT, "no such part");
	}
	if (QPART(q) == 0 && n->kind != Qdir)
		prefetch_hint(n->box, n->ent->id, n->kind);
	return 0;
}

static int
isnumber(const char *s)
{
	if (*s < '1' || *s > '9')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int
listed(Part *p, int kind)
{
	return file_where(kind) & (p->parent == NULL ? Ftop : Fpart);
}

/* a file name in a message or part directory; body.jpg and the like mean body */
static int
anykind(const char *name)
{
	int k = file_kind(name);

	if (k == 0 && name[0] >= 'a' && name[0] <= 'z' && strchr(name, '.')) {
		char base[32];
		snprintf(base, sizeof base, "%.*s", (int)(strchr(name, '.') - name), name);
		k = file_kind(base);
	}
	return k;
}

static int
filekind(Part *p, const char *name)
{
	int k = anykind(name);

	return k && listed(p, k) ? k : 0;
}

/* the kind of a file of a top-level message directory, or 0 */
static int
topkind(const char *name)
{
	int k = anykind(name);

	return k && (file_where(k) & Ftop) ? k : 0;
}

static int
walk1(Qpath dir, const char *name, Qpath *q)
{
	Node n;

	if (resolve(dir, &n) < 0)
		return -1;
	int r = 0;
	if (n.kind != Qdir)
		r = seterr(ENOTDIR, "not a directory");
	else if (strcmp(name, "..") == 0) {
		if (n.box == NULL || n.ent == NULL)
			*q = n.box ? QROOT : QROOT;
		else if (n.part == NULL || n.part->parent == NULL)
			*q = n.part ? mkq(n.box->id, n.ent->id, 0, Qdir) : mkq(n.box->id, 0, 0, Qdir);
		else
			*q = mkq(n.box->id, n.ent->id, n.part->parent->idx, Qdir);
	} else if (strcmp(name, "ctl") == 0 && n.ent == NULL) {
		*q = mkq(n.box ? n.box->id : 0, 0, 0, Qctl);
	} else if (strcmp(name, "search") == 0 && n.ent == NULL) {
		*q = mkq(n.box ? n.box->id : 0, 0, 0, Qsearch);
	} else if (strcmp(name, "threads") == 0 && n.box && n.ent == NULL) {
		*q = mkq(n.box->id, 0, 0, Qthreads);
	} else if (strcmp(name, "index") == 0 && n.box && n.ent == NULL) {
		*q = mkq(n.box->id, 0, 0, Qindex);
	} else if (n.box == NULL) {
		Box *b = box_byname(name);
		if (b)
			*q = mkq(b->id, 0, 0, Qdir);
		else
			r = seterr(ENOENT, "file does not exist");
	} else if (n.ent == NULL) {
		Msgent *e = isnumber(name) ? box_msg(n.box, strtoul(name, NULL, 10)) : NULL;
		if (e && strlen(name) <= 10)
			*q = mkq(n.box->id, e->id, 0, Qdir);
		else
			r = seterr(ENOENT, "file does not exist");
	} else if (n.part == NULL && !isnumber(name) && topkind(name)) {
		*q = mkq(n.box->id, n.ent->id, 0, topkind(name));	/* a top-level file needs no parse */
	} else {
		if (n.part == NULL && (n.msg = msg_get(n.box, n.ent->id)) != NULL)
			n.part = msg_part(n.msg, 0);
		if (n.part == NULL)
			r = -1;
		else if (isnumber(name) && part_full(n.msg) < 0)
			r = -1;
		else if (isnumber(name) && strlen(name) <= 6 && atoi(name) <= n.part->nkids)
			*q = mkq(n.box->id, n.ent->id, n.part->kids[atoi(name) - 1]->idx, Qdir);
		else if (!isnumber(name) && filekind(n.part, name))
			*q = mkq(n.box->id, n.ent->id, n.part->idx, filekind(n.part, name));
		else
			r = seterr(ENOENT, "file does not exist");
	}
	release(&n);
	return r;
}

int
tree_walk(Qpath dir, const char *name, Qpath *q)
{
	pthread_mutex_lock(&lk);
	int r = walk1(dir, name, q);
	pthread_mutex_unlock(&lk);
	return r;
}

/* a top-level file of a message from the index: NULL if it has not got it */
static Blob *
indexed(Qpath q, int64_t *mtime)
{
	Box *b = box_byid(QBOX(q));
	Msgent *e = b ? box_msg(b, QMSG(q)) : NULL;
	Msg *m = e ? msg_peek(b, e->id) : NULL;	/* made already: the model's is at hand */

	if (m) {
		msg_put(m);
		return NULL;
	}
	return e ? index_file(b, e, QKIND(q), mtime) : NULL;
}

static int
statindexed(Qpath q, Dirinfo *d)
{
	int64_t mtime;
	Blob *b = indexed(q, &mtime);

	if (b == NULL)
		return -1;
	memset(d, 0, sizeof *d);
	d->q = q;
	d->mode = file_mode(QKIND(q));
	d->length = b->n;
	d->mtime = mtime;
	snprintf(d->name, sizeof d->name, "%s", file_name(QKIND(q)));
	blobunref(b);
	return 0;
}

static int
stat1(Qpath q, Dirinfo *d)
{
	Node n;
	Memo *mm = QKIND(q) != Qdir ? memoget(q) : NULL;
	Box *b = mm ? box_byid(QBOX(q)) : NULL;

	if (QPART(q) == 0 && QMSG(q) && QKIND(q) != Qdir && statindexed(q, d) == 0)
		return 0;
	if (b && box_msg(b, QMSG(q))) {	/* known, and the message still exists */
		memset(d, 0, sizeof *d);
		d->q = q;
		d->mode = file_mode(QKIND(q));
		d->length = mm->n;
		d->mtime = mm->mtime;
		snprintf(d->name, sizeof d->name, "%s", file_name(QKIND(q)));
		return 0;
	}
	if (resolve(q, &n) < 0)
		return -1;
	memset(d, 0, sizeof *d);
	d->q = q;
	d->isdir = n.kind == Qdir;
	d->mode = 0555;
	if (n.kind == Qctl || n.kind == Qsearch || n.kind == Qthreads || n.kind == Qindex) {
		strcpy(d->name, n.kind == Qctl ? "ctl" : n.kind == Qsearch ? "search" : n.kind == Qthreads ? "threads" : "index");
		d->mode = n.kind == Qctl ? 0222 : n.kind == Qsearch ? 0666 : 0444;
		d->mtime = n.box ? n.box->mtime : started;
	} else if (n.box == NULL) {
		strcpy(d->name, "/");
		d->mtime = started;
	} else if (n.ent == NULL) {
		snprintf(d->name, sizeof d->name, "%s", n.box->name);
		d->mtime = n.box->mtime;
		d->vers = n.box->vers;
	} else {
		d->mtime = n.ent->date ? n.ent->date : n.box->mtime;
		if (n.part == NULL || n.part->parent == NULL)
			snprintf(d->name, sizeof d->name, "%u", n.ent->id);
		else
			snprintf(d->name, sizeof d->name, "%d", n.part->num);
		if (n.msg)
			d->mtime = n.msg->date ? n.msg->date : d->mtime;
	}
	int table = n.kind >= 1 && n.kind <= file_count();	/* a file of the file table */
	if (!table && n.kind != Qdir && n.kind != Qctl && n.kind != Qsearch && n.kind != Qthreads && n.kind != Qindex) {
		release(&n);
		return seterr(ENOENT, "file does not exist");
	}
	if (table) {
		snprintf(d->name, sizeof d->name, "%s", file_name(n.kind));
		d->mode = file_mode(n.kind);
	}
	if (table && file_how(n.kind) != Hlive) {	/* one made at open is length 0, as ctl */
		Blob *b = file_content(n.part, n.kind);
		if (b == NULL) {
			release(&n);
			return -1;
		}
		d->length = b->n;
		memoput(q, b->n, d->mtime);
		if (tree_costly(q))	/* an open long after (a glob stats first) finds it made */
			container_put(q, b, 0);
		blobunref(b);
	}
	release(&n);
	return 0;
}

int
tree_stat(Qpath q, Dirinfo *d)
{
	pthread_mutex_lock(&lk);
	int r = stat1(q, d);
	pthread_mutex_unlock(&lk);
	return r;
}

/*
 * Offsets: 0 starts a listing, with ctl in the root and in a box, and
 * search and threads after it in a box.  Then in the root one more than
 * the box index; in a box two more than the message number the listing
 * goes on from, so deletions never shift it; in a message or part
 * directory the position among files, then parts.
 */
static int
readdir1(Qpath dir, uint64_t off, int (*fn)(void *, const Dirinfo *, uint64_t), void *arg)
{
	Node n;
	Dirinfo d;

	if (resolve(dir, &n) < 0)
		return -1;
	if (n.kind != Qdir) {
		release(&n);
		return seterr(ENOTDIR, "not a directory");
	}
	int r = 0;
	if (n.ent == NULL && off == 0) {
		if (stat1(mkq(n.box ? n.box->id : 0, 0, 0, Qctl), &d) == 0 && fn(arg, &d, 1)) {
			release(&n);
			return 0;
		}
		off = 1;
	}
	if (n.ent == NULL && off == 1) {
		if (stat1(mkq(n.box ? n.box->id : 0, 0, 0, Qsearch), &d) == 0 && fn(arg, &d, 2)) {
			release(&n);
			return 0;
		}
		off = 2;
	}
	if (n.box && n.ent == NULL && off == 2) {
		if (stat1(mkq(n.box->id, 0, 0, Qthreads), &d) == 0 && fn(arg, &d, 3)) {
			release(&n);
			return 0;
		}
		off = 3;
	}
	if (n.box && n.ent == NULL && off == 3) {
		if (stat1(mkq(n.box->id, 0, 0, Qindex), &d) == 0 && fn(arg, &d, 4)) {
			release(&n);
			return 0;
		}
		off = 4;
	}
	if (n.box == NULL) {
		Box *b;
		for (uint64_t i = off - 2; (b = box_at(i)) != NULL; i++)
			if (stat1(mkq(b->id, 0, 0, Qdir), &d) == 0 && fn(arg, &d, i + 3))
				break;
	} else if (n.ent == NULL) {
		/* what stat1 says of a message directory, without looking each one up */
		memset(&d, 0, sizeof d);
		d.isdir = 1;
		d.mode = 0555;
		for (size_t i = box_msgindex(n.box, off - 3); i < n.box->nmsgs; i++) {
			Msgent *e = &n.box->msgs[i];
			d.q = mkq(n.box->id, e->id, 0, Qdir);
			d.mtime = e->date ? e->date : n.box->mtime;
			snprintf(d.name, sizeof d.name, "%u", e->id);
			if (fn(arg, &d, (uint64_t)e->id + 4))
				break;
		}
	} else {
		if (n.part == NULL && (n.msg = msg_get(n.box, n.ent->id)) != NULL)
			n.part = msg_part(n.msg, 0);
		if (n.part == NULL || part_full(n.msg) < 0) {
			release(&n);
			return -1;
		}
		uint64_t pos = 0;
		for (int k = 1; k <= file_count() && r == 0; k++) {
			if (!listed(n.part, k))
				continue;
			if (pos++ < off)
				continue;
			if (stat1(mkq(n.box->id, n.ent->id, n.part->idx, k), &d) == 0 && fn(arg, &d, pos))
				r = 1;
		}
		for (int i = 0; i < n.part->nkids && r == 0; i++) {
			if (pos++ < off)
				continue;
			if (stat1(mkq(n.box->id, n.ent->id, n.part->kids[i]->idx, Qdir), &d) == 0 && fn(arg, &d, pos))
				r = 1;
		}
	}
	release(&n);
	return 0;
}

int
tree_readdir(Qpath dir, uint64_t off, int (*fn)(void *, const Dirinfo *, uint64_t), void *arg)
{
	pthread_mutex_lock(&lk);
	int r = readdir1(dir, off, fn, arg);
	pthread_mutex_unlock(&lk);
	return r;
}

Blob *
tree_read(Qpath q)
{
	Node n;
	Blob *b = NULL;
	int64_t mtime;

	pthread_mutex_lock(&lk);
	if (QPART(q) == 0 && QMSG(q) && (b = indexed(q, &mtime)) != NULL) {
		pthread_mutex_unlock(&lk);
		return b;
	}
	if (resolve(q, &n) == 0) {
		if (n.kind == Qdir)
			seterr(EISDIR, "is a directory");
		else if (n.kind == Qctl || n.kind == Qsearch)
			b = blobnew("", 0);	/* their reads are the transports' */
		else if (n.kind == Qthreads || n.kind == Qindex) {
			Buf t = { 0 };
			if (n.kind == Qthreads)
				threads_make(&t, n.box, 0);
			else
				index_status(&t, n.box);
			b = blobfrombuf(&t);
			buffree(&t);
		}
		else
			b = file_content(n.part, n.kind);
		release(&n);
	}
	pthread_mutex_unlock(&lk);
	return b;
}

int
tree_open(Qpath q)
{
	int fd = container_get(q);

	if (fd >= 0)
		return fd;
	Blob *b = tree_read(q);
	if (b == NULL)
		return -1;
	fd = tree_costly(q) ? container_put(q, b, 1) : container_mem(b);
	blobunref(b);
	return fd;
}

/*
 * Is q still there?  Cheaply, with no message read: the kernel knows a
 * file only from a walk that found it, and what can go since is its
 * message or its box.
 */
int
tree_exists(Qpath q)
{
	pthread_mutex_lock(&lk);
	Box *b = QBOX(q) ? box_byid(QBOX(q)) : NULL;
	int r = QBOX(q) == 0 || (b && (QMSG(q) == 0 || box_msg(b, QMSG(q)))) ? 0 :
		seterr(ENOENT, b ? "no such message" : "no such mailbox");
	pthread_mutex_unlock(&lk);
	return r;
}

/* q's content if it is made and its message in the cache, else NULL: nothing is made */
Blob *
tree_made(Qpath q)
{
	Blob *b = NULL;

	pthread_mutex_lock(&lk);
	Box *box = QBOX(q) && QMSG(q) && QKIND(q) != Qdir ? box_byid(QBOX(q)) : NULL;
	Msg *m = box ? msg_peek(box, QMSG(q)) : NULL;
	if (m && QPART(q) < m->nparts && QKIND(q) <= file_count() && m->parts[QPART(q)]->files[QKIND(q)])
		b = blobref(m->parts[QPART(q)]->files[QKIND(q)]);
	msg_put(m);
	pthread_mutex_unlock(&lk);
	return b;
}

/* contents that need the whole MIME tree parsed: worth keeping */
int
tree_costly(Qpath q)
{
	return QKIND(q) != Qctl && QKIND(q) != Qsearch && (QPART(q) > 0 || QKIND(q) == file_kind("body"));
}

/* is q a message's flags file?  Then its box's ctl and its number */
int
tree_flagsfile(Qpath q, Qpath *ctl, uint32_t *id)
{
	if (QKIND(q) != file_kind("flags") || QPART(q) != 0 || QMSG(q) == 0)
		return 0;
	if (ctl)
		*ctl = mkq(QBOX(q), 0, 0, Qctl);
	if (id)
		*id = QMSG(q);
	return 1;
}

/* is q a file of a top-level message?  Then its box's ctl and its number */
int
tree_msgfile(Qpath q, Qpath *ctl, uint32_t *id)
{
	if (QKIND(q) == Qdir || QPART(q) != 0 || QMSG(q) == 0 || QBOX(q) == 0)
		return 0;
	*ctl = mkq(QBOX(q), 0, 0, Qctl);
	*id = QMSG(q);
	return 1;
}

/* is q a top-level message directory?  Then its box's ctl and its number */
int
tree_msgdir(Qpath q, Qpath *ctl, uint32_t *id)
{
	if (QKIND(q) != Qdir || QPART(q) != 0 || QMSG(q) == 0 || QBOX(q) == 0)
		return 0;
	*ctl = mkq(QBOX(q), 0, 0, Qctl);
	*id = QMSG(q);
	return 1;
}

int
tree_how(Qpath q)
{
	switch (QKIND(q)) {
	case Qdir:
		return Hdir;
	case Qctl:
		return Hctl;
	case Qsearch:
		return Hsearch;
	case Qthreads:
	case Qindex:
		return Hlive;
	}
	return QPART(q) == 0 && QKIND(q) <= file_count() ? file_how(QKIND(q)) : Hread;
}

/* a qid's version: a box directory's changes with its message set */
uint32_t
tree_vers(Qpath q)
{
	pthread_mutex_lock(&lk);
	Box *b = QMSG(q) == 0 && QKIND(q) == Qdir && QBOX(q) ? box_byid(QBOX(q)) : NULL;
	uint32_t v = b ? b->vers : 0;
	pthread_mutex_unlock(&lk);
	return v;
}

int
tree_marksseen(Qpath q)
{
	return QPART(q) == 0 && QMSG(q) && (QKIND(q) == file_kind("body") || QKIND(q) == file_kind("raw"));
}

/* the search file's answer to a query: its box's, or the root's over every box */
Blob *
tree_search(Qpath q, const char *query, size_t n)
{
	pthread_mutex_lock(&lk);
	Box *b = QBOX(q) ? box_byid(QBOX(q)) : NULL;
	pthread_mutex_unlock(&lk);
	if (QBOX(q) && b == NULL)
		return seterr(ENOENT, "no such mailbox"), NULL;
	return index_search(b, query, n);	/* b stays: a box is freed only at exit */
}

void
tree_lock(void)
{
	pthread_mutex_lock(&lk);
}

void
tree_unlock(void)
{
	pthread_mutex_unlock(&lk);
}

Box *
tree_boxof(Qpath q)
{
	return QBOX(q) ? box_byid(QBOX(q)) : NULL;
}

static void (*watchers[4])(Qpath, const char *, int);

void
tree_watch(void (*fn)(Qpath q, const char *name, int what))
{
	for (size_t i = 0; i < nelem(watchers); i++)
		if (watchers[i] == NULL) {
			watchers[i] = fn;
			return;
		}
}

/* called with the tree locked */
void
tree_changed(Box *b, uint32_t id, int new)
{
	char name[16];

	snprintf(name, sizeof name, "%u", id);
	if (!new)
		threads_forget(b, id);
	else
		index_wake();
	for (size_t i = 0; i < nelem(watchers); i++)
		if (watchers[i])
			watchers[i](mkq(b->id, 0, 0, Qdir), name, new ? Wnew : Wgone);
}

/* a box joined or left the root; the tree locked */
void
tree_boxchanged(Box *b, int new)
{
	if (!new)
		threads_forgetbox(b);
	for (size_t i = 0; i < nelem(watchers); i++)
		if (watchers[i])
			watchers[i](QROOT, b->name, new ? Wnew : Wgone);
}

/* the files that say a message's flags changed; the tree locked */
void
tree_modified(Box *b, uint32_t id)
{
	int kinds[] = { file_kind("flags"), file_kind("info") };

	for (size_t k = 0; k < nelem(kinds); k++)
		for (size_t i = 0; i < nelem(watchers); i++)
			if (watchers[i])
				watchers[i](mkq(b->id, id, 0, kinds[k]), NULL, Wmodified);
}

int
tree_openmode(Qpath q, int write)
{
	if (QKIND(q) == Qctl)
		return write ? 0 : seterr(EACCES, "permission denied");
	if (QKIND(q) == Qsearch || tree_flagsfile(q, NULL, NULL))
		return 0;
	if (!write)
		return 0;
	if (QKIND(q) == Qdir)
		return seterr(EISDIR, "is a directory");
	return seterr(EACCES, "permission denied");
}
