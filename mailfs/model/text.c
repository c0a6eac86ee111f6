/*
 * The readable text of an entity: what a person reading the message
 * would be shown, as plain UTF-8.  A message's text is its main content
 * (the parts a mail reader shows inline, one alternative of each
 * multipart/alternative), then a list of the parts it did not show.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "model/gm.h"

enum {
	Maxnest = 100,	/* deeper parts add no text: real mail nests a few levels */
	Stubwords = 200,	/* a plain alternative this long is never a stub */
};

/* what the text of one message covers: the parts shown, or passed over as alternatives */
typedef struct Cover Cover;
struct Cover {
	char	*seen;	/* by Part.idx */
};

static int
istype(Part *p, const char *type)
{
	char t[128];

	return strcmp(part_typename(p, t, sizeof t), type) == 0;
}

static int
ismultipart(Part *p)
{
	char t[128];

	return strncmp(part_typename(p, t, sizeof t), "multipart/", 10) == 0;
}

/* an entity whose text is its own content, not its children's */
static int
isleaf(Part *p)
{
	return p->nkids == 0;
}

static int
ismessage(Part *p)
{
	return p->entity == Krfc822 || (p->entity == Kmessage && p->parent != NULL);
}

/* p and everything below it: seen (1) or not (0) */
static void
cover(Cover *c, Part *p, int seen, int depth)
{
	c->seen[p->idx] = seen;
	for (int i = 0; i < p->nkids && depth < Maxnest; i++)
		cover(c, p->kids[i], seen, depth + 1);
}

/* RFC 3676: soft line breaks (a trailing space) joined, space-stuffing undone, quotes kept */
static void
flowed(Buf *out, const char *p, size_t n, int delsp)
{
	int open = 0, depth = 0;

	for (const char *line = p, *end = p + n; line < end;) {
		const char *nl = memchr(line, '\n', end - line);
		size_t len = (nl ? nl : end) - line;
		size_t q = 0;
		while (q < len && line[q] == '>')
			q++;
		const char *t = line + q;
		size_t tl = len - q;
		if (tl > 0 && *t == ' ')
			t++, tl--;
		int sig = tl == 3 && memcmp(t, "-- ", 3) == 0;
		int soft = !sig && tl > 0 && t[tl - 1] == ' ';
		if (open && (int)q != depth) {
			bufputc(out, '\n');
			open = 0;
		}
		if (!open && q > 0) {
			for (size_t i = 0; i < q; i++)
				bufputc(out, '>');
			bufputc(out, ' ');
		}
		bufadd(out, t, soft && delsp ? tl - 1 : tl);
		open = soft;
		depth = q;
		if (!soft)
			bufputc(out, '\n');
		line = nl ? nl + 1 : end;
	}
	if (open)
		bufputc(out, '\n');
}

static const char *
param(Part *p, const char *name)
{
	GMimeContentType *ct = part_ctype(p);

	return ct ? g_mime_content_type_get_parameter(ct, name) : NULL;
}

static void
plain(Buf *out, Part *p)
{
	Buf b = { 0 };
	const char *format = param(p, "format"), *delsp = param(p, "delsp");

	body_decode(&b, p);
	if (format && strcasecmp(format, "flowed") == 0)
		flowed(out, b.p ? b.p : "", b.n, delsp && strcasecmp(delsp, "yes") == 0);
	else
		bufadd(out, b.p, b.n);
	if (out->n > 0 && out->p[out->n - 1] != '\n')
		bufputc(out, '\n');
	buffree(&b);
}

static void
html(Buf *out, Part *p)
{
	Buf b = { 0 };

	body_bytes(&b, p);
	html_text(out, b.p ? b.p : "", b.n, param(p, "charset"));
	buffree(&b);
}

static size_t
words(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)p[i]) && (i == 0 || isspace((unsigned char)p[i - 1])))
			k++;
	return k;
}

static int
wordbyte(unsigned char c)
{
	return isalnum(c) || c >= 0x80;
}

/*
 * Is the plain alternative a stub beside the HTML one ("to view this
 * message, open it in a browser")?  Empty, or short and about
 * something else: fewer than half its words are in the HTML's text.
 */
static int
stub(const Buf *pt, const Buf *ht)
{
	size_t wp = words(pt->p, pt->n), wh = words(ht->p, ht->n);

	if (wh == 0 || wp >= Stubwords || wh <= wp)
		return wh > 0 && wp == 0;
	char *pf = hdr_fold(pt->p ? pt->p : "", pt->n), *hf = hdr_fold(ht->p, ht->n);
	size_t total = 0, found = 0;
	for (char *w = pf; *w;) {
		while (*w && !wordbyte(*w))
			w++;
		char *e = w;
		while (*e && wordbyte(*e))
			e++;
		char save = *e;
		*e = 0;
		if (e - w >= 3) {
			total++;
			found += strstr(hf, w) != NULL;
		}
		*e = save;
		w = e;
	}
	free(pf);
	free(hf);
	return 2 * found < total || total == 0;
}

static void content(Buf *out, Part *p, Cover *c, int depth);

/* RFC 2387: the root is the part start= names, else the first */
static Part *
relatedroot(Part *p)
{
	const char *start = param(p, "start");

	for (int i = 0; start && i < p->nkids; i++) {
		GMimeObject *o = part_mimeobj(p->kids[i]);
		const char *id = o ? g_mime_object_get_content_id(o) : NULL;
		size_t n = strlen(start);
		if (id && n >= 2 && start[0] == '<' && strlen(id) == n - 2 && strncmp(start + 1, id, n - 2) == 0)
			return p->kids[i];
		if (id && strcmp(id, start) == 0)
			return p->kids[i];
	}
	return p->nkids > 0 ? p->kids[0] : NULL;
}

/* the HTML of an alternative: text/html, or the root of a multipart/related */
static int
ishtml(Part *p)
{
	if (istype(p, "text/html"))
		return 1;
	return istype(p, "multipart/related") && relatedroot(p) && istype(relatedroot(p), "text/html");
}

/*
 * Of the alternatives, the text/plain one, unless it is empty or a stub
 * ("view this message in a browser") while an HTML one has content;
 * failing both, the last one with any text.
 */
static void
alternative(Buf *out, Part *p, Cover *c, int depth)
{
	Part *plainp = NULL, *htmlp = NULL, *pick = NULL;
	uint32_t n = p->msg->nparts;

	for (int i = 0; i < p->nkids; i++) {
		if (istype(p->kids[i], "text/plain"))
			plainp = p->kids[i];
		else if (ishtml(p->kids[i]))
			htmlp = p->kids[i];
	}
	Buf pt = { 0 }, ht = { 0 };
	Cover cp = { xzalloc(n) }, ch = { xzalloc(n) };
	if (plainp)
		content(&pt, plainp, &cp, depth + 1);
	if (htmlp)
		content(&ht, htmlp, &ch, depth + 1);
	Buf *text = &pt;
	Cover *shown = &cp;
	if (htmlp && words(ht.p, ht.n) > 0 && (plainp == NULL || stub(&pt, &ht)))
		pick = htmlp, text = &ht, shown = &ch;
	else if (plainp)
		pick = plainp;
	cover(c, p, 1, depth);	/* the other alternatives are other forms of it, not attachments */
	if (pick) {
		cover(c, pick, 0, depth);	/* but what the pick leaves out is listed */
		for (uint32_t i = 0; i < n; i++)
			c->seen[i] |= shown->seen[i];
		bufadd(out, text->p, text->n);
	}
	for (int i = p->nkids - 1; pick == NULL && i >= 0; i--) {
		size_t before = out->n;
		cover(c, p->kids[i], 0, depth);
		content(out, p->kids[i], c, depth + 1);
		if (out->n > before)
			pick = p->kids[i];
		else
			cover(c, p->kids[i], 1, depth);
	}
	free(cp.seen);
	free(ch.seen);
	buffree(&pt);
	buffree(&ht);
}

/*
 * A part a mail reader shows inline within its multipart: text or a
 * multipart, neither sent as an attachment nor, unless it says inline,
 * named as a file.
 */
static int
shown(Part *p)
{
	const char *d = part_disposition(p);

	if (ismessage(p) || (d && strcasecmp(d, "attachment") == 0))
		return 0;
	if (part_filename(p) && !(d && strcasecmp(d, "inline") == 0))
		return 0;
	return istype(p, "text/plain") || istype(p, "text/html") || ismultipart(p);
}

static void
content(Buf *out, Part *p, Cover *c, int depth)
{
	if (depth > Maxnest)
		return;
	if (isleaf(p)) {
		c->seen[p->idx] = 1;
		if (istype(p, "text/plain"))
			plain(out, p);
		else if (istype(p, "text/html"))
			html(out, p);
		return;
	}
	c->seen[p->idx] = 1;
	if (istype(p, "multipart/alternative")) {
		alternative(out, p, c, depth);
		return;
	}
	if (istype(p, "multipart/related")) {
		Part *root = relatedroot(p);
		if (root)
			content(out, root, c, depth + 1);
		return;
	}
	for (int i = 0; i < p->nkids; i++) {
		if (!shown(p->kids[i]))
			continue;
		if (out->n > 0 && out->p[out->n - 1] == '\n')
			bufputc(out, '\n');
		content(out, p->kids[i], c, depth + 1);
	}
	if (out->n > 1 && out->p[out->n - 1] == '\n' && out->p[out->n - 2] == '\n')
		out->n--;
}

/* a filename on one line of the list: controls, and those that reorder it, made '_' */
static void
listname(Buf *out, const char *name)
{
	if (name == NULL || *name == 0) {
		bufputc(out, '-');
		return;
	}
	for (const char *c = name; *c; c++) {
		size_t bidi = utf8bidi(c);
		if (bidi)
			c += bidi - 1;
		bufputc(out, bidi || (unsigned char)*c < ' ' || *c == 0x7f ? '_' : *c);
	}
}

static void
path(Buf *out, Part *p, Part *base)
{
	if (p->parent && p->parent != base)
		path(out, p->parent, base);
	if (p != base)
		bufprint(out, "%s%d", p->parent != base ? "/" : "", p->num);
}

/* the parts below p the text did not show, one line each: part, type, filename, size */
static void
attachments(Buf *out, Part *p, Part *base, Cover *c, int depth, int *n)
{
	for (int i = 0; i < p->nkids && depth < Maxnest; i++) {
		Part *k = p->kids[i];
		if (!isleaf(k) && !ismessage(k)) {
			attachments(out, k, base, c, depth + 1, n);
			continue;
		}
		if (c->seen[k->idx])
			continue;
		char t[128];
		Buf body = { 0 };
		body_decode(&body, k);
		bufputs(out, (*n)++ == 0 ? "\nAttachments:\n" : "");
		path(out, k, base);
		bufprint(out, "\t%s\t", k->entity == Kmessage ? "message/rfc822" : part_typename(k, t, sizeof t));
		listname(out, part_filename(k));
		bufprint(out, "\t%zu\n", body.n);
		buffree(&body);
	}
}

/*
 * The text file of p.  Of a message (top-level, enclosed, or the
 * message/rfc822 part around one): its main content, then its
 * attachments.  Of any other entity: its content alone.
 */
void
text_make(Buf *out, Part *p)
{
	if (part_full(p->msg) < 0 || part_fill(p, 1) < 0)
		return;
	Part *m = p->entity == Krfc822 && p->nkids > 0 ? p->kids[0] : p;
	Cover c = { xzalloc(p->msg->nparts) };
	size_t start = out->n;
	int n = 0;

	content(out, m, &c, 0);
	if (m->entity == Kmessage)
		attachments(out, m, p, &c, 0, &n);
	if (n > 0 && out->p[start] == '\n')	/* no text before the list: no blank line either */
		memmove(out->p + start, out->p + start + 1, out->n-- - start);
	free(c.seen);
}
