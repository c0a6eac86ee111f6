/*
 * The IMAP backend's MIME parts: a message's skeleton from its
 * BODYSTRUCTURE and its parts' headers, then the sections asked for.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <libetpan/libetpan.h>
#include "box/box.h"
#include "box_imap.h"

/* ---- parts: a skeleton of the tree, then the sections asked for ---- */

/* "2.1" as libetpan's section part */
static struct mailimap_section_part *
sectionpart(const char *s)
{
	clist *ids = clist_new();

	for (const char *p = s; *p;) {
		uint32_t *id = xmalloc(sizeof *id);
		*id = strtoul(p, (char **)&p, 10);
		clist_append(ids, id);
		if (*p == '.')
			p++;
		else if (*p)
			break;
	}
	return mailimap_section_part_new(ids);
}

/* the name of a section in a FETCH response: "2.1", "2.1.MIME", "2.HEADER" */
static void
sectionkey(struct mailimap_section *sec, Buf *out)
{
	bufreset(out);
	bufadd(out, "", 0);
	if (sec == NULL || sec->sec_spec == NULL || sec->sec_spec->sec_type != MAILIMAP_SECTION_SPEC_SECTION_PART)
		return;
	for (clistiter *c = clist_begin(sec->sec_spec->sec_data.sec_part->sec_id); c; c = clist_next(c))
		bufprint(out, "%s%u", out->n ? "." : "", *(uint32_t *)clist_content(c));
	struct mailimap_section_text *t = sec->sec_spec->sec_text;
	if (t)
		bufputs(out, t->sec_type == MAILIMAP_SECTION_TEXT_MIME ? ".MIME" : ".HEADER");
}


static void
want(void *arg, const char *section, const char *what)
{
	Sections *ss = arg;
	Buf k = { 0 };
	struct mailimap_section_part *sp = sectionpart(section);

	bufprint(&k, "%s.%s", section, what);
	ss->key = xrealloc(ss->key, (ss->n + 1) * sizeof *ss->key);
	ss->val = xrealloc(ss->val, (ss->n + 1) * sizeof *ss->val);
	ss->key[ss->n] = k.p;
	ss->val[ss->n++] = (Buf){ 0 };
	mailimap_fetch_type_new_fetch_att_list_add(ss->type, mailimap_fetch_att_new_body_peek_section(
		strcmp(what, "MIME") == 0 ? mailimap_section_new_part_mime(sp) : mailimap_section_new_part_header(sp)));
}

static const char *
got(void *arg, const char *section, const char *what)
{
	Sections *ss = arg;
	char k[256];

	snprintf(k, sizeof k, "%s.%s", section, what);
	for (int i = 0; i < ss->n; i++)
		if (strcmp(ss->key[i], k) == 0)
			return ss->val[i].p ? ss->val[i].p : "";
	return "";
}

/* the sections of one FETCH response, each as LF text */
static void
takesections(struct mailimap_msg_att *a, Sections *ss, struct mailimap_body **bs)
{
	Buf k = { 0 };

	for (clistiter *c = clist_begin(a->att_list); c; c = clist_next(c)) {
		struct mailimap_msg_att_item *it = clist_content(c);
		if (it->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
			continue;
		struct mailimap_msg_att_static *st = it->att_data.att_static;
		if (st->att_type == MAILIMAP_MSG_ATT_BODYSTRUCTURE && bs) {
			*bs = st->att_data.att_bodystructure;
			st->att_data.att_bodystructure = NULL;	/* ours now */
		}
		if (st->att_type != MAILIMAP_MSG_ATT_BODY_SECTION || ss == NULL)
			continue;
		sectionkey(st->att_data.att_body_section->sec_section, &k);
		for (int i = 0; i < ss->n; i++)
			if (strcmp(ss->key[i], k.p) == 0 && ss->val[i].p == NULL) {
				struct mailimap_msg_att_body_section *bsec = st->att_data.att_body_section;
				imap_keep(&ss->val[i], bsec->sec_body_part ? bsec->sec_body_part : "",
					bsec->sec_body_part ? bsec->sec_length : 0);
			}
	}
	buffree(&k);
}

/* one FETCH of t for the message with UID uid; its response to take */
static int
fetchone(Imap *im, uint32_t uid, struct mailimap_fetch_type *t, Sections *ss, struct mailimap_body **bs)
{
	Fetch f = { mailimap_set_new_single(uid), t, NULL };
	int r = imap_uidfetch(im, &f, "fetching a message's parts");

	if (r == 0 && (f.result == NULL || clist_begin(f.result) == NULL))
		r = seterr(ENOENT, "%s: message %u is gone from the server", im->u.text, uid);
	if (r == 0)
		takesections(clist_content(clist_begin(f.result)), ss, bs);
	f.type = NULL;	/* the caller's */
	imap_fetchfree(&f);
	return r;
}

static struct mailimap_body *
takebs(Imap *im, uint32_t uid)
{
	for (int k = 0; k < Bsrun; k++)
		if (im->bsuid[k] == uid && im->bs[k]) {
			struct mailimap_body *bs = im->bs[k];
			im->bs[k] = NULL;
			return bs;
		}
	return NULL;
}

/*
 * The BODYSTRUCTUREs of a run of messages from index i, the way the
 * reader goes, in one command: a listing of every message's parts
 * costs a round trip per Bsrun messages for them.
 */
static int
bsrun(Box *b, size_t i)
{
	Imap *im = b->aux;
	Fetch f = { imap_runset(b, 2, i, Bsrun), imap_withuid(mailimap_fetch_att_new_bodystructure()), NULL };
	int r = imap_uidfetch(im, &f, "fetching message structures"), n = 0;

	imap_forgetbs(im);
	for (clistiter *c = r == 0 && f.result ? clist_begin(f.result) : NULL; c && n < Bsrun; c = clist_next(c)) {
		Msgent e;
		uint32_t uid = imap_entryof(clist_content(c), &e, NULL, NULL);
		if (uid == 0)
			continue;
		im->bsuid[n] = uid;
		takesections(clist_content(c), NULL, &im->bs[n]);
		n++;
	}
	imap_fetchfree(&f);
	return r;
}

/*
 * The skeleton (imap_skel.c) of message m: its header, BODYSTRUCTURE in
 * one round trip, every part's header in a second.  1 when the message
 * has none (too deep, no boundary): it is then parsed whole.
 */
int
imapfetchskel(Box *b, const Msgent *m, Buf *skel)
{
	Imap *im = b->aux;
	Buf top = { 0 };
	struct mailimap_body *bs = NULL;
	Sections ss = { 0 };
	int whole, r;

	if (imap_cacheget(im, m->key, "skel", skel) == 0)
		return skel->n ? 0 : 1;	/* an empty one: it has none */
	if ((r = imapfetchhdr(b, m, &top, &whole)) < 0)
		goto out;
	if (whole) {	/* the cache had the whole message: its header */
		size_t hl, bo;
		hdrsplit(top.p, top.n, &hl, &bo);
		top.n = hl ? bo : 0;	/* the header with its blank line */
		top.p[top.n] = 0;
	}
	if ((bs = takebs(im, m->key)) == NULL) {
		if ((r = bsrun(b, m - b->msgs)) < 0)
			goto out;
		bs = takebs(im, m->key);
	}
	if (bs == NULL) {
		r = seterr(EPROTO, "%s: no BODYSTRUCTURE for message %u", im->u.text, m->key);
		goto out;
	}
	ss.type = mailimap_fetch_type_new_fetch_att_list_empty();
	imap_skelwants(bs, want, &ss);
	if (ss.n > 0 && (r = fetchone(im, m->key, ss.type, &ss, NULL)) < 0)
		goto out;
	Skelhdrs hs = { got, &ss };
	bufreset(skel);
	r = imap_skeleton(skel, top.p, bs, &hs) < 0 ? 1 : 0;
	if (r == 1)
		bufreset(skel);
	bufadd(skel, "", 0);
	imap_cacheput(im, m->key, "skel", skel->p, skel->n - (skel->n > 0 && r == 1));
out:
	for (int i = 0; i < ss.n; i++) {
		free(ss.key[i]);
		buffree(&ss.val[i]);
	}
	free(ss.key);
	free(ss.val);
	if (ss.type)
		mailimap_fetch_type_free(ss.type);
	if (bs)
		mailimap_body_free(bs);
	buffree(&top);
	return r;
}

/*
 * RFC 3516 BINARY.PEEK, which libetpan does not know, spoken on the
 * connection's stream: a normal FETCH gets each NUL of an 8bit or
 * binary part as another byte (Dovecot sends 0x80), BINARY the bytes
 * themselves, in a literal8 ("~{n}").
 */
typedef struct Binary Binary;
struct Binary {
	uint32_t	uid;
	const char	*section;
	Buf	*out;
	int	got;
};

/* the literal a line ends with ("{n}" or "~{n}"): its length, or -1 */
static long
literal(const char *l)
{
	size_t n = strlen(l);

	if (n < 3 || l[n - 1] != '}')
		return -1;
	const char *open = memrchr(l, '{', n);
	return open ? strtol(open + 1, NULL, 10) : -1;
}

static int
readexactly(mailstream *st, Buf *out, size_t n)
{
	char buf[65536];

	while (n > 0) {
		ssize_t k = mailstream_read(st, buf, n < sizeof buf ? n : sizeof buf);
		if (k <= 0)
			return -1;
		bufadd(out, buf, k);
		n -= k;
	}
	return 0;
}

static int
opbinary(Imap *im, void *arg)
{
	Binary *bi = arg;
	mailstream *st = im->s->imap_stream;
	char tag[32], want[64];
	Buf cmd = { 0 };
	int r = MAILIMAP_ERROR_STREAM;

	snprintf(tag, sizeof tag, "%d", ++im->s->imap_tag);
	snprintf(want, sizeof want, "BINARY[%s] ", bi->section);
	bufprint(&cmd, "%s UID FETCH %u (BINARY.PEEK[%s])\r\n", tag, bi->uid, bi->section);
	MMAPString *line = mmap_string_new("");
	if (mailstream_write(st, cmd.p, cmd.n) != (ssize_t)cmd.n || mailstream_flush(st) < 0)
		goto out;
	for (;;) {
		char *l = mailstream_read_line_remove_eol(st, line);
		if (l == NULL)
			goto out;
		size_t tl = strlen(tag);
		if (strncmp(l, tag, tl) == 0 && l[tl] == ' ') {
			r = strncasecmp(l + tl + 1, "OK", 2) == 0 && bi->got ? MAILIMAP_NO_ERROR : MAILIMAP_ERROR_FETCH;
			break;
		}
		long n = literal(l);
		char *at = strstr(l, want);
		int ours = at != NULL && !bi->got;
		if (n >= 0) {	/* ours, or another answer's literal to pass over */
			Buf skip = { 0 };
			if (readexactly(st, ours ? bi->out : &skip, n) < 0) {
				buffree(&skip);
				goto out;
			}
			buffree(&skip);
			bi->got |= ours;
		} else if (ours && strncmp(at + strlen(want), "NIL", 3) == 0)
			bi->got = 1;
		else if (ours && at[strlen(want)] == '"') {	/* a quoted string: short, text */
			for (const char *c = at + strlen(want) + 1; *c && *c != '"'; c++)
				bufputc(bi->out, *c == '\\' && c[1] ? *++c : *c);
			bi->got = 1;
		}
	}
out:
	mmap_string_free(line);
	buffree(&cmd);
	return r;
}

/* a section's exact bytes by BINARY: 0, 1 not to be had so, -1 the connection failed */
static int
binary(Imap *im, uint32_t uid, const char *section, Buf *out)
{
	if (imap_connect(im) < 0 || !mailimap_has_extension(im->s, "BINARY"))
		return 1;
	Binary bi = { uid, section, out, 0 };
	int lib;
	bufreset(out);
	if (imap_run(im, opbinary, &bi, &lib) < 0)
		return -1;
	if (lib != MAILIMAP_NO_ERROR)
		return 1;	/* refused ([UNKNOWN-CTE]): the normal FETCH */
	out->n = crlftolf(out->p ? out->p : "", out->n);
	if (out->p)
		out->p[out->n] = 0;
	return 0;
}

/* the bytes of one section, as stored (transfer-encoded), LF line ends */
int
imapfetchpart(Box *b, const Msgent *m, const char *section, int exact, Buf *out)
{
	Imap *im = b->aux;
	Sections ss = { 0 };

	char bkey[96];

	/* kept apart from a normal FETCH's bytes, which may have lost its NULs */
	snprintf(bkey, sizeof bkey, "%s.BINARY", section);
	if (exact && imap_cacheget(im, m->key, bkey, out) == 0)
		return 0;
	int br = exact ? binary(im, m->key, section, out) : 1;
	if (br <= 0) {
		if (br == 0)
			imap_cacheput(im, m->key, bkey, out->p, out->n);
		return br;
	}
	if (imap_cacheget(im, m->key, section, out) == 0)
		return 0;
	ss.type = mailimap_fetch_type_new_fetch_att_list_empty();
	ss.key = xmalloc(sizeof *ss.key);
	ss.val = xmalloc(sizeof *ss.val);
	ss.key[0] = xstrdup(section);
	ss.val[0] = (Buf){ 0 };
	ss.n = 1;
	mailimap_fetch_type_new_fetch_att_list_add(ss.type,
		mailimap_fetch_att_new_body_peek_section(mailimap_section_new_part(sectionpart(section))));
	int r = fetchone(im, m->key, ss.type, &ss, NULL);
	if (r == 0) {
		bufreset(out);
		bufadd(out, ss.val[0].p ? ss.val[0].p : "", ss.val[0].n);
		imap_cacheput(im, m->key, section, out->p, out->n);
	}
	free(ss.key[0]);
	buffree(&ss.val[0]);
	free(ss.key);
	free(ss.val);
	mailimap_fetch_type_free(ss.type);
	return r;
}

