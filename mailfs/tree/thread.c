/*
 * Threads, by the JWZ algorithm as RFC 5256 gives it for REFERENCES:
 * a message's parent is the last id of its References (else its
 * In-Reply-To), and the ids before it are linked in order wherever that
 * makes no loop and moves no link made already.  A parent the mailbox
 * lacks is a placeholder, so the replies to a missing message stay
 * together; a placeholder between two others is dropped, its children
 * moved up.  A Message-ID seen twice names the first message; the
 * second is a thread of its own, never merged with the first.  Only a
 * message with no References and no In-Reply-To, alone in its thread,
 * is grouped by subject: a reply ("Re: x") goes under the oldest
 * thread about x, so no two threads that headers made are merged.
 * Siblings are in date order, threads newest first: the thread holding
 * the highest message number (the latest to arrive) on top.
 *
 * This file knows messages only by the summaries it is given, so it
 * threads what an index or the headers say alike.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "tree/tree.h"

typedef struct Cont Cont;
struct Cont {
	const char	*id;	/* NULL: a duplicate's own container */
	long	msg;	/* index into the summaries, or -1: a placeholder */
	long	parent, kid, next;	/* -1: none */
	int64_t	date;	/* of its message, or its earliest descendant */
	uint32_t	newest;	/* highest message number in its subtree */
};

typedef struct Set Set;
struct Set {
	Cont	*c;
	size_t	n, max;
	long	*hash;	/* container by id, -1 empty */
	size_t	nhash;
};

static size_t
strhash(const char *s)
{
	size_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static long
newcont(Set *s, const char *id, long msg)
{
	if (s->n == s->max) {
		s->max = s->max ? 2 * s->max : 64;
		s->c = xrealloc(s->c, s->max * sizeof *s->c);
	}
	s->c[s->n] = (Cont){ id, msg, -1, -1, -1, 0, 0 };
	return (long)s->n++;
}

/* the container of id, made (a placeholder) if there is none */
static long
byid(Set *s, const char *id)
{
	size_t i = strhash(id) & (s->nhash - 1);

	for (; s->hash[i] >= 0; i = (i + 1) & (s->nhash - 1))
		if (strcmp(s->c[s->hash[i]].id, id) == 0)
			return s->hash[i];
	return s->hash[i] = newcont(s, id, -1);
}

/* is a an ancestor of b, or b itself? */
static int
above(const Set *s, long a, long b)
{
	for (; b >= 0; b = s->c[b].parent)
		if (b == a)
			return 1;
	return 0;
}

static void
unlink1(Set *s, long k)
{
	long p = s->c[k].parent, *l;

	if (p < 0)
		return;
	for (l = &s->c[p].kid; *l != k; l = &s->c[*l].next)
		;
	*l = s->c[k].next;
	s->c[k].parent = s->c[k].next = -1;
}

static void
link1(Set *s, long parent, long k)
{
	s->c[k].parent = parent;
	s->c[k].next = s->c[parent].kid;
	s->c[parent].kid = k;
}

/* steps 1 and 2 of the algorithm: containers, and the links between them */
static void
build(Set *s, const Tmsg *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		long me = -1;
		if (m[i].msgid && *m[i].msgid) {
			me = byid(s, m[i].msgid);
			if (s->c[me].msg >= 0)	/* a duplicate id: a container of its own */
				me = -1;
			else
				s->c[me].msg = (long)i;
		}
		if (me < 0)
			me = newcont(s, NULL, (long)i);
		long prev = -1;
		for (size_t r = 0; r < m[i].nrefs; r++) {
			if (!*m[i].refs[r])
				continue;
			long c = byid(s, m[i].refs[r]);
			if (prev >= 0 && c != prev && s->c[c].parent < 0 && !above(s, c, prev))
				link1(s, prev, c);
			prev = c;
		}
		if (prev >= 0 && prev != me && !above(s, me, prev)) {
			unlink1(s, me);
			link1(s, prev, me);
		}
	}
}

/* a placeholder with a parent gives its children to that parent */
static void
prune(Set *s)
{
	for (size_t k = 0; k < s->n; k++) {
		Cont *c = &s->c[k];
		if (c->msg >= 0 || c->parent < 0)
			continue;
		long p = c->parent;
		unlink1(s, (long)k);
		while (s->c[k].kid >= 0) {
			long kid = s->c[k].kid;
			unlink1(s, kid);
			link1(s, p, kid);
		}
	}
}

/*
 * The subject without its reply and list prefixes (Re:, Re[2]:, Fwd:,
 * Fw:, Aw:, [list]), white space collapsed, ASCII lower case; *reply
 * says whether a reply prefix went.  The caller frees it.
 */
static char *
basesubject(const char *s, int *reply)
{
	static const char *pre[] = { "re", "fwd", "fw", "aw" };
	size_t n;

	*reply = 0;
	for (int again = 1; s && again;) {
		again = 0;
		s += strspn(s, " \t");
		if (*s == '[' && strchr(s, ']')) {
			s = strchr(s, ']') + 1;
			again = 1;
			continue;
		}
		for (size_t i = 0; i < nelem(pre); i++) {
			n = strlen(pre[i]);
			if (strncasecmp(s, pre[i], n) != 0)
				continue;
			const char *t = s + n;
			if (*t == '[') {	/* Re[2]: */
				size_t d = strspn(t + 1, "0123456789");
				if (t[1 + d] == ']')
					t += d + 2;
			}
			if (*t == ':') {
				s = t + 1;
				*reply = again = 1;
				break;
			}
		}
	}
	Buf b = { 0 };
	for (; s && *s; s++)
		if (*s == ' ' || *s == '\t') {
			if (b.n && b.p[b.n - 1] != ' ')
				bufputc(&b, ' ');
		} else
			bufputc(&b, *s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
	if (b.n && b.p[b.n - 1] == ' ')
		b.n--;
	bufputc(&b, 0);
	return b.p;
}

typedef struct Root Root;
struct Root {
	long	k;
	char	*subject;
	int	reply, loose;
	int64_t	date;
};

static int
bysubject(const void *a, const void *b)
{
	const Root *x = a, *y = b;
	int c = strcmp(x->subject, y->subject);

	if (c)
		return c;
	int xr = x->loose && x->reply, yr = y->loose && y->reply;
	if (xr != yr)	/* what a loose reply may join first: a thread, or an original, */
		return xr - yr;
	return x->date < y->date ? -1 : x->date > y->date;	/* the oldest first */
}

/* step 5: a loose reply goes under the oldest thread or original of its subject */
static void
group(Set *s, const Tmsg *m)
{
	Root *r = NULL;
	size_t nr = 0;

	for (size_t k = 0; k < s->n; k++) {
		Cont *c = &s->c[k];
		if (c->parent >= 0 || (c->msg < 0 && c->kid < 0))
			continue;
		long sm = c->msg >= 0 ? c->msg : s->c[c->kid].msg;
		if (sm < 0)
			continue;
		r = xrealloc(r, (nr + 1) * sizeof *r);
		r[nr] = (Root){ (long)k, NULL, 0, 0, m[sm].date };
		r[nr].subject = basesubject(m[sm].subject, &r[nr].reply);
		r[nr].loose = c->msg >= 0 && c->kid < 0 && m[c->msg].nrefs == 0;
		nr++;
	}
	if (nr > 1)
		qsort(r, nr, sizeof *r, bysubject);
	for (size_t i = 0, j; i < nr; i = j) {
		for (j = i + 1; j < nr && strcmp(r[j].subject, r[i].subject) == 0; j++)
			if (*r[i].subject && r[j].loose && r[j].reply)
				link1(s, r[i].k, r[j].k);
	}
	for (size_t i = 0; i < nr; i++)
		free(r[i].subject);
	free(r);
}

/* children of k sorted by date, then number: siblings are few */
static void
sortkids(Set *s, const Tmsg *m, long k)
{
	long *kids = NULL;
	size_t nk = 0;

	for (long x = s->c[k].kid; x >= 0; x = s->c[x].next) {
		kids = xrealloc(kids, (nk + 1) * sizeof *kids);
		kids[nk++] = x;
	}
	for (size_t i = 1; i < nk; i++)
		for (size_t j = i; j > 0; j--) {
			Cont *a = &s->c[kids[j - 1]], *b = &s->c[kids[j]];
			uint32_t an = a->msg >= 0 ? m[a->msg].num : a->newest;
			uint32_t bn = b->msg >= 0 ? m[b->msg].num : b->newest;
			if (a->date < b->date || (a->date == b->date && an <= bn))
				break;
			long t = kids[j - 1];
			kids[j - 1] = kids[j];
			kids[j] = t;
		}
	s->c[k].kid = nk ? kids[0] : -1;
	for (size_t i = 0; i < nk; i++)
		s->c[kids[i]].next = i + 1 < nk ? kids[i + 1] : -1;
	free(kids);
}

/*
 * Dates and newest numbers up the tree from root, then every family
 * sorted.  Without recursion: a thread may be as deep as the mailbox
 * is long.  Containers are visited in an order where each comes after
 * its parent, then settled in reverse.
 */
static void
settle(Set *s, const Tmsg *m, long root, long *order)
{
	size_t n = 0;

	order[n++] = root;
	for (size_t i = 0; i < n; i++)
		for (long x = s->c[order[i]].kid; x >= 0; x = s->c[x].next)
			order[n++] = x;
	for (size_t i = n; i-- > 0;) {
		Cont *c = &s->c[order[i]];
		if (c->msg >= 0) {
			c->date = m[c->msg].date;
			if (m[c->msg].num > c->newest)
				c->newest = m[c->msg].num;
		} else if (c->kid < 0)
			c->date = INT64_MAX;
		sortkids(s, m, order[i]);
		if (c->parent >= 0) {
			Cont *p = &s->c[c->parent];
			if (p->msg < 0 && (p->date == 0 || c->date < p->date))
				p->date = c->date;
			if (c->newest > p->newest)
				p->newest = c->newest;
		}
	}
}

/* depth-first, without recursion: a "depth\tnumber" line each, "-" for a placeholder */
static void
emit(Buf *out, const Set *s, const Tmsg *m, long root)
{
	long k = root;
	int depth = 0;

	for (;;) {
		const Cont *c = &s->c[k];
		if (c->msg >= 0)
			bufprint(out, "%d\t%u\n", depth, m[c->msg].num);
		else
			bufprint(out, "%d\t-\n", depth);
		if (c->kid >= 0) {
			k = c->kid;
			depth++;
			continue;
		}
		while (k != root && s->c[k].next < 0) {
			k = s->c[k].parent;
			depth--;
		}
		if (k == root)
			return;
		k = s->c[k].next;
	}
}

static int
newestfirst(const void *a, const void *b, void *arg)
{
	const Set *s = arg;
	uint32_t x = s->c[*(const long *)a].newest, y = s->c[*(const long *)b].newest;

	return x < y ? 1 : x > y ? -1 : 0;
}

void
thread_make(Buf *out, const Tmsg *m, size_t n, uint32_t only)
{
	Set s = { 0 };
	size_t refs = 0;

	for (size_t i = 0; i < n; i++)
		refs += m[i].nrefs + 1;
	for (s.nhash = 64; s.nhash < 2 * refs; s.nhash *= 2)
		;
	s.hash = xmalloc(s.nhash * sizeof *s.hash);
	memset(s.hash, 0xff, s.nhash * sizeof *s.hash);
	build(&s, m, n);
	prune(&s);
	group(&s, m);
	long *roots = xmalloc((s.n + 1) * sizeof *roots), *order = xmalloc((s.n + 1) * sizeof *order);
	size_t nroots = 0;
	for (size_t k = 0; k < s.n; k++)
		if (s.c[k].parent < 0 && (s.c[k].msg >= 0 || s.c[k].kid >= 0)) {
			settle(&s, m, (long)k, order);
			roots[nroots++] = (long)k;
		}
	free(order);
	if (only) {	/* just the thread that holds message only: up from it to its root */
		long k = -1;
		for (size_t i = 0; i < s.n && k < 0; i++)
			if (s.c[i].msg >= 0 && m[s.c[i].msg].num == only)
				k = (long)i;
		while (k >= 0 && s.c[k].parent >= 0)
			k = s.c[k].parent;
		if (k >= 0)
			emit(out, &s, m, k);
	} else {
		qsort_r(roots, nroots, sizeof *roots, newestfirst, &s);
		for (size_t i = 0; i < nroots; i++)
			emit(out, &s, m, roots[i]);
	}
	free(roots);
	free(s.hash);
	free(s.c);
}
