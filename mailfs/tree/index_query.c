/*
 * The search language (mailfs.4 and the README have it for users):
 *
 *	word		all words must match: whole words, any case, any accents
 *	word*		a word that starts so
 *	"a phrase"	words next to each other
 *	-term		messages without it (also NOT term)
 *	a OR b		either; binds closer than the AND of terms side by side
 *	( ... )		grouping
 *	from: to: cc: subject: body: attachment: filename:	a term in those fields only
 *	date:2024-01-01..2024-06-30	also date:2024, date:2024-03, open ends (date:2024..)
 *	is:unread is:read is:flagged is:replied is:deleted is:draft
 *
 * A term that names a field the language has not got is searched as
 * words (so "re:" and URLs are words).  Terms become FTS5 queries of
 * the words store, each on its own, and are combined here as sets of
 * message numbers, since a message's words are in a row per part.  A
 * term of several words ("a phrase", or e-mail) is asked for as all its
 * words, and the messages that have them are read again for the phrase
 * (the store keeps no word places).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "tree/index.h"

enum { Tword, Tand, Tor, Tnot, Tdate, Tis };
enum { Maxdepth = 50, Maxterms = 256 };

typedef struct Node Node;
struct Node {
	int	op;
	char	*text;	/* Tword: its text, as given */
	const char	*cols;	/* in these columns of the store, or NULL: all */
	int	prefix;	/* its last word a prefix */
	int64_t	from, to;	/* Tdate: [from, to) */
	uint16_t	flag;	/* Tis: the bit, and whether it must be set */
	int	set;
	Node	**kids;
	int	nkids;
};

struct Query {
	Node	*top;
};

typedef struct Parser Parser;
struct Parser {
	const char	*s;
	int	depth, terms;
};

static const struct { const char *name; const char *cols; } fields[] = {
	{ "from", "hfrom" }, { "to", "hto" }, { "cc", "hcc" }, { "subject", "subject" },
	{ "body", "body" }, { "attachment", "attachment filename" }, { "filename", "filename" },
};

static const struct { const char *name; uint16_t flag; int set; } flagwords[] = {
	{ "unread", Fseen, 0 }, { "read", Fseen, 1 }, { "seen", Fseen, 1 }, { "flagged", Fflagged, 1 },
	{ "replied", Fanswered, 1 }, { "answered", Fanswered, 1 }, { "deleted", Fdeleted, 1 }, { "draft", Fdraft, 1 },
};

static Node *
node(int op)
{
	Node *n = xzalloc(sizeof *n);

	n->op = op;
	return n;
}

static void
adopt(Node *n, Node *kid)
{
	n->kids = xrealloc(n->kids, (n->nkids + 1) * sizeof *n->kids);
	n->kids[n->nkids++] = kid;
}

static void
freenode(Node *n)
{
	if (n == NULL)
		return;
	for (int i = 0; i < n->nkids; i++)
		freenode(n->kids[i]);
	free(n->kids);
	free(n->text);
	free(n);
}

void
query_free(Query *q)
{
	if (q) {
		freenode(q->top);
		free(q);
	}
}

static int
special(int c)
{
	return c == 0 || isspace(c) || c == '"' || c == '(' || c == ')';
}

/* does s[0..n) have anything a word is made of? */
static int
wordy(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (isalnum((unsigned char)s[i]) || (unsigned char)s[i] >= 0x80)
			return 1;
	return 0;
}

/* s[0..n) as an FTS5 string, in its quotes */
static void
quoted(Buf *b, const char *s, size_t n)
{
	bufputc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			bufputc(b, '"');
		bufputc(b, s[i]);
	}
	bufputc(b, '"');
}

/* YYYY, YYYY-MM or YYYY-MM-DD: the start of that time and of the next, UTC */
static int
day(const char *s, size_t n, int64_t *start, int64_t *end)
{
	struct tm tm = { .tm_mday = 1 };
	int y, m = 0, d = 0, k = 0;
	char buf[16];

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (!((sscanf(buf, "%4d-%2d-%2d%n", &y, &m, &d, &k) == 3 && k == (int)n && n == 10) ||
	      (sscanf(buf, "%4d-%2d%n", &y, &m, &k) == 2 && k == (int)n && n == 7 && (d = 0, 1)) ||
	      (sscanf(buf, "%4d%n", &y, &k) == 1 && k == (int)n && n == 4 && (m = d = 0, 1))))
		return -1;
	if (y < 1970 || y > 9999 || m > 12 || d > 31 || (n > 4 && m < 1) || (n > 7 && d < 1))
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m ? m - 1 : 0;
	tm.tm_mday = d ? d : 1;
	*start = timegm(&tm);
	if (d)
		tm.tm_mday++;
	else if (m)
		tm.tm_mon++;
	else
		tm.tm_year++;
	*end = timegm(&tm);
	return 0;
}

static Node *
datenode(const char *s, size_t n)
{
	const char *dots = memmem(s, n, "..", 2);
	int64_t a0, a1, b0, b1;
	Node *r = node(Tdate);

	r->from = INT64_MIN;
	r->to = INT64_MAX;
	if (dots == NULL) {
		if (day(s, n, &r->from, &r->to) == 0)
			return r;
	} else {
		size_t na = dots - s, nb = n - na - 2;
		if ((na || nb) && (na == 0 || day(s, na, &a0, &a1) == 0) && (nb == 0 || day(dots + 2, nb, &b0, &b1) == 0)) {
			if (na)
				r->from = a0;
			if (nb)
				r->to = b1;
			return r;
		}
	}
	freenode(r);
	seterr(EINVAL, "bad date in date:%.*s: want YYYY-MM-DD, YYYY-MM or YYYY, or two joined by ..", (int)n, s);
	return NULL;
}

static Node *
isnode(const char *s, size_t n)
{
	for (size_t i = 0; i < nelem(flagwords); i++)
		if (strlen(flagwords[i].name) == n && strncasecmp(flagwords[i].name, s, n) == 0) {
			Node *r = node(Tis);
			r->flag = flagwords[i].flag;
			r->set = flagwords[i].set;
			return r;
		}
	seterr(EINVAL, "unknown flag is:%.*s: want unread, read, flagged, replied, deleted or draft", (int)n, s);
	return NULL;
}

/* a word, word* or "phrase" (the quote at p->s), in cols (NULL: all) */
static Node *
textnode(Parser *p, const char *cols)
{
	Buf b = { 0 };
	const char *s = p->s;
	size_t n;
	int prefix = 0;

	if (*s == '"') {
		const char *e = strchr(s + 1, '"');
		if (e == NULL) {
			seterr(EINVAL, "a phrase is not closed: %s", s);
			return NULL;
		}
		s++;
		n = e - s;
		p->s = e + 1;
		if (*p->s == '*')	/* "a phr"* as FTS5 writes it */
			p->s++, prefix = 1;
		else if (n > 0 && s[n - 1] == '*')	/* "a phr*" */
			n--, prefix = 1;
	} else {
		for (n = 0; !special((unsigned char)s[n]); n++)
			;
		p->s = s + n;
		if (n > 0 && s[n - 1] == '*') {
			prefix = 1;
			n--;
		}
	}
	if (!wordy(s, n)) {
		if (prefix || *s == '"' || cols)
			seterr(EINVAL, "nothing to search for in %.*s", (int)(p->s - s), s);
		else
			seterr(0, "%s", "");	/* punctuation alone: no term */
		return NULL;
	}
	Node *r = node(Tword);
	bufadd(&b, s, n);
	r->text = b.p;
	r->cols = cols;
	r->prefix = prefix;
	return r;
}

static Node *andexpr(Parser *p, int inner);

static Node *
term(Parser *p)
{
	const char *s = p->s, *colon = NULL;

	if (++p->terms > Maxterms) {
		seterr(EINVAL, "too many terms: at most %d", Maxterms);
		return NULL;
	}
	for (const char *c = s; !special((unsigned char)*c); c++)
		if (*c == ':') {
			colon = c;
			break;
		}
	if (colon == NULL)
		return textnode(p, NULL);
	size_t fn = colon - s;
	const char *v = colon + 1;
	size_t vn = 0;
	while (!special((unsigned char)v[vn]))
		vn++;
	if (fn == 4 && strncasecmp(s, "date", 4) == 0) {
		p->s = v + vn;
		return datenode(v, vn);
	}
	if (fn == 2 && strncasecmp(s, "is", 2) == 0) {
		p->s = v + vn;
		return isnode(v, vn);
	}
	for (size_t i = 0; i < nelem(fields); i++)
		if (strlen(fields[i].name) == fn && strncasecmp(fields[i].name, s, fn) == 0) {
			p->s = v;
			if (*v == 0 || isspace((unsigned char)*v) || *v == '(' || *v == ')') {
				seterr(EINVAL, "nothing after %.*s:", (int)fn, s);
				return NULL;
			}
			return textnode(p, fields[i].cols);
		}
	return textnode(p, NULL);	/* not a field of ours: words */
}

static void
skipspace(Parser *p)
{
	while (isspace((unsigned char)*p->s))
		p->s++;
}

static int
keyword(Parser *p, const char *k)
{
	size_t n = strlen(k);

	if (strncmp(p->s, k, n) == 0 && special((unsigned char)p->s[n]) && p->s[n] != '"') {
		p->s += n;
		return 1;
	}
	return 0;
}

static Node *
unary(Parser *p)
{
	skipspace(p);
	if (++p->depth > Maxdepth) {
		seterr(EINVAL, "the query nests too deep");
		return NULL;
	}
	Node *r = NULL;
	int neg = 0;
	if (*p->s == '-') {
		p->s++;
		neg = !isspace((unsigned char)*p->s) && *p->s != 0;
		if (!neg) {
			seterr(EINVAL, "nothing after -");
			return NULL;
		}
	} else if (keyword(p, "NOT")) {
		skipspace(p);
		if (*p->s == 0 || *p->s == ')') {
			seterr(EINVAL, "nothing after NOT");
			return NULL;
		}
		neg = 1;
	}
	if (neg) {
		Node *k = unary(p);
		if (k) {
			r = node(Tnot);
			adopt(r, k);
		}
	} else if (*p->s == '(') {
		p->s++;
		r = andexpr(p, 1);
		if (r && *p->s != ')') {
			freenode(r);
			seterr(EINVAL, "a ( is not closed");
			r = NULL;
		} else if (r)
			p->s++;
	} else if (*p->s == ')') {
		seterr(EINVAL, "a ) that closes nothing");
	} else
		r = term(p);
	p->depth--;
	return r;
}

/* terms joined by OR; NULL with code 0: punctuation that is no term */
static Node *
orexpr(Parser *p)
{
	Node *r = unary(p);

	if (r == NULL)
		return NULL;
	for (;;) {
		skipspace(p);
		const char *at = p->s;
		if (!keyword(p, "OR"))
			return r;
		skipspace(p);
		if (*p->s == 0 || *p->s == ')') {
			freenode(r);
			seterr(EINVAL, "nothing after OR");
			return NULL;
		}
		Node *k = unary(p);
		if (k == NULL) {
			if (errcode() == 0)
				seterr(EINVAL, "nothing to search for after OR at %s", at);
			freenode(r);
			return NULL;
		}
		if (r->op != Tor) {
			Node *o = node(Tor);
			adopt(o, r);
			r = o;
		}
		adopt(r, k);
	}
}

static Node *
andexpr(Parser *p, int inner)
{
	Node *r = node(Tand);

	for (;;) {
		skipspace(p);
		if (*p->s == 0 || (inner && *p->s == ')'))
			break;
		if (keyword(p, "AND"))
			continue;
		if (strncmp(p->s, "OR", 2) == 0 && special((unsigned char)p->s[2]) && p->s[2] != '"') {
			freenode(r);
			seterr(EINVAL, "OR with nothing before it");
			return NULL;
		}
		seterr(0, "%s", "");
		Node *k = orexpr(p);
		if (k == NULL && errcode() != 0) {
			freenode(r);
			return NULL;
		}
		if (k)
			adopt(r, k);
	}
	if (r->nkids == 0) {
		freenode(r);
		seterr(EINVAL, inner ? "nothing between ( and )" : "empty query: give words to search for");
		return NULL;
	}
	return r;
}

Query *
query_parse(const char *s)
{
	Parser p = { s, 0, 0 };
	Node *top = andexpr(&p, 0);

	if (top == NULL)
		return NULL;
	if (*p.s != 0) {
		freenode(top);
		seterr(EINVAL, "a ) that closes nothing");
		return NULL;
	}
	Query *q = xzalloc(sizeof *q);
	q->top = top;
	return q;
}

/* ---- evaluation, as sorted sets of message numbers ---- */

typedef struct Set Set;
struct Set {
	uint32_t	*v;
	size_t	n;
};

typedef struct Run Run;
struct Run {
	const Qenv	*env;
	int	loaded;
	uint32_t	*ids;	/* every message, ascending */
	uint16_t	*flags;
	int64_t	*dates;
	size_t	n;
	int64_t	*docs;	/* of the term at hand */
	size_t	ndocs, capdocs;
};

static int
cmpu32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
load(Run *r)
{
	if (!r->loaded)
		r->n = r->env->all(r->env->arg, &r->ids, &r->flags, &r->dates);
	r->loaded = 1;
}

static void
gotdoc(void *arg, int64_t doc)
{
	Run *r = arg;

	if (r->ndocs == r->capdocs) {
		r->capdocs = r->capdocs ? 2 * r->capdocs : 256;
		r->docs = xrealloc(r->docs, r->capdocs * sizeof *r->docs);
	}
	r->docs[r->ndocs++] = doc;
}

/* the FTS5 query of words w[0..k), each alone (and) or as one phrase */
static void
ftsquery(Buf *b, Node *n, const char *w, int k, int phrase)
{
	for (int i = 0; i < k; i++, w += strlen(w) + 1) {
		if (i > 0 && !phrase)
			bufputs(b, " AND ");
		if (n->cols && (i == 0 || !phrase))
			bufprint(b, "{%s} : ", n->cols);
		if (!phrase)
			quoted(b, w, strlen(w));
		else {
			bufputs(b, i == 0 ? "\"" : " ");
			for (const char *c = w; *c; c++)
				bufadd(b, c, 1 + (*c == '"'));
		}
		if (!phrase && i == k - 1 && n->prefix)
			bufputs(b, " *");
	}
	if (phrase)
		bufputs(b, n->prefix ? "\" *" : "\"");
}

static int
words(Run *r, Node *n, Set *out)
{
	Buf w = { 0 }, and = { 0 }, phrase = { 0 };

	r->ndocs = 0;
	idb_wlock(r->env->db);
	int ntok = idb_tokens(r->env->db, n->text, &w), e = ntok < 0 ? -1 : 0;
	if (ntok > 0) {
		ftsquery(&and, n, w.p, ntok, 0);
		ftsquery(&phrase, n, w.p, ntok, 1);
		e = idb_match(r->env->db, and.p, gotdoc, r);
	}
	idb_wunlock(r->env->db);
	buffree(&w);
	buffree(&and);
	if (e < 0) {
		buffree(&phrase);
		return -1;
	}
	out->v = xmalloc((r->ndocs + 1) * sizeof *out->v);
	out->n = r->env->resolve(r->env->arg, r->docs, r->ndocs, out->v);
	qsort(out->v, out->n, sizeof *out->v, cmpu32);
	size_t k = 0;
	for (size_t i = 0; i < out->n; i++)
		if (k == 0 || out->v[k - 1] != out->v[i])
			out->v[k++] = out->v[i];
	out->n = k;
	if (k > 0 && ntok > 1)	/* a phrase: those that have its words, read again */
		out->n = r->env->verify(r->env->arg, out->v, out->n, phrase.p);
	buffree(&phrase);
	return 0;
}

static void
filter(Run *r, Node *n, Set *out)
{
	load(r);
	out->v = xmalloc((r->n + 1) * sizeof *out->v);
	out->n = 0;
	for (size_t i = 0; i < r->n; i++) {
		int ok = n->op == Tdate ? r->dates[i] >= n->from && r->dates[i] < n->to :
			((r->flags[i] & n->flag) != 0) == n->set;
		if (ok)
			out->v[out->n++] = r->ids[i];
	}
}

static void
combine(Set *a, const Set *b, int op)
{
	uint32_t *v = xmalloc((a->n + b->n + 1) * sizeof *v);
	size_t i = 0, j = 0, k = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : cmpu32(&a->v[i], &b->v[j]);
		if (c == 0) {
			if (op != Tnot)
				v[k++] = a->v[i];
			i++, j++;
		} else if (c < 0) {
			if (op != Tand)
				v[k++] = a->v[i];
			i++;
		} else {
			if (op == Tor)
				v[k++] = b->v[j];
			j++;
		}
	}
	free(a->v);
	a->v = v;
	a->n = k;
}

static int
eval(Run *r, Node *n, Set *out)
{
	memset(out, 0, sizeof *out);
	switch (n->op) {
	case Tword:
		return words(r, n, out);
	case Tdate:
	case Tis:
		filter(r, n, out);
		return 0;
	case Tnot: {
		Set k;
		if (eval(r, n->kids[0], &k) < 0)
			return -1;
		load(r);
		out->v = xmalloc((r->n + 1) * sizeof *out->v);
		memcpy(out->v, r->ids, r->n * sizeof *out->v);
		out->n = r->n;
		combine(out, &k, Tnot);
		free(k.v);
		return 0;
	}
	}
	for (int i = 0; i < n->nkids; i++) {	/* Tand, Tor */
		Set k;
		if (eval(r, n->kids[i], &k) < 0) {
			free(out->v);
			return -1;
		}
		if (i == 0)
			*out = k;
		else {
			combine(out, &k, n->op);
			free(k.v);
		}
		if (n->op == Tand && out->n == 0)
			break;	/* nothing can come back */
	}
	return 0;
}

int
query_run(Query *q, const Qenv *env, uint32_t **ids, size_t *n)
{
	Run r = { .env = env };
	Set s;

	int e = eval(&r, q->top, &s);
	free(r.ids);
	free(r.flags);
	free(r.dates);
	free(r.docs);
	*ids = e == 0 ? s.v : NULL;
	*n = e == 0 ? s.n : 0;
	return e;
}
