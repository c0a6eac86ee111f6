/*
 * The ctl files: commands written to the root ctl or a box's ctl.  A
 * command is parsed and checked when written (ctl_parse) and applied
 * later (ctl_apply): at once over 9P, at close through the mount, where
 * all the commands of one open are applied together so that fifty
 * deletes cost one mailbox rewrite.  The grammar is the table below.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "fns.h"

enum { Maxfields = 1024 };

typedef struct Cmddef Cmddef;

struct Ctlcmd {
	const Cmddef	*def;
	Box	*box;		/* the box the command acts on, if any */
	uint32_t	*ids;	/* messages, checked to exist when parsed */
	size_t	nids;
	char	*dest;		/* save: the mailbox path to copy to */
};

struct Cmddef {
	const char	*name;
	int	(*parse)(Ctlcmd *c, Box *ctlbox, char **f, int nf, int strict);
};

static const char Eunknown[] = "unknown control message";
static const char Ebad[] = "bad control message";

/*
 * Plan 9's tokenize: blanks separate fields, '...' quotes, and '' inside
 * quotes is one quote.  The fields point into s, which is changed.
 */
static int
tokenize(char *s, char **f, int max)
{
	int n = 0;

	while (*s && n < max) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s)
			break;
		char *w = s, *o = s;
		f[n++] = w;
		int quoting = 0;
		for (; *s; s++) {
			if (!quoting && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
				break;
			if (*s == '\'') {
				if (quoting && s[1] == '\'')
					*o++ = *s++;
				else
					quoting = !quoting;
				continue;
			}
			*o++ = *s;
		}
		if (*s)
			s++;
		*o = 0;
	}
	return n;
}

/* "12" or "12/": the number; 0 for anything else */
static uint32_t
msgnum(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *s < '0' || *s > '9' || (*end && strcmp(end, "/") != 0) || v > 0xFFFFFFFFul)
		return 0;
	return v;
}

/* the message numbers in f: strictly, each must name a message of b */
static int
parseids(Ctlcmd *c, Box *b, char **f, int nf, int strict)
{
	c->ids = xmalloc((nf + 1) * sizeof *c->ids);
	for (int i = 0; i < nf; i++) {
		uint32_t id = msgnum(f[i]);
		if (id == 0 && strict)
			return seterr(EINVAL, "%s: %s is not a message number", Ebad, f[i]);
		if (id == 0 || box_msg(b, id) == NULL) {
			if (strict)
				return seterr(ENOENT, "no such message");
			continue;
		}
		c->ids[c->nids++] = id;
	}
	return 0;
}

/* root: delete box n...; box: delete [box] n... */
static int
pdelete(Ctlcmd *c, Box *ctlbox, char **f, int nf, int strict)
{
	Box *b = ctlbox;

	if (b == NULL) {
		if (nf < 1)
			return 0;	/* too few arguments: nothing to do */
		if ((b = box_byname(f[0])) == NULL)
			return seterr(ENOENT, "no such mailbox");
		f++, nf--;
	} else if (nf > 0 && strcmp(f[0], b->name) == 0)
		f++, nf--;
	c->box = b;
	return parseids(c, b, f, nf, strict);
}

/* refresh [box...]: all boxes from the root, this one from a box */
static int
prefresh(Ctlcmd *c, Box *ctlbox, char **f, int nf, int strict)
{
	(void)strict;
	if (ctlbox || nf == 0) {
		c->box = ctlbox;
		return 0;
	}
	if (nf > 1)
		return seterr(EINVAL, "%s: refresh one box at a time", Ebad);
	if ((c->box = box_byname(f[0])) == NULL)
		return seterr(ENOENT, "no such mailbox");
	return 0;
}

/* close: boxes opened at run time are not yet possible, so this closes nothing */
static int
pclose(Ctlcmd *c, Box *ctlbox, char **f, int nf, int strict)
{
	(void)c; (void)ctlbox; (void)f; (void)nf; (void)strict;
	return 0;
}

/*
 * save dest n...: dest is an open box's name, else a path; a relative
 * one is taken under the mail directory, $HOME/mail, as acme Mail's
 * default "stored" is.  Every number must name a message.
 */
static int
psave(Ctlcmd *c, Box *ctlbox, char **f, int nf, int strict)
{
	(void)strict;
	if (ctlbox == NULL || nf < 2)
		return seterr(EINVAL, "%s", Ebad);
	Box *to = box_byname(f[0]);
	const char *home = getenv("HOME");
	if (to)
		c->dest = xstrdup(to->path);
	else if (f[0][0] == '/')
		c->dest = xstrdup(f[0]);
	else {
		Buf p = { 0 };
		bufprint(&p, "%s/mail/%s", home && *home ? home : ".", f[0]);
		c->dest = p.p;
	}
	c->box = ctlbox;
	return parseids(c, ctlbox, f + 1, nf - 1, 1);
}

static int
save(Ctlcmd *c)
{
	Buf all = { 0 }, raw = { 0 }, env = { 0 };
	int r = 0;

	for (size_t i = 0; i < c->nids && r == 0; i++) {
		Msgent *m = box_msg(c->box, c->ids[i]);
		if (m == NULL) {
			r = seterr(ENOENT, "no such message");
			break;
		}
		if ((r = c->box->ops->fetch(c->box, m, &raw, &env)) < 0)
			break;
		bufadd(&all, env.p, env.n);
		bufadd(&all, raw.p, raw.n);
		if (raw.n == 0 || raw.p[raw.n - 1] != '\n')
			bufputc(&all, '\n');
		bufputc(&all, '\n');	/* the separator */
	}
	if (r == 0 && all.n) {
		char *dir = xstrdup(c->dest), *slash = strrchr(dir, '/');
		if (slash && slash != dir) {	/* $HOME/mail may not exist yet */
			*slash = 0;
			mkdir(dir, 0700);
		}
		free(dir);
		r = mbox_append(c->dest, &all);
	}
	for (size_t k = 0; r == 0 && box_at(k); k++)	/* saved to an open box: show it there */
		if (strcmp(box_at(k)->path, c->dest) == 0)
			r = watch_sync(box_at(k));
	buffree(&all);
	buffree(&raw);
	buffree(&env);
	return r;
}

static const Cmddef cmds[] = {
	{ "save", psave },
	{ "delete", pdelete },
	{ "refresh", prefresh },
	{ "close", pclose },
};

void
ctl_free(Ctlcmd *c)
{
	if (c) {
		free(c->ids);
		free(c->dest);
		free(c);
	}
}

Ctlcmd *
ctl_parse(Qpath q, const char *line, size_t n, int strict)
{
	char *s = xmalloc(n + 1), *f[Maxfields];
	Ctlcmd *c = xzalloc(sizeof *c);

	memcpy(s, line, n);
	s[n] = 0;
	if (n > 0 && s[n - 1] == '\n')
		s[n - 1] = 0;
	if (memchr(line, 0, n)) {
		seterr(EINVAL, "%s", Ebad);
		goto fail;
	}
	int nf = tokenize(s, f, Maxfields);
	if (nf == 0) {
		seterr(EINVAL, "%s", Eunknown);
		goto fail;
	}
	tree_lock();
	Box *b = tree_ctlbox(q);
	int r = seterr(EINVAL, "%s", Eunknown);
	for (size_t i = 0; i < nelem(cmds); i++)
		if (strcmp(f[0], cmds[i].name) == 0) {
			c->def = &cmds[i];
			r = cmds[i].parse(c, b, f + 1, nf - 1, strict);
		}
	tree_unlock();
	if (r < 0)
		goto fail;
	free(s);
	return c;
fail:
	free(s);
	ctl_free(c);
	return NULL;
}

/*
 * Apply cmds in order, except that the deletes of each box are gathered
 * into one removal, made where the first of them stands.  Stops at the
 * first failure: 0, or -1 with the error record set.
 */
int
ctl_apply(Ctlcmd **cmds, size_t n)
{
	int r = 0;

	tree_lock();
	for (size_t i = 0; i < n && r == 0; i++) {
		Ctlcmd *c = cmds[i];
		if (c->def->parse == psave) {
			r = save(c);
			continue;
		}
		if (c->def->parse == prefresh) {
			for (size_t k = 0; r == 0 && (c->box ? k == 0 : box_at(k) != NULL); k++)
				r = watch_sync(c->box ? c->box : box_at(k));
			continue;
		}
		if (c->def->parse != pdelete || c->box == NULL)
			continue;
		if (i > 0 && c->def->parse == pdelete) {
			int done = 0;	/* already gathered into an earlier delete of the box */
			for (size_t j = 0; j < i && !done; j++)
				done = cmds[j]->def->parse == pdelete && cmds[j]->box == c->box;
			if (done)
				continue;
		}
		uint32_t *ids = NULL;
		size_t nids = 0;
		for (size_t j = i; j < n; j++) {
			Ctlcmd *d = cmds[j];
			if (d->def->parse != pdelete || d->box != c->box)
				continue;
			ids = xrealloc(ids, (nids + d->nids + 1) * sizeof *ids);
			for (size_t k = 0; k < d->nids; k++)
				if (box_msg(c->box, d->ids[k]))	/* may have gone since the parse */
					ids[nids++] = d->ids[k];
		}
		if (nids > 0 && (r = c->box->ops->remove(c->box, ids, nids)) == 0)
			for (size_t k = 0; k < nids; k++)
				tree_changed(c->box, ids[k], 0);
		free(ids);
	}
	tree_unlock();
	return r;
}
