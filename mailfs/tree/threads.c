/*
 * The threads files: a box's threads, and each message's own thread,
 * made at each open from the summaries of all the box's messages, so
 * new mail and deletes show at once.  A summary (Message-ID, parents,
 * subject, date) is read from a message's header once and kept until
 * the message goes; threading the kept summaries is cheap (thread.c).
 * Called with the tree locked.
 */
#include <stdlib.h>
#include <string.h>
#include "tree/tree.h"

typedef struct Summ Summ;
struct Summ {
	uint32_t	box, id;
	int64_t	date;
	char	*msgid, *subject;
	char	**refs;
	size_t	nrefs;
	Summ	*next;
};

enum { Nhash = 1 << 16, Maxparents = 64 };
static Summ *hash[Nhash];

static Summ **
slot(uint32_t box, uint32_t id)
{
	Summ **l = &hash[(id * 2654435761u ^ box) & (Nhash - 1)];

	while (*l && ((*l)->box != box || (*l)->id != id))
		l = &(*l)->next;
	return l;
}

/* kind's content of p as a string, malloc'd; NULL if empty */
static char *
text(Part *p, const char *kind)
{
	Buf b = { 0 };

	file_gen(&b, p, file_kind(kind));
	if (b.n == 0) {
		buffree(&b);
		return NULL;
	}
	bufputc(&b, 0);
	return b.p;
}

/* the <ids> of a one-a-line list, into refs */
static void
split(Summ *s, char *list)
{
	for (char *l = list; l && *l;) {
		char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		s->refs = xrealloc(s->refs, (s->nrefs + 1) * sizeof *s->refs);
		s->refs[s->nrefs] = xmalloc(n + 1);
		memcpy(s->refs[s->nrefs], l, n);
		s->refs[s->nrefs++][n] = 0;
		l = nl ? nl + 1 : l + n;
	}
}

static Summ *
summarize(Box *b, Msgent *e)
{
	Msg *m = msg_get(b, e->id);
	Part *p = m ? msg_part(m, 0) : NULL;

	if (p == NULL) {
		msg_put(m);
		return NULL;	/* unreadable now: left out, tried again at the next open */
	}
	Summ *s = xzalloc(sizeof *s);
	s->box = b->id;
	s->id = e->id;
	s->date = m->date ? m->date : e->date;
	s->msgid = text(p, "messageid");
	s->subject = text(p, "subject");
	char *refs = text(p, "references");
	if (refs == NULL && part_hdr(p)) {	/* no References: In-Reply-To's first id */
		Buf irt = { 0 };
		hdr_ids(&irt, part_hdr(p), "In-Reply-To", Maxparents);
		if (irt.n) {
			bufputc(&irt, 0);
			char *nl = strchr(irt.p, '\n');
			if (nl)
				*nl = 0;
			refs = irt.p;
		} else
			buffree(&irt);
	}
	split(s, refs);
	free(refs);
	msg_put(m);
	*slot(b->id, e->id) = s;
	return s;
}

static void
freesumm(Summ *s)
{
	for (size_t i = 0; i < s->nrefs; i++)
		free(s->refs[i]);
	free(s->refs);
	free(s->msgid);
	free(s->subject);
	free(s);
}

void
threads_forget(Box *b, uint32_t id)
{
	Summ **l = slot(b->id, id), *s = *l;

	if (s) {
		*l = s->next;
		freesumm(s);
	}
}

void
threads_forgetbox(Box *b)
{
	for (size_t i = 0; i < Nhash; i++)
		for (Summ **l = &hash[i], *s; (s = *l) != NULL;)
			if (s->box == b->id) {
				*l = s->next;
				freesumm(s);
			} else
				l = &s->next;
}

void
threads_make(Buf *out, Box *b, uint32_t only)
{
	Tmsg *t = xmalloc((b->nmsgs + 1) * sizeof *t);
	size_t n = 0;

	for (size_t i = 0; i < b->nmsgs; i++) {
		Summ *s = *slot(b->id, b->msgs[i].id);
		if (s == NULL && (s = summarize(b, &b->msgs[i])) == NULL)
			continue;
		t[n++] = (Tmsg){ s->id, s->date, s->msgid, (const char **)s->refs, s->nrefs, s->subject };
	}
	thread_make(out, t, n, only);
	free(t);
}
