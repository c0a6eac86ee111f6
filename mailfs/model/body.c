/*
 * Decoded bodies.  A leaf's content loses its transfer encoding; a
 * text leaf is also converted to UTF-8 and given LF line ends, so its
 * length is known only after decoding (the stat length is this one).
 * Containers have no decoded form: their body is their raw content.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>
#include <gmime/gmime.h>
#include "model/gm.h"

static void
streambytes(Buf *out, GMimeStream *s)
{
	GByteArray *a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));

	bufadd(out, a->data, a->len);
}

static void
latin1(Buf *out, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c < 0x80)
			bufputc(out, c);
		else {
			bufputc(out, 0xC0 | c >> 6);
			bufputc(out, 0x80 | (c & 0x3F));
		}
	}
}

static void
validutf8(Buf *out, const char *p, size_t n)
{
	if (g_utf8_validate(p, n, NULL)) {
		bufadd(out, p, n);
		return;
	}
	char *v = g_utf8_make_valid(p, n);
	bufputs(out, v);
	g_free(v);
}

/* iconv, with U+FFFD for each byte the charset does not allow */
static void
convert(Buf *out, iconv_t cd, const char *p, size_t n)
{
	char tmp[4096];
	char *in = (char *)p;
	size_t inleft = n;

	while (inleft > 0) {
		char *o = tmp;
		size_t oleft = sizeof tmp;
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		bufadd(out, tmp, o - tmp);
		if (r == (size_t)-1 && (errno == EILSEQ || errno == EINVAL)) {
			bufputs(out, "\xEF\xBF\xBD");
			in++;
			inleft--;
			iconv(cd, NULL, NULL, NULL, NULL);
		} else if (r == (size_t)-1 && errno != E2BIG)
			break;
	}
	char *o = tmp;
	size_t oleft = sizeof tmp;
	iconv(cd, NULL, NULL, &o, &oleft);
	bufadd(out, tmp, o - tmp);
}

/*
 * Text in charset cs to UTF-8.  Without a charset, or with one iconv
 * does not know, valid UTF-8 passes and anything else is read as
 * Latin-1.
 */
void
body_utf8(Buf *out, const char *p, size_t n, const char *cs)
{
	const char *canon = cs && *cs ? g_mime_charset_canon_name(cs) : NULL;

	if (canon && (g_ascii_strcasecmp(canon, "utf-8") == 0 || g_ascii_strcasecmp(canon, "us-ascii") == 0)) {
		validutf8(out, p, n);
		return;
	}
	iconv_t cd = canon ? g_mime_iconv_open("UTF-8", canon) : (iconv_t)-1;
	if (cd == (iconv_t)-1) {
		if (g_utf8_validate(p, n, NULL))
			bufadd(out, p, n);
		else
			latin1(out, p, n);
		return;
	}
	Buf tmp = { 0 };
	convert(&tmp, cd, p, n);
	g_mime_iconv_close(cd);
	validutf8(out, tmp.p ? tmp.p : "", tmp.n);
	buffree(&tmp);
}

/* a leaf's content, its transfer encoding undone */
static void
content(Buf *out, GMimePart *part)
{
	GMimeDataWrapper *w = g_mime_part_get_content(part);

	if (w == NULL)
		return;
	GMimeStream *s = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(w, s);
	streambytes(out, s);
	g_object_unref(s);
}

static void
leaf(Buf *out, GMimePart *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));

	if (ct && g_mime_content_type_is_type(ct, "text", "*")) {
		Buf dec = { 0 };
		content(&dec, part);
		size_t start = out->n;
		body_utf8(out, dec.p ? dec.p : "", dec.n, g_mime_content_type_get_parameter(ct, "charset"));
		out->n = start + crlftolf(out->p + start, out->n - start);
		buffree(&dec);
	} else
		content(out, part);
}

/* the top container's body: the stored body, mbox quoting undone */
static void
topbody(Buf *out, Msg *m)
{
	box_plain(m->box, out, m->raw.p + m->bodyoff, m->raw.n - m->bodyoff);
}

/*
 * A top-level multipart is a container whatever its parts are, as the
 * header alone tells: its body needs no parse of the MIME tree, which
 * would cost ten times as much as the rest of the work.  Not so where
 * the store's own MIME parse makes the tree (fetchskel: IMAP).
 */
static int
topmultipart(Part *p)
{
	/* with two Content-Types, GMime's word is its parse's: the last one */
	GMimeContentType *ct = p->entity == Kmessage && p->parent == NULL && !p->msg->box->ops->fetchskel &&
		hdr_count(part_hdr(p), "Content-Type") == 1 ? part_ctype(p) : NULL;

	return ct && g_mime_content_type_is_type(ct, "multipart", "*");
}

void
body_decode(Buf *out, Part *p)
{
	if (topmultipart(p)) {
		topbody(out, p->msg);
		return;
	}
	if (part_full(p->msg) < 0 || part_fill(p, 0) < 0)
		return;
	GMimeObject *o = part_mimeobj(p);

	if (p->entity != Krfc822 && o && GMIME_IS_PART(o)) {
		leaf(out, GMIME_PART(o));
		return;
	}
	if (p->entity == Kmessage && p->parent == NULL) {
		topbody(out, p->msg);
		return;
	}
	GMimeStream *s = g_mime_stream_mem_new();
	if (p->entity == Krfc822 && p->env)
		g_mime_object_write_to_stream(GMIME_OBJECT(p->env), NULL, s);
	else if (o)
		g_mime_object_write_content_to_stream(o, NULL, s);
	streambytes(out, s);
	g_object_unref(s);
}

/*
 * A leaf's bytes in its own charset, for a reader that decides the
 * charset itself (HTML, whose <meta> may name it); else its body.
 */
void
body_bytes(Buf *out, Part *p)
{
	GMimeObject *o = NULL;

	if (!topmultipart(p) && part_full(p->msg) == 0 && part_fill(p, 0) == 0)
		o = part_mimeobj(p);
	if (p->entity != Krfc822 && o && GMIME_IS_PART(o))
		content(out, GMIME_PART(o));
	else
		body_decode(out, p);
}

void
body_serialize(Buf *out, GMimeObject *obj)
{
	GMimeStream *s = g_mime_stream_mem_new();

	g_mime_object_write_to_stream(GMIME_OBJECT(obj), NULL, s);
	streambytes(out, s);
	g_object_unref(s);
}
