/*
 * HTML as readable text, through libxml2's HTML parser (libxml2 lives
 * here and nowhere else).  The parse recovers from anything; the walk
 * over its tree is iterative, so nesting costs no stack.  A paragraph
 * is one line, never wrapped: a phrase split over lines would escape
 * grep, and acme wraps for itself.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include "model/model.h"

enum {
	Maxprefix = 256,	/* bytes of quote and list indentation a line starts with */
	Sniff = 8192,		/* bytes searched for a <meta> charset */
};

typedef struct Render Render;
struct Render {
	Buf	*out;
	size_t	start;		/* where this rendering starts in out */
	int	atline;		/* nothing but the prefix is due on this line yet */
	int	space;		/* collapsed whitespace is due before the next word */
	int	breaks;		/* newlines due before the next word: 1 a line, 2 a paragraph */
	size_t	breakprefix;	/* of the prefix, what blank lines get */
	char	mark[16];	/* a list item's marker, due with its first text */
	size_t	markprefix;	/* of the prefix, what goes before the marker */
	int	pre;		/* inside this many <pre> */
	char	prefix[Maxprefix];
	size_t	nprefix;
	char	**links;	/* the addresses, numbered from 1 */
	int	nlinks;
};

/* how an element breaks the text: none, a line, a paragraph; and what it does */
enum { Inline, Line, Para };
enum { Plain, Drop, Br, Hr, Li, Cell, Quote, Pre, Anchor, Img, List };
static const struct {
	const char	*name;
	int	brk;
	int	act;
} elems[] = {
	{ "address", Para, Plain }, { "article", Para, Plain }, { "aside", Para, Plain },
	{ "blockquote", Para, Quote }, { "body", Line, Plain }, { "caption", Line, Plain },
	{ "center", Line, Plain }, { "dd", Line, Plain }, { "details", Para, Plain },
	{ "dialog", Para, Plain }, { "div", Line, Plain }, { "dl", Para, Plain },
	{ "dt", Line, Plain }, { "fieldset", Para, Plain }, { "figcaption", Line, Plain },
	{ "figure", Para, Plain }, { "footer", Para, Plain }, { "form", Para, Plain },
	{ "h1", Para, Plain }, { "h2", Para, Plain }, { "h3", Para, Plain },
	{ "h4", Para, Plain }, { "h5", Para, Plain }, { "h6", Para, Plain },
	{ "header", Para, Plain }, { "hr", Para, Hr }, { "li", Line, Li },
	{ "main", Para, Plain }, { "nav", Para, Plain }, { "ol", Para, List },
	{ "p", Para, Plain }, { "pre", Para, Pre }, { "section", Para, Plain },
	{ "summary", Line, Plain }, { "table", Para, Plain }, { "td", Inline, Cell },
	{ "th", Inline, Cell }, { "tr", Line, Plain }, { "ul", Para, List },
	{ "br", Inline, Br }, { "a", Inline, Anchor }, { "img", Inline, Img },
	{ "head", Inline, Drop }, { "script", Inline, Drop }, { "style", Inline, Drop },
	{ "title", Inline, Drop }, { "template", Inline, Drop }, { "select", Inline, Drop },
	{ "object", Inline, Drop }, { "iframe", Inline, Drop }, { "svg", Inline, Drop },
};

static int
elem(const xmlNode *n)
{
	for (size_t i = 0; i < nelem(elems); i++)
		if (strcmp((const char *)n->name, elems[i].name) == 0)	/* the parser lowercases them */
			return i;
	return -1;
}

/* hidden from a reader: hidden, or display:none (a newsletter's preheader) */
static int
hidden(xmlNode *n)
{
	static const char none[] = "display:none";

	if (xmlHasProp(n, (const xmlChar *)"hidden"))
		return 1;
	xmlAttr *a = xmlHasProp(n, (const xmlChar *)"style");
	if (a == NULL || a->children == NULL || a->children->content == NULL)
		return 0;
	/* none[] matched ignoring case and white space, anywhere in the style */
	for (const xmlChar *s = a->children->content; *s; s++) {
		const xmlChar *c = s;
		size_t k = 0;
		while (*c && k < sizeof none - 1) {
			if (isspace(*c))
				c++;
			else if (tolower(*c) == none[k])
				c++, k++;
			else
				break;
		}
		if (k == sizeof none - 1)
			return 1;
	}
	return 0;
}

static void
pushprefix(Render *r, const char *s, size_t *saved)
{
	size_t n = strlen(s);

	*saved = r->nprefix;
	if (r->nprefix + n < Maxprefix) {
		memcpy(r->prefix + r->nprefix, s, n);
		r->nprefix += n;
	}
}

/* a break before the next text; its blank lines quoted as the shallowest quote since asked */
static void
want(Render *r, int brk)
{
	if (brk == 0)
		return;
	if (r->breaks == 0 || r->nprefix < r->breakprefix)
		r->breakprefix = r->nprefix;
	if (brk > r->breaks)
		r->breaks = brk;
}

/* what is due before text: newlines, the line's prefix, a space */
static void
due(Render *r)
{
	if (r->breaks && r->out->n > r->start) {
		int k = r->breaks;
		if (!r->atline)
			bufputc(r->out, '\n'), k--;
		for (; k > 0; k--) {	/* a blank line within a quote is still quoted */
			bufadd(r->out, r->prefix, r->breakprefix);
			bufputc(r->out, '\n');
		}
		r->atline = 1;
	}
	r->breaks = 0;
	if (r->mark[0]) {	/* at a line's start: an item starts one */
		bufadd(r->out, r->prefix, r->markprefix);
		bufputs(r->out, r->mark);
		r->mark[0] = 0;
		r->atline = 0;
		r->space = 0;
	} else if (r->atline) {
		bufadd(r->out, r->prefix, r->nprefix);
		r->atline = 0;
		r->space = 0;
	}
	if (r->space)
		bufputc(r->out, ' ');
	r->space = 0;
}

static void
newline(Render *r)
{
	due(r);
	bufputc(r->out, '\n');
	r->atline = 1;
}

/* the UTF-8 at s a reader does not see (soft hyphen, zero widths, BOM), or 0; s is NUL-ended */
static size_t
invisible(const unsigned char *s)
{
	if (s[0] == 0xC2 && s[1] == 0xAD)
		return 2;
	if (s[0] == 0xCD && s[1] == 0x8F)
		return 2;
	if (s[0] == 0xE2 && s[1] == 0x80 && (s[2] == 0x8B || s[2] == 0x8C))
		return 3;
	if (s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0xA0)
		return 3;
	if (s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
		return 3;
	return 0;
}

/* bytes that may start whitespace, U+00A0 or an invisible character: the rest is copied in runs */
static int
special(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xC2 || c == 0xCD || c == 0xE2 || c == 0xEF;
}

static void
text(Render *r, const unsigned char *s)
{
	while (*s) {
		size_t skip = invisible(s);
		int nbsp = s[0] == 0xC2 && s[1] == 0xA0;
		if (skip) {
			s += skip;
		} else if (r->pre && *s == '\n') {
			newline(r);
			s++;
		} else if (!r->pre && (isspace(*s) || nbsp)) {
			r->space = 1;
			s += nbsp ? 2 : 1;
		} else {
			const unsigned char *e = s + 1;
			while (*e && !special(*e))
				e++;
			due(r);
			bufadd(r->out, s, e - s);
			s = e;
		}
	}
}

/* the number of address a, given once per address */
static int
linkno(Render *r, const char *a)
{
	for (int i = 0; i < r->nlinks; i++)
		if (strcmp(r->links[i], a) == 0)
			return i + 1;
	r->links = xrealloc(r->links, (r->nlinks + 1) * sizeof *r->links);
	r->links[r->nlinks++] = xstrdup(a);
	return r->nlinks;
}

/* an address worth listing: not a fragment of this page, not a script */
static xmlChar *
href(xmlNode *n)
{
	xmlChar *h = xmlGetProp(n, (const xmlChar *)"href");
	const char *s = (const char *)h;

	while (s && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	if (h && (*s == 0 || *s == '#' || strncasecmp(s, "javascript:", 11) == 0)) {
		xmlFree(h);
		return NULL;
	}
	return h;
}

/* an open element, in the walk */
typedef struct Frame Frame;
struct Frame {
	int	e;		/* index in elems, or -1 */
	size_t	prefix;		/* r->nprefix to restore on leaving */
	size_t	mark;		/* out->n on entering (links: was anything written?) */
	int	count;		/* items of a list so far */
};

enum { Maxframes = 4096 };

static int
listcount(xmlNode *li, int count)
{
	xmlNode *list = li->parent;
	if (list == NULL || strcasecmp((const char *)list->name, "ol") != 0)
		return 0;
	xmlChar *start = count == 0 ? xmlGetProp(list, (const xmlChar *)"start") : NULL;
	int n = start ? atoi((const char *)start) : count + 1;
	xmlFree(start);
	return n;
}

static void
enter(Render *r, xmlNode *n, Frame *f, Frame *up)
{
	int e = f->e;
	char mark[32];

	f->prefix = r->nprefix;
	f->mark = r->out->n;
	f->count = 0;
	if (e < 0)
		return;
	/* a list within a list item goes on the next line, no blank one */
	want(r, elems[e].act == List && up && up->e >= 0 && elems[up->e].act == Li ? Line : elems[e].brk);
	switch (elems[e].act) {
	case Br:
		newline(r);
		break;
	case Hr:
		due(r);
		bufputs(r->out, "----------");
		want(r, Para);
		break;
	case Li:	/* its marker waits for its text: an empty item leaves no line */
		if (r->mark[0])
			due(r);	/* an item whose first content is a list */
		if (up && up->e >= 0 && strcmp(elems[up->e].name, "ol") == 0) {
			up->count = listcount(n, up->count);
			snprintf(r->mark, sizeof r->mark, "%d. ", up->count);
		} else
			snprintf(r->mark, sizeof r->mark, "* ");
		memset(mark, ' ', strlen(r->mark));
		mark[strlen(r->mark)] = 0;
		pushprefix(r, mark, &f->prefix);
		r->markprefix = f->prefix;
		break;
	case Cell:
		for (xmlNode *s = n->prev; s; s = s->prev)
			if (s->type == XML_ELEMENT_NODE) {
				if (!r->atline && r->breaks == 0) {
					bufputs(r->out, " |");
					r->space = 1;
				}
				break;
			}
		break;
	case Quote:
		pushprefix(r, "> ", &f->prefix);
		break;
	case Pre:
		r->pre++;
		break;
	case Img: {
		xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");
		if (alt)
			text(r, alt);
		xmlFree(alt);
		break;
	}
	}
}

static void
leave(Render *r, xmlNode *n, Frame *f)
{
	int e = f->e;

	if (e < 0)
		return;
	if (elems[e].act == Pre && r->pre > 0)
		r->pre--;
	if (elems[e].act == Li)
		r->mark[0] = 0;
	if (elems[e].act == Anchor && r->out->n > f->mark) {
		xmlChar *h = href(n);
		if (h) {
			char num[32];
			snprintf(num, sizeof num, " [%d]", linkno(r, (const char *)h));
			bufputs(r->out, num);
			xmlFree(h);
		}
	}
	r->nprefix = f->prefix;
	want(r, elems[e].act == List && n->parent && n->parent->name && strcmp((const char *)n->parent->name, "li") == 0 ?
		Line : elems[e].brk);
}

/* the element's children are not for a reader */
static int
skipped(xmlNode *n, int e)
{
	return (e >= 0 && elems[e].act == Drop) || hidden(n);
}

/*
 * Depth first over the tree at root, without recursion.  Past
 * Maxframes open elements the deeper ones are read for their text
 * alone (over counts them), so the frames stay bounded.
 */
static void
walk(Render *r, xmlNode *root)
{
	Frame *fr = NULL;
	int depth = 0, nfr = 0, over = 0;
	xmlNode *n = root;

	for (;;) {
		xmlNode *down = NULL;
		int e;
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
			text(r, n->content ? n->content : (const xmlChar *)"");
		else if (n->type == XML_ELEMENT_NODE && !skipped(n, e = elem(n))) {
			if (depth < Maxframes) {
				if (depth == nfr)
					fr = xrealloc(fr, (nfr = nfr ? 2 * nfr : 16) * sizeof *fr);
				fr[depth].e = e;
				enter(r, n, &fr[depth], depth > 0 ? &fr[depth - 1] : NULL);
				if (n->children)
					down = n->children, depth++;
				else
					leave(r, n, &fr[depth]);
			} else if (n->children)
				down = n->children, over++;
		}
		if (down) {
			n = down;
			continue;
		}
		while (n != root && n->next == NULL) {
			n = n->parent;
			if (over > 0)
				over--;
			else
				depth--, leave(r, n, &fr[depth]);
		}
		if (n == root)
			break;
		n = n->next;
	}
	free(fr);
}

/* trailing spaces off every line, at most one blank line in a row, one newline at the end */
static void
tidy(Buf *out, size_t start)
{
	size_t w = start, blank = 0;
	char *p = out->p;

	for (size_t i = start; i < out->n; i++) {
		if (p[i] == '\n') {
			while (w > start && p[w - 1] == ' ')
				w--;
			if (w == start || (p[w - 1] == '\n' && ++blank > 1))
				continue;
			if (p[w - 1] != '\n')
				blank = 0;
		}
		p[w++] = p[i];
	}
	while (w > start && (p[w - 1] == ' ' || p[w - 1] == '\n'))
		w--;
	out->n = w;
	if (w > start)
		bufputc(out, '\n');
	else if (out->p)
		out->p[w] = 0;
}

/* the charset a <meta> declares near the start, in cs; 0 if none */
static int
metacharset(const char *p, size_t n, char *cs, size_t ncs)
{
	if (n > Sniff)
		n = Sniff;
	for (size_t i = 0; i + 5 <= n; i++) {
		if (p[i] != '<' || strncasecmp(p + i + 1, "meta", 4) != 0)
			continue;
		const char *end = memchr(p + i, '>', n - i);
		if (end == NULL)
			break;
		for (const char *c = p + i; c + 7 < end; c++) {
			if (strncasecmp(c, "charset", 7) != 0)
				continue;
			c += 7;
			while (c < end && (*c == ' ' || *c == '=' || *c == '"' || *c == '\''))
				c++;
			size_t k = 0;
			while (c < end && k < ncs - 1 && (isalnum((unsigned char)*c) || strchr("-_.:", *c)))
				cs[k++] = *c++;
			cs[k] = 0;
			if (k > 0)
				return 1;
		}
	}
	return 0;
}

/*
 * Text of an HTML document: in charset if given (the MIME type's word
 * wins, as a browser takes the transport's), else the one a <meta>
 * declares, else UTF-8 when valid and Latin-1 when not.
 */
void
html_text(Buf *out, const char *p, size_t n, const char *charset)
{
	char meta[64];
	Buf utf8 = { 0 };
	Render r = { .out = out, .start = out->n, .atline = 1 };

	if ((charset == NULL || *charset == 0) && metacharset(p, n, meta, sizeof meta))
		charset = meta;
	body_utf8(&utf8, p, n, charset);
	if (utf8.n > 0 && utf8.n < (size_t)INT_MAX) {
		htmlDocPtr doc = htmlReadMemory(utf8.p, (int)utf8.n, NULL, "UTF-8",
			HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
			HTML_PARSE_IGNORE_ENC | XML_PARSE_HUGE);
		for (xmlNode *top = doc ? doc->children : NULL; top; top = top->next)
			walk(&r, top);
		if (doc)
			xmlFreeDoc(doc);
	}
	buffree(&utf8);
	if (r.nlinks)
		bufputs(out, "\n\n");
	for (int i = 0; i < r.nlinks; i++) {
		bufprint(out, "[%d] %s\n", i + 1, r.links[i]);
		free(r.links[i]);
	}
	free(r.links);
	tidy(out, r.start);
}

void
html_init(void)
{
	xmlInitParser();
}
