/*
 * The open mailboxes, in the order they were opened, and the table of
 * backends that box_open asks in turn whether a path is theirs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "box/box.h"

static const Boxops *backends[] = {	/* asked in this order */
	&imapops,
	&maildirops,
	&mboxops,
};

static Box **boxes;
static size_t nboxes;
static uint32_t nextboxid = 1;	/* box 0 is the root directory */

enum { Maxboxid = (1u << (64 - Qbits_msg - Qbits_part - Qbits_kind)) - 1 };

Box *
box_open(const char *path, const char *name)
{
	const Boxops *ops = NULL;
	struct stat st;

	if (!box_isurl(path) && stat(path, &st) < 0)
		return seterr(errno, "%s: %s", path, strerror(errno)), NULL;
	if (nextboxid > Maxboxid)
		return seterr(EMFILE, "too many mailboxes opened"), NULL;
	for (size_t i = 0; i < nelem(backends) && ops == NULL; i++)
		if (backends[i]->probe(path))
			ops = backends[i];
	if (ops == NULL) {
		seterr(EINVAL, "%s: not a mailbox this mailfs can read", path);
		return NULL;
	}
	Box *b = xzalloc(sizeof *b);
	b->name = xstrdup(name);
	b->path = xstrdup(path);
	b->ops = ops;
	b->nextid = 1;
	b->notify = -1;
	if (ops->open(b) < 0) {
		free(b->msgs);
		free(b->name);
		free(b->path);
		free(b);
		return NULL;
	}
	b->id = nextboxid++;
	boxes = xrealloc(boxes, (nboxes + 1) * sizeof *boxes);
	boxes[nboxes++] = b;
	return b;
}

/*
 * Append to the store at path, whichever kind it is; a path that does
 * not exist yet becomes a store of the kind that creates them (mbox).
 */
int
box_append(const char *path, const Mailmsg *m, size_t n)
{
	struct stat st;
	const Boxops *ops = NULL;
	int exists = box_isurl(path) || stat(path, &st) == 0;

	for (size_t i = 0; i < nelem(backends) && ops == NULL; i++)
		if (exists ? backends[i]->probe(path) : backends[i]->create)
			ops = backends[i];
	if (ops == NULL)
		return seterr(EINVAL, "%s: not a mailbox this mailfs can write", path);
	if (ops->append == NULL)
		return seterr(EINVAL, "save: copying to an %s store is not supported; save to a file or Maildir",
			ops->name);
	return ops->append(path, m, n);
}

char *
box_beside(Box *b, const char *name)
{
	return b->ops->beside ? b->ops->beside(b, name) : NULL;
}

void
box_plain(Box *b, Buf *out, const char *p, size_t n)
{
	if (b->ops->unquote)
		b->ops->unquote(out, p, n);
	else
		bufadd(out, p, n);
}

/* a mailbox named by a URL, not a path: "scheme://..." */
int
box_isurl(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz");

	return n > 0 && strncmp(s + n, "://", 3) == 0;
}

static Passfn *passfn;

void
box_setpassfn(Passfn *fn)
{
	passfn = fn;
}

int
box_credential(const char *service, const char *server, const char *user, int fresh, Cred *c)
{
	if (passfn == NULL)
		return seterr(EACCES, "no password for %s@%s: no key source", user, server);
	return passfn(service, server, user, fresh, c);
}

static Progressfn *progressfn;

void
box_setprogress(Progressfn *fn)
{
	progressfn = fn;
}

void
box_progress(const char *what, const char *doing, size_t done, size_t total)
{
	if (progressfn)
		progressfn(what, doing, done, total);
}

void
box_credfree(Cred *c)
{
	if (c->secret.p)
		memset(c->secret.p, 0, c->secret.n);
	buffree(&c->secret);
	c->token = 0;
}

Box *
box_byid(uint32_t id)
{
	for (size_t i = 0; i < nboxes; i++)
		if (boxes[i]->id == id)
			return boxes[i];
	return NULL;
}

Box *
box_byname(const char *name)
{
	for (size_t i = 0; i < nboxes; i++)
		if (!boxes[i]->closed && strcmp(boxes[i]->name, name) == 0)
			return boxes[i];
	return NULL;
}

/* the i-th box of the root; closed boxes are skipped */
Box *
box_at(size_t i)
{
	for (size_t k = 0; k < nboxes; k++)
		if (!boxes[k]->closed && i-- == 0)
			return boxes[k];
	return NULL;
}

size_t
box_msgindex(Box *b, uint32_t id)
{
	size_t lo = 0, hi = b->nmsgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->msgs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

Msgent *
box_msg(Box *b, uint32_t id)
{
	size_t i = box_msgindex(b, id);

	return i < b->nmsgs && b->msgs[i].id == id ? &b->msgs[i] : NULL;
}

void
box_add(Box *b, const Msgent *m)
{
	if (b->nmsgs == b->capmsgs) {
		b->capmsgs = b->capmsgs ? 2 * b->capmsgs : 1024;
		b->msgs = xrealloc(b->msgs, b->capmsgs * sizeof *b->msgs);
	}
	b->msgs[b->nmsgs] = *m;
	b->msgs[b->nmsgs].id = b->nextid++;
	b->nmsgs++;
}

void
box_closeall(void)
{
	for (size_t i = 0; i < nboxes; i++) {
		Box *b = boxes[i];
		b->ops->close(b);
		if (b->notify >= 0)
			close(b->notify);
		free(b->msgs);
		free(b->name);
		free(b->path);
		free(b);
	}
	free(boxes);
	boxes = NULL;
	nboxes = 0;
}
