/*
 * The files of a message or part directory, as a table: name, mode,
 * where the file is listed, and the generator of its content.  Contents
 * are made once per cached message and shared; stat lengths come from
 * the same bytes a read returns.
 */
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>
#include "tree/tree.h"

typedef void Gen(Buf *out, Part *p);

static Gen genbcc, gencc, genfrom, genreplyto, gensender, gento, genbody, gendate, gendigest, gendisposition, genfilename,
	genflags, genheader, geninfo, geninreplyto, genlines, genmessageid,
	genmimeheader, genraw, genrawbody, genrawheader, genrawunix, gensize,
	genreferences, gensubject, gentext, genthread, gentype, genunixdate, genunixheader;

/*
 * Listed in this order, before the numbered parts.  Whole: made from
 * the message's bytes, not its header alone (the others are made from
 * these, or from the header), so a store that gave only the header
 * must give the rest first.
 */
enum { Header, Whole };
static const struct {
	const char	*name;
	int	mode;
	int	where;
	Gen	*gen;
	int	whole;
	int	how;	/* write behaviour of the top-level file */
} files[] = {
	{ "bcc",	0444, Ftop | Fpart, genbcc, Header, Hread },
	{ "body",	0444, Ftop | Fpart, genbody, Whole, Hread },
	{ "cc",		0444, Ftop | Fpart, gencc, Header, Hread },
	{ "date",	0444, Ftop | Fpart, gendate, Header, Hread },
	{ "digest",	0444, Ftop | Fpart, gendigest, Whole, Hread },
	{ "disposition",0444, Ftop | Fpart, gendisposition, Header, Hread },
	{ "filename",	0444, Ftop | Fpart, genfilename, Header, Hread },
	{ "flags",	0666, Ftop, genflags, Header, Hflags },
	{ "from",	0444, Ftop | Fpart, genfrom, Header, Hread },
	{ "header",	0444, Ftop | Fpart, genheader, Header, Hread },
	{ "info",	0444, Ftop | Fpart, geninfo, Whole, Hread },
	{ "inreplyto",	0444, Ftop | Fpart, geninreplyto, Header, Hread },
	{ "lines",	0444, Ftop | Fpart, genlines, Whole, Hread },
	{ "messageid",	0444, Ftop | Fpart, genmessageid, Header, Hread },
	{ "mimeheader",	0444, Ftop | Fpart, genmimeheader, Whole, Hread },
	{ "raw",	0444, Ftop | Fpart, genraw, Whole, Hread },
	{ "rawbody",	0444, Ftop | Fpart, genrawbody, Whole, Hread },
	{ "rawheader",	0444, Ftop | Fpart, genrawheader, Whole, Hread },
	{ "rawunix",	0444, Ftop, genrawunix, Whole, Hread },
	{ "references",	0444, Ftop | Fpart, genreferences, Header, Hread },
	{ "replyto",	0444, Ftop | Fpart, genreplyto, Header, Hread },
	{ "sender",	0444, Ftop | Fpart, gensender, Header, Hread },
	{ "size",	0444, Ftop | Fpart, gensize, Whole, Hread },
	{ "subject",	0444, Ftop | Fpart, gensubject, Header, Hread },
	{ "text",	0444, Ftop | Fpart, gentext, Whole, Hread },
	{ "thread",	0444, Ftop, genthread, Header, Hlive },
	{ "to",		0444, Ftop | Fpart, gento, Header, Hread },
	{ "type",	0444, Ftop | Fpart, gentype, Header, Hread },
	{ "unixdate",	0444, Ftop, genunixdate, Header, Hread },
	{ "unixheader",	0444, Ftop, genunixheader, Header, Hread },
};

_Static_assert(nelem(files) < Maxfiles, "Part.files holds every file kind");

int
file_count(void)
{
	return nelem(files);
}

const char *
file_name(int kind)
{
	return kind >= 1 && kind <= (int)nelem(files) ? files[kind - 1].name : NULL;
}

int
file_kind(const char *name)
{
	for (size_t i = 0; i < nelem(files); i++)
		if (strcmp(files[i].name, name) == 0)
			return i + 1;
	return 0;
}

int
file_mode(int kind)
{
	return files[kind - 1].mode;
}

int
file_where(int kind)
{
	return files[kind - 1].where;
}

int
file_how(int kind)
{
	return files[kind - 1].how;
}

/*
 * What a file made from content needs first: a top-level message's
 * bytes; a part of a skeleton (IMAP) its own content and that of every
 * part below it, fetched by section, never the whole message.
 */
static int
wholefor(Part *p)
{
	if (p->parent == NULL)
		return msg_whole(p->msg);	/* a single-part one's body: body_decode fills it */
	if (!p->msg->skeletal)
		return msg_whole(p->msg);
	return part_fill(p, 1);
}

/* a message's flags changed: the files made of them are made again */
void
file_flagschanged(Box *b, uint32_t id)
{
	Msg *m = msg_peek(b, id);
	int kinds[] = { file_kind("flags"), file_kind("info") };

	for (size_t i = 0; m && i < nelem(kinds); i++) {
		blobunref(m->parts[0]->files[kinds[i]]);
		m->parts[0]->files[kinds[i]] = NULL;
	}
	msg_put(m);
}

Blob *
file_content(Part *p, int kind)
{
	if (kind < 1 || kind > (int)nelem(files))
		return seterr(ENOENT, "file does not exist"), NULL;
	if (p->files[kind] == NULL && files[kind - 1].whole && wholefor(p) < 0)
		return NULL;
	if (files[kind - 1].how == Hlive) {	/* what the whole box says now: not kept */
		Buf b = { 0 };
		files[kind - 1].gen(&b, p);
		Blob *live = blobfrombuf(&b);
		buffree(&b);
		return live;
	}
	if (p->files[kind] == NULL) {
		Buf b = { 0 };
		files[kind - 1].gen(&b, p);
		p->files[kind] = blobfrombuf(&b);
		buffree(&b);
		msg_charge(p->msg, sizeof(Blob) + p->files[kind]->n);
	}
	return blobref(p->files[kind]);
}

void
file_gen(Buf *out, Part *p, int kind)
{
	if (p->files[kind])
		bufadd(out, p->files[kind]->p, p->files[kind]->n);
	else if (!files[kind - 1].whole || wholefor(p) == 0)
		files[kind - 1].gen(out, p);
}

/* does p's file hold folded, a case-folded query?  Both are UTF-8. */
static int
holds(Part *p, int kind, const char *folded)
{
	Blob *b = file_content(p, kind);
	char *text = b ? hdr_fold(b->p, b->n) : NULL;
	int r = text && strstr(text, folded) != NULL;

	free(text);
	blobunref(b);
	return r;
}

/*
 * Search, as the search file does: case-insensitive, over the decoded
 * header of every message in m and the decoded body of every text part.
 */
int
file_search(Msg *m, const char *query)
{
	char type[128];
	char *q = hdr_fold(query, strlen(query));
	int found = 0;

	if (part_full(m) < 0)
		found = 0;
	else
		for (uint32_t i = 0; i < m->nparts && !found; i++) {
			Part *p = m->parts[i];
			found = (p->entity == Kmessage && holds(p, file_kind("header"), q)) ||
				(p->nkids == 0 && strncmp(part_typename(p, type, sizeof type), "text/", 5) == 0 &&
				 holds(p, file_kind("body"), q));
		}
	free(q);
	return found;
}

/* another file's content appended to out */
static void
append(Buf *out, Part *p, const char *name)
{
	Blob *b = file_content(p, file_kind(name));

	bufadd(out, b->p, b->n);
	blobunref(b);
}

/* where the header block of p's raw bytes ends, and its body starts */
static void
rawsplit(Part *p, const Blob *raw, size_t *hdrlen, size_t *bodyoff)
{
	if (p->parent == NULL) {
		*hdrlen = p->msg->hdrlen;
		*bodyoff = p->msg->bodyoff;
		return;
	}
	hdrsplit(raw->p, raw->n, hdrlen, bodyoff);
}

static void
addrs(Buf *out, Part *p, int which)
{
	if (part_hdr(p))
		hdr_pairs(out, part_hdr(p), which);
}

static void
value(Buf *out, Part *p, const char *name)
{
	if (part_hdr(p))
		hdr_value(out, part_hdr(p), name);
}

static void genbcc(Buf *out, Part *p) { addrs(out, p, Abcc); }
static void gencc(Buf *out, Part *p) { addrs(out, p, Acc); }
static void genfrom(Buf *out, Part *p) { addrs(out, p, Afrom); }
static void genreplyto(Buf *out, Part *p) { addrs(out, p, Areplyto); }
static void gensender(Buf *out, Part *p) { addrs(out, p, Asender); }
static void gento(Buf *out, Part *p) { addrs(out, p, Ato); }

static void
genbody(Buf *out, Part *p)
{
	body_decode(out, p);
}

static void
gendate(Buf *out, Part *p)
{
	value(out, p, "Date");
}

/* the top message's over what rawunix holds; a part's over its raw */
static void
gendigest(Buf *out, Part *p)
{
	Msg *m = p->msg;

	if (p->parent == NULL) {
		info_digest(out, m->env.p, m->env.n, m->raw.p, m->raw.n);
		return;
	}
	Blob *b = file_content(p, file_kind("raw"));
	info_digest(out, b->p, b->n, "", 0);
	blobunref(b);
}

static void
gendisposition(Buf *out, Part *p)
{
	const char *v = part_disposition(p);

	if (v && strcasecmp(v, "attachment") == 0)
		bufputs(out, "file");
	else if (v && strcasecmp(v, "inline") == 0)
		bufputs(out, "inline");
}

/*
 * The name a user may save the part under: a basename only, with
 * whitespace, ';', the characters a shell would act on and the
 * bidirectional controls made '_', so
 * the "9p read ... > dest" line acme Mail prints is safe to run.
 */
static void
genfilename(Buf *out, Part *p)
{
	const char *name = part_filename(p);

	if (name == NULL)
		return;
	const char *slash = strrchr(name, '/'), *bs = strrchr(name, '\\');
	if (slash || bs)
		name = (slash > bs ? slash : bs) + 1;
	size_t start = out->n;
	for (const char *c = name; *c; c++) {
		unsigned char ch = *c;
		size_t bidi = utf8bidi(c);
		if (bidi) {	/* a name that reads otherwise than it is (U+202E: "invoice\u202Efdp.exe") */
			bufputc(out, '_');
			c += bidi - 1;
		} else if (ch <= ' ' || ch == 0x7f || strchr(";'\"`$&|<>*?()[]{}!#~\\", ch))
			bufputc(out, '_');
		else
			bufputc(out, ch);
	}
	if (strcmp(out->p + start, ".") == 0 || strcmp(out->p + start, "..") == 0) {
		out->n = start;
		out->p[start] = 0;
	}
}

static void
genflags(Buf *out, Part *p)
{
	info_flags(out, p->msg);
}

static void
genheader(Buf *out, Part *p)
{
	if (part_hdr(p))
		hdr_all(out, part_hdr(p));
}

static void
geninfo(Buf *out, Part *p)
{
	info_make(out, p);
}

static void
geninreplyto(Buf *out, Part *p)
{
	value(out, p, "In-Reply-To");
}

/* 9front's upas/fs keeps ten; a long thread is worth more */
enum { Maxrefs = 64 };

static void
genreferences(Buf *out, Part *p)
{
	if (part_hdr(p))
		hdr_ids(out, part_hdr(p), "References", Maxrefs);
}

/* its thread, as the box's threads file gives it */
static void
genthread(Buf *out, Part *p)
{
	threads_make(out, p->msg->box, p->msg->id);
}

static size_t
newlines(const char *p, size_t n)
{
	size_t k = 0;

	for (const char *c = p; (c = memchr(c, '\n', p + n - c)) != NULL; c++)
		k++;
	return k;
}

static void
genlines(Buf *out, Part *p)
{
	Msg *m = p->msg;

	if (p->parent == NULL) {
		bufprint(out, "%zu", newlines(m->raw.p + m->bodyoff, m->raw.n - m->bodyoff));
		return;
	}
	Blob *b = file_content(p, file_kind("rawbody"));
	bufprint(out, "%zu", newlines(b->p, b->n));
	blobunref(b);
}

static void
genmessageid(Buf *out, Part *p)
{
	value(out, p, "Message-ID");
}

static void
genmimeheader(Buf *out, Part *p)
{
	if (p->parent == NULL || p->entity == Kmessage)
		return;
	Blob *b = file_content(p, file_kind("raw"));
	size_t hl, bo;
	rawsplit(p, b, &hl, &bo);
	bufadd(out, b->p, hl);
	blobunref(b);
}

static void
genraw(Buf *out, Part *p)
{
	part_raw(out, p);
}

static void
genrawbody(Buf *out, Part *p)
{
	Blob *b = file_content(p, file_kind("raw"));
	size_t hl, bo;

	rawsplit(p, b, &hl, &bo);
	bufadd(out, b->p + bo, b->n - bo);
	blobunref(b);
}

static void
genrawheader(Buf *out, Part *p)
{
	if (p->entity != Kmessage)
		return;
	Blob *b = file_content(p, file_kind("raw"));
	size_t hl, bo;
	rawsplit(p, b, &hl, &bo);
	bufadd(out, b->p, hl);
	blobunref(b);
}

static void
genrawunix(Buf *out, Part *p)
{
	bufadd(out, p->msg->env.p, p->msg->env.n);
	append(out, p, "raw");
}

static void
gensize(Buf *out, Part *p)
{
	Blob *b = file_content(p, file_kind("raw"));

	bufprint(out, "%zu", b->n);
	blobunref(b);
}

static void
gensubject(Buf *out, Part *p)
{
	if (part_hdr(p))
		hdr_decoded(out, part_hdr(p), "Subject");
}

static void
gentext(Buf *out, Part *p)
{
	text_make(out, p);
}

static void
gentype(Buf *out, Part *p)
{
	char t[128];

	bufputs(out, part_typename(p, t, sizeof t));
}

static void
genunixdate(Buf *out, Part *p)
{
	hdr_ctime(out, p->msg->date);
}

static void
genunixheader(Buf *out, Part *p)
{
	bufadd(out, p->msg->env.p, p->msg->env.n);
}
