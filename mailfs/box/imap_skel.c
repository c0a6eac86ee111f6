/*
 * The MIME skeleton of an IMAP message: its header, then every part's
 * MIME header and the multipart boundaries between them, as the
 * server's BODYSTRUCTURE describes the tree, with every leaf left
 * empty.  Parsed like any message, it gives the part tree without one
 * body byte fetched; each leaf carries "X-Mailfs-Section: 2.1", the
 * IMAP section whose bytes are its content, fetched when a file of it
 * is read.  The server's MIME parse, not ours, decides the tree, so a
 * part keeps its number whether the message was fetched whole or not.
 *
 * Section names: the children of a multipart at s are s.1, s.2...; a
 * message's own body, when it is no multipart, is s.1 (1 at the top);
 * a message/rfc822 part at s holds a message whose header is s.HEADER.
 */
#include <string.h>
#include <libetpan/libetpan.h>
#include "box/box.h"
#include "box_imap.h"

static void
join(Buf *out, const char *s, int i)
{
	bufreset(out);
	if (*s)
		bufprint(out, "%s.%d", s, i);
	else
		bufprint(out, "%d", i);
}

static const char *
boundary(struct mailimap_body_type_mpart *mp)
{
	struct mailimap_body_fld_param *pl = mp->bd_ext_mpart ? mp->bd_ext_mpart->bd_parameter : NULL;

	for (clistiter *c = pl ? clist_begin(pl->pa_list) : NULL; c; c = clist_next(c)) {
		struct mailimap_single_body_fld_param *p = clist_content(c);
		if (strcasecmp(p->pa_name, "boundary") == 0)
			return p->pa_value;
	}
	return NULL;
}

/* h, a header block, with the section line before its blank line */
static void
header(Buf *out, const char *h, const char *section)
{
	size_t n = h ? strlen(h) : 0;

	while (n > 0 && (h[n - 1] == '\n' || h[n - 1] == '\r'))
		n--;
	bufadd(out, h, n);
	if (n)
		bufputc(out, '\n');
	if (section)
		bufprint(out, "X-Mailfs-Section: %s\n", section);
	bufputc(out, '\n');
}

static int part(Buf *out, const char *h, struct mailimap_body *bs, const char *s, Skelhdrs *hs, int depth);

static int
message(Buf *out, const char *h, struct mailimap_body *bs, const char *s, Skelhdrs *hs, int depth)
{
	Buf sub = { 0 };

	if (bs->bd_type == MAILIMAP_BODY_MPART)
		return part(out, h, bs, s, hs, depth);
	join(&sub, s, 1);
	int r = part(out, h, bs, sub.p, hs, depth);
	buffree(&sub);
	return r;
}

static int
part(Buf *out, const char *h, struct mailimap_body *bs, const char *s, Skelhdrs *hs, int depth)
{
	Buf sub = { 0 };
	int r = 0;

	if (depth > Skeldepth)
		return -1;
	if (bs->bd_type == MAILIMAP_BODY_MPART) {
		struct mailimap_body_type_mpart *mp = bs->bd_data.bd_body_mpart;
		const char *b = boundary(mp);
		if (b == NULL)
			return -1;
		header(out, h, NULL);
		int i = 1;
		for (clistiter *c = clist_begin(mp->bd_list); c && r == 0; c = clist_next(c), i++) {
			join(&sub, s, i);
			bufprint(out, "--%s\n", b);
			r = part(out, hs->get(hs->arg, sub.p, "MIME"), clist_content(c), sub.p, hs, depth + 1);
		}
		bufprint(out, "--%s--\n", b);
	} else if (bs->bd_data.bd_body_1part->bd_type == MAILIMAP_BODY_TYPE_1PART_MSG) {
		header(out, h, NULL);
		r = message(out, hs->get(hs->arg, s, "HEADER"),
			bs->bd_data.bd_body_1part->bd_data.bd_type_msg->bd_body, s, hs, depth + 1);
	} else
		header(out, h, s);
	buffree(&sub);
	return r;
}

/* the header sections the skeleton needs: want(arg, section, "MIME" or "HEADER") for each */
static void
wants(struct mailimap_body *bs, const char *s, int msg, void (*want)(void *, const char *, const char *), void *arg, int depth)
{
	Buf sub = { 0 };

	if (depth > Skeldepth)
		return;
	if (bs->bd_type == MAILIMAP_BODY_MPART) {
		int i = 1;
		for (clistiter *c = clist_begin(bs->bd_data.bd_body_mpart->bd_list); c; c = clist_next(c), i++) {
			join(&sub, s, i);
			want(arg, sub.p, "MIME");
			wants(clist_content(c), sub.p, 0, want, arg, depth + 1);
		}
	} else if (bs->bd_data.bd_body_1part->bd_type == MAILIMAP_BODY_TYPE_1PART_MSG) {
		if (msg) {	/* a message whose body is itself a message: that body is s.1 */
			join(&sub, s, 1);
			want(arg, sub.p, "HEADER");
			wants(bs->bd_data.bd_body_1part->bd_data.bd_type_msg->bd_body, sub.p, 1, want, arg, depth + 1);
		} else {
			want(arg, s, "HEADER");
			wants(bs->bd_data.bd_body_1part->bd_data.bd_type_msg->bd_body, s, 1, want, arg, depth + 1);
		}
	}
	buffree(&sub);
}

void
imap_skelwants(void *bodystructure, void (*want)(void *, const char *, const char *), void *arg)
{
	wants(bodystructure, "", 1, want, arg, 0);
}

int
imap_skeleton(Buf *out, const char *top, void *bodystructure, Skelhdrs *hs)
{
	return message(out, top, bodystructure, "", hs, 0);
}
