/*
 * The ctl files: commands written to the root ctl or a box's ctl.  A
 * command is parsed and checked when written (ctl_parse) and applied
 * later (ctl_apply): at once over 9P, at close through the mount, where
 * all the commands of one open are applied together so that fifty
 * deletes cost one mailbox rewrite.  The grammar is the table below,
 * the same for both transports (which of them batches is the open
 * file's policy, ofile.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tree/tree.h"

enum { Maxfields = 1024 };

typedef struct Cmddef Cmddef;

struct Ctlcmd {
	const Cmddef	*def;
	Box	*box;		/* the box the command acts on, if any */
	uint32_t	*ids;	/* messages, checked to exist when parsed */
	size_t	nids;
	char	*dest;		/* save: the mailbox path to copy to; open: to open */
	char	*name;		/* open: the name in the root */
	char	**names;	/* close: the boxes */
	int	nnames;
	uint16_t	set, clear;	/* flag: the change */
};

enum {	/* what a command leaves to the one rewrite of its box */
	Bnone,
	Bdelete,	/* its messages go */
	Bflags,		/* its messages' flags, set in the index, are stored */
};

struct Cmddef {
	const char	*name;
	int	(*parse)(Ctlcmd *c, Box *ctlbox, char **f, int nf);
	int	(*apply)(Ctlcmd *c);	/* before any rewrite; NULL: nothing */
	int	changes;	/* changes a mailbox: refused with -r */
	int	batch;		/* Bdelete, Bflags: joins its box's one rewrite */
};

static const char Eunknown[] = "unknown control message";
static int readonly;	/* -r: no command may change a mailbox */
static char *mailpath(const char *p);
static const char Ebad[] = "bad control message";

/* "12" or "12/" (acme Mail's): the number; 0 for anything else */
static uint32_t
msgnum(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *s < '0' || *s > '9' || (*end && strcmp(end, "/") != 0) || v > 0xFFFFFFFFul)
		return 0;
	return v;
}

/*
 * The message numbers in f, each a number or the command fails; a
 * number that names no message of b fails too unless skip (delete
 * skips them, as upas/fs does).
 */
static int
parseids(Ctlcmd *c, Box *b, char **f, int nf, int skip)
{
	c->ids = xmalloc((nf + 1) * sizeof *c->ids);
	for (int i = 0; i < nf; i++) {
		uint32_t id = msgnum(f[i]);
		if (id == 0)
			return seterr(EINVAL, "bad message number");
		if (box_msg(b, id) == NULL) {
			if (skip)
				continue;
			return seterr(ENOENT, "no such message");
		}
		c->ids[c->nids++] = id;
	}
	return 0;
}

/* root: delete box n...; box: delete [box] n... */
static int
pdelete(Ctlcmd *c, Box *ctlbox, char **f, int nf)
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
	return parseids(c, b, f, nf, 1);
}

/* refresh [box...]: from the root the named boxes, or all; from a box, that one */
static int
prefresh(Ctlcmd *c, Box *ctlbox, char **f, int nf)
{
	c->box = ctlbox;
	if (ctlbox)
		return 0;	/* extra fields are ignored, as acme Mail may send them */
	c->names = xmalloc((nf + 1) * sizeof *c->names);
	for (int i = 0; i < nf; i++) {
		if (box_byname(f[i]) == NULL)
			return seterr(ENOENT, "no such mailbox");
		c->names[c->nnames++] = xstrdup(f[i]);
	}
	return 0;
}

static int
arefresh(Ctlcmd *c)
{
	int r = 0;

	if (c->box)
		return watch_sync(c->box);
	for (int i = 0; r == 0 && i < c->nnames; i++)
		if (box_byname(c->names[i]))
			r = watch_sync(box_byname(c->names[i]));
	for (size_t k = 0; r == 0 && c->nnames == 0 && box_at(k); k++)
		r = watch_sync(box_at(k));
	return r;
}

/* a relative mailbox path is taken under the mail directory, $HOME/mail */
static char *
mailpath(const char *p)
{
	const char *home = getenv("HOME");
	Buf b = { 0 };

	if (p[0] == '/')
		return xstrdup(p);
	bufprint(&b, "%s/mail/%s", home && *home ? home : ".", p);
	return b.p;
}

/*
 * A relative save destination stays in the mail directory: no ".." or
 * empty component, and no symbolic link on the way (a message's sender
 * may suggest a name, and acme Mail passes it on).
 */
static int
inmaildir(const char *rel)
{
	const char *home = getenv("HOME");
	Buf p = { 0 };
	int r = 0;

	bufprint(&p, "%s/mail", home && *home ? home : ".");
	for (const char *s = rel; r == 0 && *s;) {
		size_t n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			r = seterr(EACCES, "save: %s: leaves the mail directory", rel);
		bufprint(&p, "/%.*s", (int)n, s);
		struct stat st;
		if (r == 0 && lstat(p.p, &st) == 0 && S_ISLNK(st.st_mode))
			r = seterr(EACCES, "save: %s: a symbolic link on the way out of the mail directory", rel);
		s += n + (s[n] == '/');
	}
	buffree(&p);
	return r;
}

/*
 * What "open name" names: a URL or an absolute path as it is; beside a
 * Maildir, its Maildir++ folder (".Sent" for Sent, ".a.b" for a/b);
 * beside an IMAP folder, the server's folder of that name; else a
 * mailbox under the mail directory.
 */
static char *
openpath(const char *p)
{
	Box *first = box_byid(1);
	char *beside;

	if (box_isurl(p) || p[0] == '/' || first == NULL)
		return box_isurl(p) ? xstrdup(p) : mailpath(p);
	if ((beside = box_beside(first, p)) != NULL)
		return beside;
	return mailpath(p);
}

/* open path [name]: the rules acme Mail relies on, "mbox name in use" first */
static int
popen_(Ctlcmd *c, Box *ctlbox, char **f, int nf)
{
	(void)ctlbox;
	if (nf < 1 || nf > 2)
		return seterr(EINVAL, "invalid arguments");
	c->dest = openpath(f[0]);
	const char *slash = strrchr(f[0], '/');
	const char *base = slash && slash[1] ? slash + 1 : f[0];
	c->name = xstrdup(nf == 2 ? f[1] : base[0] == '.' && base[1] ? base + 1 : base);
	if (strchr(c->name, '/') || !*c->name)
		return seterr(EINVAL, "/ not allowed in mailbox name");
	Box *b = box_byname(c->name);
	if (b && strcmp(b->path, c->dest) != 0) {
		char real[4096];
		if (box_isurl(c->dest) || realpath(c->dest, real) == NULL || strcmp(real, b->path) != 0)
			return seterr(EEXIST, "mbox name in use");
	}
	return 0;
}

/* close name...: boxes opened by a ctl open leave the root; others stay */
static int
pclose_(Ctlcmd *c, Box *ctlbox, char **f, int nf)
{
	c->names = xmalloc((nf + 1) * sizeof *c->names);
	for (int i = 0; i < nf; i++)
		c->names[c->nnames++] = xstrdup(f[i]);
	if (nf == 0 && ctlbox)	/* a box's own ctl: close that box */
		c->names[c->nnames++] = xstrdup(ctlbox->name);
	return 0;
}

static int
aopen(Ctlcmd *c)
{
	char real[4096];

	if (box_byname(c->name))
		return 0;	/* the same name for the same path: nothing to do */
	if (box_isurl(c->dest))
		snprintf(real, sizeof real, "%s", c->dest);
	else if (realpath(c->dest, real) == NULL)
		return seterr(errno, "%s: %s", c->dest, strerror(errno));
	Box *b = box_open(real, c->name);
	if (b == NULL)
		return -1;
	b->opened = 1;
	watch_add(b);
	tree_boxchanged(b, 1);
	return 0;
}

static int
aclose(Ctlcmd *c)
{
	for (int i = 0; i < c->nnames; i++) {
		Box *b = box_byname(c->names[i]);
		if (b && b->opened) {
			b->closed = 1;
			tree_boxchanged(b, 0);
		}
	}
	return 0;
}

/*
 * save dest n...: dest is an open box's name, else a path (acme Mail's
 * default is "stored").  Every number must name a message.
 */
static int
psave(Ctlcmd *c, Box *ctlbox, char **f, int nf)
{
	if (ctlbox == NULL || nf < 2)
		return seterr(EINVAL, "%s", Ebad);
	Box *to = box_byname(f[0]);
	if (to == NULL && f[0][0] != '/' && !box_isurl(f[0]) && inmaildir(f[0]) < 0)
		return -1;
	c->dest = to ? xstrdup(to->path) : mailpath(f[0]);
	c->box = ctlbox;
	return parseids(c, ctlbox, f + 1, nf - 1, 0);
}

/*
 * The messages, as plain bytes under the envelope the store kept or the
 * model made up, appended to dest by the backend of its kind.
 */
static int
asave(Ctlcmd *c)
{
	Buf raw = { 0 }, *plain = xzalloc(c->nids * sizeof *plain + 1), *env = xzalloc(c->nids * sizeof *env + 1);
	Mailmsg *mm = xzalloc(c->nids * sizeof *mm + 1);
	int r = 0;

	for (size_t i = 0; i < c->nids && r == 0; i++) {
		Msgent *m = box_msg(c->box, c->ids[i]);
		Msg *msg;
		if (m == NULL)
			r = seterr(ENOENT, "no such message");
		else if ((r = c->box->ops->fetch(c->box, m, &raw, &env[i])) == 0) {
			box_plain(c->box, &plain[i], raw.p, raw.n);
			if (env[i].n == 0 && (msg = msg_get(c->box, c->ids[i])) != NULL) {
				bufadd(&env[i], msg->env.p, msg->env.n);
				msg_put(msg);
			}
			mm[i] = (Mailmsg){ plain[i].p ? plain[i].p : "", plain[i].n, env[i].p, env[i].n };
		}
	}
	if (r == 0)
		r = box_append(c->dest, mm, c->nids);
	for (size_t k = 0; r == 0 && box_at(k); k++)	/* saved to an open box: show it there */
		if (strcmp(box_at(k)->path, c->dest) == 0)
			r = watch_sync(box_at(k));
	for (size_t i = 0; i < c->nids; i++) {
		buffree(&plain[i]);
		buffree(&env[i]);
	}
	free(plain);
	free(env);
	free(mm);
	buffree(&raw);
	return r;
}

/* box: flag flags n...; root: flag box flags n... */
static int
pflag(Ctlcmd *c, Box *ctlbox, char **f, int nf)
{
	if (ctlbox == NULL) {
		if (nf < 1)
			return seterr(EINVAL, "%s", Ebad);
		if ((ctlbox = box_byname(f[0])) == NULL)
			return seterr(ENOENT, "no such mailbox");
		f++, nf--;
	}
	if (nf < 2)
		return seterr(EINVAL, "%s", Ebad);
	if (flags_parse(f[0], &c->set, &c->clear) < 0)
		return -1;
	c->box = ctlbox;
	return parseids(c, ctlbox, f + 1, nf - 1, 0);
}

/* read, replied, junk, nonjunk n...: plan9port's flag commands */
static int
pword(Ctlcmd *c, Box *ctlbox, char **f, int nf, uint16_t set, uint16_t clear)
{
	if (ctlbox == NULL || nf < 1)
		return seterr(EINVAL, "%s", Ebad);
	c->box = ctlbox;
	c->set = set;
	c->clear = clear;
	return parseids(c, ctlbox, f, nf, 0);
}

static int pread_(Ctlcmd *c, Box *b, char **f, int nf) { return pword(c, b, f, nf, Fseen, Frecent); }
static int preplied(Ctlcmd *c, Box *b, char **f, int nf) { return pword(c, b, f, nf, Fanswered, 0); }
static int pjunk(Ctlcmd *c, Box *b, char **f, int nf) { return pword(c, b, f, nf, Fjunk, Fnotjunk); }
static int pnonjunk(Ctlcmd *c, Box *b, char **f, int nf) { return pword(c, b, f, nf, Fnotjunk, Fjunk); }

/* the flags into the index now; the store learns them at the rewrite */
static int
aflags(Ctlcmd *c)
{
	int r = 0;

	for (size_t k = 0; r == 0 && k < c->nids; k++)
		if (box_msg(c->box, c->ids[k]) && (r = msg_setflags(c->box, c->ids[k], c->set, c->clear)) == 0)
			file_flagschanged(c->box, c->ids[k]);
	return r;
}

static const Cmddef cmds[] = {
	/* name		parse		apply		changes	batch */
	{ "flag",	pflag,		aflags,		1,	Bflags },
	{ "read",	pread_,		aflags,		1,	Bflags },
	{ "replied",	preplied,	aflags,		1,	Bflags },
	{ "junk",	pjunk,		aflags,		1,	Bflags },
	{ "nonjunk",	pnonjunk,	aflags,		1,	Bflags },
	{ "save",	psave,		asave,		1,	Bnone },
	{ "delete",	pdelete,	NULL,		1,	Bdelete },
	{ "refresh",	prefresh,	arefresh,	0,	Bnone },
	{ "close",	pclose_,	aclose,		0,	Bnone },
	{ "open",	popen_,		aopen,		0,	Bnone },
};

void
ctl_readonly(void)
{
	readonly = 1;
}

void
ctl_free(Ctlcmd *c)
{
	if (c) {
		free(c->ids);
		free(c->dest);
		free(c->name);
		for (int i = 0; i < c->nnames; i++)
			free(c->names[i]);
		free(c->names);
		free(c);
	}
}

Ctlcmd *
ctl_parse(Qpath q, const char *line, size_t n)
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
	Box *b = tree_boxof(q);
	int r = seterr(EINVAL, "%s", Eunknown);
	for (size_t i = 0; i < nelem(cmds); i++)
		if (strcmp(f[0], cmds[i].name) == 0) {
			c->def = &cmds[i];
			r = cmds[i].parse(c, b, f + 1, nf - 1);
		}
	tree_unlock();
	if (r == 0 && readonly && c->def->changes)
		r = seterr(EROFS, "mailbox is read-only");
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
 * Rewrite box b once for all the commands: the deletes of cmds that act
 * on it, and the flags changed in its index.  Then tell the transports.
 */
static int
rewrite(Box *b, Ctlcmd **cmds, size_t n)
{
	uint32_t *ids = NULL, *flagged = NULL;
	size_t nids = 0, nflagged = 0;
	int r;

	for (size_t j = 0; j < n; j++) {
		Ctlcmd *d = cmds[j];
		if (d->box != b || d->def->batch == Bnone)
			continue;
		uint32_t **v = d->def->batch == Bdelete ? &ids : &flagged;
		size_t *nv = d->def->batch == Bdelete ? &nids : &nflagged;
		*v = xrealloc(*v, (*nv + d->nids + 1) * sizeof **v);
		for (size_t k = 0; k < d->nids; k++)
			if (box_msg(b, d->ids[k]))	/* may have gone since the parse */
				(*v)[(*nv)++] = d->ids[k];
	}
	r = nids + nflagged ? b->ops->commit(b, ids, nids) : 0;
	for (size_t k = 0; r == 0 && k < nids; k++)
		tree_changed(b, ids[k], 0);
	for (size_t k = 0; r == 0 && k < nflagged; k++)
		if (box_msg(b, flagged[k])) {
			msg_forget(b, flagged[k]);	/* its stored bytes changed */
			tree_modified(b, flagged[k]);
		}
	free(ids);
	free(flagged);
	return r;
}

/*
 * Apply cmds in order, except that each box is rewritten once, after
 * the others, for all its deletes and flag changes together.  Stops at
 * the first failure: 0, or -1 with the error record set.
 */
int
ctl_apply(Ctlcmd **cmds, size_t n)
{
	int r = 0;

	tree_lock();
	for (size_t i = 0; i < n && r == 0; i++)
		if (cmds[i]->def->apply)
			r = cmds[i]->def->apply(cmds[i]);
	for (size_t i = 0; i < n && r == 0; i++) {
		Ctlcmd *c = cmds[i];
		int first = c->box && c->def->batch != Bnone;
		for (size_t j = 0; j < i && first; j++)
			first = cmds[j]->box != c->box || cmds[j]->def->batch == Bnone;
		if (first)
			r = rewrite(c->box, cmds, n);
	}
	tree_unlock();
	return r;
}

/* one command to the ctl file ctl, applied now */
static int
command(Qpath ctl, const char *cmd, size_t n)
{
	Ctlcmd *c = ctl_parse(ctl, cmd, n);

	if (c == NULL)
		return -1;
	int r = ctl_apply(&c, 1);
	ctl_free(c);
	return r;
}

/* a write to a message's flags file: "flag <data> <n>" to its box's ctl */
int
ctl_writeflags(Qpath q, const char *data, size_t n)
{
	Qpath ctl;
	uint32_t id;
	Buf cmd = { 0 };

	if (!tree_flagsfile(q, &ctl, &id))
		return seterr(EACCES, "permission denied");
	bufputs(&cmd, "flag '");
	for (size_t i = 0; i < n; i++) {
		if (data[i] == '\n' && i == n - 1)
			break;
		if (data[i] == '\'')
			bufputc(&cmd, '\'');
		bufputc(&cmd, data[i]);
	}
	bufprint(&cmd, "' %u", id);
	int r = command(ctl, cmd.p, cmd.n);
	buffree(&cmd);
	return r;
}

/* the message of file q was read: "read <n>" to its box's ctl */
int
ctl_markseen(Qpath q)
{
	Qpath ctl;
	uint32_t id;
	char cmd[32];

	if (!tree_msgfile(q, &ctl, &id))
		return seterr(EINVAL, "not a message file");
	tree_lock();	/* read already: nothing to store, no rewrite */
	Box *b = tree_boxof(ctl);
	Msg *m = b ? msg_get(b, id) : NULL;
	uint16_t f = m ? msg_flags(m) : 0;
	msg_put(m);
	tree_unlock();
	if ((f & Fseen) && !(f & Frecent))
		return 0;
	snprintf(cmd, sizeof cmd, "read %u", id);
	return command(ctl, cmd, strlen(cmd));
}

/* Tremove or rmdir of a top-level message directory: delete it now */
int
ctl_removemsg(Qpath msgdir)
{
	Qpath ctl;
	uint32_t id;
	char cmd[32];

	if (!tree_msgdir(msgdir, &ctl, &id))
		return seterr(EACCES, "permission denied");
	snprintf(cmd, sizeof cmd, "delete %u", id);
	return command(ctl, cmd, strlen(cmd));
}
