/*
 * Read-ahead, on the other core.  Readers go through a mailbox in order
 * (acme Mail newest first, a shell glob oldest first), asking for the
 * same file of each message, and making that file (reading the message,
 * parsing its header, hashing it for the digest) is most of what such a
 * read costs.  When the tree sees one top-level file asked for in
 * messages next to each other, this thread makes it for the next few
 * messages in that direction, away from the tree lock (msg_detach), so
 * that their requests find it made while the transport's round trips
 * for the current one go on.  Only a hint: what it makes is dropped if
 * the store changed meanwhile, and a reader that overtakes it makes the
 * file itself.
 *
 * Concurrency: its own lock, taken while the tree's may be held (hints
 * come from inside the tree), never the other way round.
 */
#include <pthread.h>
#include <stdlib.h>
#include "tree/tree.h"

enum { Ahead = 3 };	/* messages made before the reader asks */

typedef struct Want Want;
struct Want {
	uint32_t	box;
	uint32_t	id;	/* the message asked for last */
	int	kind;
	int	dir;	/* +1 or -1 in the box's order */
	uint64_t	seq;	/* bumped with every new want */
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static Want want, last;
static uint64_t taken;	/* the seq the thread works on */
static int running, stopping, busy;
static size_t made;

/* called with the tree locked, for each top-level file of a message asked for */
void
prefetch_hint(Box *b, uint32_t id, int kind)
{
	size_t at = box_msgindex(b, id);

	pthread_mutex_lock(&lk);
	if (running && last.box == b->id && last.kind == kind && last.id != id) {
		size_t prev = box_msgindex(b, last.id);
		if (prev + 1 == at || at + 1 == prev) {
			want = (Want){ b->id, id, kind, at > prev ? 1 : -1, want.seq + 1 };
			pthread_cond_broadcast(&cond);
		}
	}
	last = (Want){ b->id, id, kind, 0, 0 };
	pthread_mutex_unlock(&lk);
}

/* the k-th message from w's in its direction, read from its store; NULL if none */
static Msg *
detach(const Want *w, int k)
{
	Msg *m = NULL;

	tree_lock();
	Box *b = box_byid(w->box);
	if (b && !b->closed) {
		size_t at = box_msgindex(b, w->id);
		size_t to = w->dir > 0 ? at + k : at - k;	/* wraps past 0 to out of range */
		if (at < b->nmsgs && b->msgs[at].id == w->id && to < b->nmsgs)
			m = msg_detach(b, b->msgs[to].id);
	}
	tree_unlock();
	return m;
}

static int
current(uint64_t seq)
{
	pthread_mutex_lock(&lk);
	int r = want.seq == seq && !stopping;
	pthread_mutex_unlock(&lk);
	return r;
}

static void *
prefetcher(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&lk);
	for (;;) {
		busy = 0;
		pthread_cond_broadcast(&cond);
		while (!stopping && want.seq == taken)
			pthread_cond_wait(&cond, &lk);
		if (stopping)
			break;
		Want w = want;
		taken = w.seq;
		busy = 1;
		pthread_mutex_unlock(&lk);
		for (int k = 1; k <= Ahead && current(w.seq); k++) {
			Msg *m = detach(&w, k);
			if (m == NULL)
				continue;
			if (part_build(m) == 0)
				blobunref(file_content(m->parts[0], w.kind));
			tree_lock();
			int kept = msg_adopt(m);
			tree_unlock();
			pthread_mutex_lock(&lk);
			made += kept;
			pthread_mutex_unlock(&lk);
		}
		pthread_mutex_lock(&lk);
	}
	busy = 0;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lk);
	return NULL;
}

void
prefetch_start(void)
{
	pthread_t t;

	part_init();	/* GMime's set-up, before two threads may parse */
	pthread_mutex_lock(&lk);
	if (!running && pthread_create(&t, NULL, prefetcher, NULL) == 0) {
		pthread_detach(t);
		running = 1;
	}
	pthread_mutex_unlock(&lk);
}

/* no message is being made when this returns, and none will be: before boxes go */
void
prefetch_stop(void)
{
	pthread_mutex_lock(&lk);
	stopping = 1;
	pthread_cond_broadcast(&cond);
	while (running && busy)
		pthread_cond_wait(&cond, &lk);
	pthread_mutex_unlock(&lk);
}

size_t
prefetch_made(void)
{
	pthread_mutex_lock(&lk);
	size_t n = made;
	pthread_mutex_unlock(&lk);
	return n;
}
