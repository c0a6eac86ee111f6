/*
 * The MIME tree of a message, as directories.  The top entity is the
 * message itself; a multipart has one numbered child per body part; a
 * message/rfc822 part has exactly one child, the inner message as a
 * whole, whose own parts hang below it (the 9front model the spec
 * chooses).  Parts are kept in depth-first order, and that index is the
 * part field of their qid paths.
 *
 * Every GMime object belongs to the message's GMimeMessage; Parts only
 * borrow them, and part_free drops the one reference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>
#include "model/gm.h"

enum {
	Maxparts = 1 << Qbits_part,
	Maxdepth = 4096,	/* deeper nesting is served as an opaque leaf */
};

static GMimeParserOptions *opts;

static GMimeParserOptions *
parseropts(void)
{
	static const char *fallback[] = { "UTF-8", "iso-8859-1", NULL };

	if (opts == NULL) {
		g_mime_init();
		opts = g_mime_parser_options_new();
		g_mime_parser_options_set_rfc2047_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
		g_mime_parser_options_set_address_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
		g_mime_parser_options_set_parameter_compliance_mode(opts, GMIME_RFC_COMPLIANCE_LOOSE);
		g_mime_parser_options_set_fallback_charsets(opts, fallback);
	}
	return opts;
}

GMimeParserOptions *
part_opts(void)
{
	return parseropts();
}

static Part *
newpart(Msg *m, Part *parent, int num, int kind, GMimeObject *obj, GMimeMessage *env)
{
	if (m->nparts >= Maxparts)
		return NULL;
	Part *p = xzalloc(sizeof *p);
	p->msg = m;
	p->parent = parent;
	p->num = num;
	p->entity = kind;
	p->obj = obj;
	p->env = env;
	p->idx = m->nparts;
	if ((m->nparts & (m->nparts - 1)) == 0)
		m->parts = xrealloc(m->parts, (m->nparts ? 2 * m->nparts : 1) * sizeof *m->parts);
	m->parts[m->nparts++] = p;
	if (parent) {
		parent->kids = xrealloc(parent->kids, (parent->nkids + 1) * sizeof *parent->kids);
		parent->kids[parent->nkids++] = p;
	}
	return p;
}

static void addentity(Msg *m, Part *parent, int num, GMimeObject *o, int depth);

/* the numbered children of p, whose content is content */
static void
addkids(Msg *m, Part *p, GMimeObject *content, int depth)
{
	if (content == NULL || depth >= Maxdepth)
		return;
	if (GMIME_IS_MULTIPART(content)) {
		GMimeMultipart *mp = GMIME_MULTIPART(content);
		int n = g_mime_multipart_get_count(mp);
		for (int i = 0; i < n; i++)
			addentity(m, p, i + 1, g_mime_multipart_get_part(mp, i), depth + 1);
	} else if (GMIME_IS_MESSAGE_PART(content)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(content));
		Part *c = inner ? newpart(m, p, 1, Kmessage, GMIME_OBJECT(inner), inner) : NULL;
		if (c)
			addkids(m, c, g_mime_message_get_mime_part(inner), depth + 1);
	}
}

static void
addentity(Msg *m, Part *parent, int num, GMimeObject *o, int depth)
{
	Part *p;

	if (GMIME_IS_MULTIPART(o) && depth < Maxdepth) {
		if ((p = newpart(m, parent, num, Kmultipart, o, NULL)) != NULL)
			addkids(m, p, o, depth);
	} else if (GMIME_IS_MESSAGE_PART(o) && depth < Maxdepth) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		if ((p = newpart(m, parent, num, Krfc822, o, inner)) != NULL)
			addkids(m, p, o, depth);
	} else
		newpart(m, parent, num, Kleaf, o, NULL);
}

/* the envelope date and line, when the store had none */
static void
envelope(Msg *m, Hdr *h)
{
	if (m->date == 0 && hdr_get(h, "Date"))
		m->date = hdr_date(hdr_get(h, "Date"));
	if (m->date == 0 && hdr_get(h, "Received")) {
		const char *semi = strrchr(hdr_get(h, "Received"), ';');
		m->date = semi ? hdr_date(semi + 1) : 0;
	}
	if (m->env.n == 0) {
		InternetAddressList *from = hdr_addresses(h, "From");
		const char *addr = NULL;
		if (from) {
			InternetAddress *a = internet_address_list_get_address(from, 0);
			if (INTERNET_ADDRESS_IS_MAILBOX(a))
				addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
		}
		bufprint(&m->env, "From %s ", addr && *addr ? addr : "???");
		hdr_ctime(&m->env, m->date);
		if (from)
			g_object_unref(from);
	}
}

static GMimeMessage *
parse(const char *p, size_t n)
{
	GMimeStream *s = g_mime_stream_mem_new_with_buffer(p, n);
	GMimeParser *parser = g_mime_parser_new_with_stream(s);

	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *gm = g_mime_parser_construct_message(parser, parseropts());
	g_object_unref(parser);
	g_object_unref(s);
	if (gm == NULL) {
		/* nothing GMime recognises: serve an empty text message */
		gm = g_mime_message_new(FALSE);
		GMimeTextPart *t = g_mime_text_part_new();
		g_mime_message_set_mime_part(gm, GMIME_OBJECT(t));
		g_object_unref(t);
	}
	return gm;
}

/*
 * Most files of a top-level message (info above all) come from its
 * header alone, so a message starts as its header fields; GMime parses
 * the whole MIME tree only when a part or a decoded body is asked for
 * (part_full).
 */
int
part_build(Msg *m)
{
	Part *top = newpart(m, NULL, 0, Kmessage, NULL, NULL);

	envelope(m, part_hdr(top));
	return 0;
}

static int
fetchskel(Msg *m, Buf *skel)
{
	Msgent *e = box_msg(m->box, m->id);

	if (e == NULL)
		return seterr(ENOENT, "no such message");
	return m->box->ops->fetchskel(m->box, e, skel);
}

/* a skeleton's leaf names its section in a field of its own: taken out */
static void
sectionof(Part *p)
{
	static const char field[] = "X-Mailfs-Section";
	GMimeObject *objs[2] = { p->entity == Kleaf ? p->obj : part_mimeobj(p), p->entity == Kmessage ? p->obj : NULL };

	for (int i = 0; i < 2; i++) {
		const char *v = objs[i] ? g_mime_object_get_header(objs[i], field) : NULL;
		if (v && p->section == NULL)
			p->section = xstrdup(v);
		if (objs[i])
			g_mime_object_remove_header(objs[i], field);
	}
}

int
part_full(Msg *m)
{
	Buf unq = { 0 };
	const char *p = m->raw.p;
	size_t n = m->raw.n;

	if (m->full)
		return 0;
	int r = m->box->ops->fetchskel ? fetchskel(m, &unq) : 1;
	if (r < 0)
		return -1;
	if (r == 0) {	/* the skeleton stands for the message */
		p = unq.p;
		n = unq.n;
		m->skeletal = 1;
	} else if (msg_whole(m) < 0)
		return -1;
	else {
		p = m->raw.p;
		n = m->raw.n;
	}
	if (!m->skeletal && m->box->ops->unquote && memmem(p, n, ">From ", 6) != NULL) {
		box_plain(m->box, &unq, p, n);
		p = unq.p;
		n = unq.n;
	}
	/* a continuation line with nothing to continue: GMime would end the header there */
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		const char *nl = memchr(p, '\n', n);
		size_t skip = nl ? (size_t)(nl - p) + 1 : n;
		p += skip;
		n -= skip;
	}
	GMimeMessage *gm = parse(p, n);
	buffree(&unq);
	Part *top = m->parts[0];
	top->obj = gm;
	m->gm = gm;
	m->full = 1;
	addkids(m, top, g_mime_message_get_mime_part(gm), 0);
	if (m->skeletal)
		for (uint32_t i = 0; i < m->nparts; i++)
			sectionof(m->parts[i]);
	msg_charge(m, 2 * m->raw.n + m->nparts * 256);
	return 0;
}

/* sent as it is: no transfer encoding to undo, so its bytes are its content */
static int
identity(GMimePart *part)
{
	GMimeContentEncoding e = g_mime_part_get_content_encoding(part);

	return e == GMIME_CONTENT_ENCODING_DEFAULT || e == GMIME_CONTENT_ENCODING_7BIT ||
		e == GMIME_CONTENT_ENCODING_8BIT || e == GMIME_CONTENT_ENCODING_BINARY;
}

/*
 * Fill the leaves of a skeleton below p (p alone if not below) with
 * their content, fetched by section: before any file made from content.
 */
int
part_fill(Part *p, int below)
{
	Msg *m = p->msg;

	if (!m->skeletal)
		return 0;
	if (p->section && !p->filled) {
		GMimeObject *o = p->entity == Kleaf ? p->obj : part_mimeobj(p);
		Buf b = { 0 };
		if (o && GMIME_IS_PART(o)) {
			Msgent *e = box_msg(m->box, m->id);
			if (e == NULL)
				return seterr(ENOENT, "no such message");
			if (p->parent == NULL && !m->partial)	/* a single part: the body we hold */
				bufadd(&b, m->raw.p + m->bodyoff, m->raw.n - m->bodyoff);
			else if (m->box->ops->fetchpart(m->box, e, p->section, identity(GMIME_PART(o)), &b) < 0) {
				buffree(&b);
				return -1;
			}
			GMimeStream *st = g_mime_stream_mem_new_with_buffer(b.p ? b.p : "", b.n);
			GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(st,
				g_mime_part_get_content_encoding(GMIME_PART(o)));
			g_mime_part_set_content(GMIME_PART(o), w);
			g_object_unref(w);
			g_object_unref(st);
			msg_charge(m, 2 * b.n);
			buffree(&b);
		}
		p->filled = 1;
	}
	for (int i = 0; below && i < p->nkids; i++)
		if (part_fill(p->kids[i], 1) < 0)
			return -1;
	return 0;
}

void
part_init(void)
{
	part_opts();
	html_init();
}

/* a part's bytes as its message holds them; the top's are the message's */
void
part_raw(Buf *out, Part *p)
{
	if (p->parent == NULL)
		bufadd(out, p->msg->raw.p, p->msg->raw.n);
	else
		body_serialize(out, p->obj);
}

/* the Content-Disposition's word (attachment, inline), or NULL */
const char *
part_disposition(Part *p)
{
	GMimeContentDisposition *d = part_cdisp(p);

	return d ? g_mime_content_disposition_get_disposition(d) : NULL;
}

/* the name the part was sent under: the disposition's filename, else the type's name */
const char *
part_filename(Part *p)
{
	GMimeContentDisposition *d = part_cdisp(p);
	GMimeContentType *t = part_ctype(p);
	const char *name = d ? g_mime_content_disposition_get_parameter(d, "filename") : NULL;

	return name == NULL && t ? g_mime_content_type_get_parameter(t, "name") : name;
}

void
part_free(Msg *m)
{
	for (uint32_t i = 0; i < m->nparts; i++) {
		Part *p = m->parts[i];
		for (int k = 0; k < Maxfiles; k++)
			blobunref(p->files[k]);
		free(p->kids);
		free(p->section);
		if (p->hdr)
			hdr_free(p->hdr);
		free(p->hdr);
		if (p->ctype)
			g_object_unref(p->ctype);
		if (p->cdisp)
			g_object_unref(p->cdisp);
		free(p);
	}
	free(m->parts);
	m->parts = NULL;
	m->nparts = 0;
	if (m->gm)
		g_object_unref(m->gm);
	m->gm = NULL;
}

/* The object whose headers say what the entity's content is. */
GMimeObject *
part_mimeobj(Part *p)
{
	if (p->entity == Kmessage)
		return p->obj ? g_mime_message_get_mime_part(GMIME_MESSAGE(p->obj)) : NULL;
	return p->obj;
}

/*
 * The envelope fields: the top message's from its stored header, an
 * inner message's (and its rfc822 part's) from GMime's parse.
 */
Hdr *
part_hdr(Part *p)
{
	if (p->hdr == NULL && p->parent == NULL) {
		p->hdr = xzalloc(sizeof *p->hdr);
		hdr_parse(p->hdr, p->msg->raw.p, p->msg->hdrlen);
	} else if (p->hdr == NULL && p->env) {
		p->hdr = xzalloc(sizeof *p->hdr);
		hdr_fromgmime(p->hdr, p->env);
	}
	return p->hdr;
}

/* the top entity's MIME fields come from its header, parsed or not */
static void
topmime(Part *p)
{
	Hdr *h = part_hdr(p);
	const char *ct = hdr_get(h, "Content-Type"), *cd = hdr_get(h, "Content-Disposition");

	if (p->ctype == NULL)
		p->ctype = g_mime_content_type_parse(parseropts(), ct ? ct : "text/plain");
	if (p->cdisp == NULL && cd)
		p->cdisp = g_mime_content_disposition_parse(parseropts(), cd);
}

GMimeContentType *
part_ctype(Part *p)
{
	if (p->parent == NULL) {
		topmime(p);
		return p->ctype;
	}
	GMimeObject *o = part_mimeobj(p);
	return o ? g_mime_object_get_content_type(o) : NULL;
}

GMimeContentDisposition *
part_cdisp(Part *p)
{
	if (p->parent == NULL) {
		topmime(p);
		return p->cdisp;
	}
	GMimeObject *o = part_mimeobj(p);
	return o ? g_mime_object_get_content_disposition(o) : NULL;
}

const char *
part_typename(Part *p, char *buf, size_t n)
{
	GMimeContentType *ct = part_ctype(p);
	const char *t = ct ? g_mime_content_type_get_media_type(ct) : NULL;
	const char *s = ct ? g_mime_content_type_get_media_subtype(ct) : NULL;

	if (t == NULL || s == NULL || !*t || !*s)
		snprintf(buf, n, "text/plain");
	else
		snprintf(buf, n, "%s/%s", t, s);
	for (char *c = buf; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c += 'a' - 'A';
	return buf;
}
