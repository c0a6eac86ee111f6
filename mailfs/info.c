/*
 * The info file, the one file acme Mail parses, in plan9port's keyed
 * format: "key value" lines in a fixed order, a line only when its value
 * is not empty, and never an empty line (Mail stops at one).  Also the
 * digest and the 9front flag string, which info carries.
 */
#include <string.h>
#include <openssl/evp.h>
#include <gmime/gmime.h>
#include "fns.h"

void
info_digest(Buf *out, const char *p, size_t n)
{
	static EVP_MD *sha1;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (sha1 == NULL)
		sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	EVP_Digest(p, n, md, &len, sha1, NULL);
	for (unsigned i = 0; i < len; i++)
		bufprint(out, "%02x", md[i]);
}

/*
 * 9front's seven letters aDdfrsS, from the Status and X-Status headers
 * mutt and other Unix readers keep in mbox files.  A message neither
 * read (R) nor seen before (O) is recent.
 */
void
info_flags(Buf *out, Msg *m)
{
	GMimeObject *o = GMIME_OBJECT(m->gm);
	const char *st = g_mime_object_get_header(o, "Status");
	const char *xs = g_mime_object_get_header(o, "X-Status");
	int seen = st && strchr(st, 'R'), old = st && strchr(st, 'O');
	char f[8] = "-------";

	if (xs && strchr(xs, 'A'))
		f[0] = 'a';
	if (xs && strchr(xs, 'D'))
		f[1] = 'D';
	if (xs && strchr(xs, 'T'))
		f[2] = 'd';
	if (xs && strchr(xs, 'F'))
		f[3] = 'f';
	if (!seen && !old)
		f[4] = 'r';
	if (seen)
		f[5] = 's';
	bufputs(out, f);
}

/* "key value\n", only when the value is not empty */
static void
line(Buf *out, const char *key, Buf *val)
{
	if (val->n == 0)
		return;
	bufputs(out, key);
	bufputc(out, ' ');
	for (size_t i = 0; i < val->n; i++) {
		char c = val->p[i];
		bufputc(out, c == '\r' || c == '\n' || c == '\t' ? ' ' : c);
	}
	bufputc(out, '\n');
	bufreset(val);
}

static void
fileline(Buf *out, Part *p, const char *key, int kind)
{
	Blob *b = file_content(p, kind);
	Buf v = { 0 };

	if (b) {
		bufadd(&v, b->p, b->n);
		blobunref(b);
	}
	line(out, key, &v);
	buffree(&v);
}

void
info_make(Buf *out, Part *p)
{
	static const struct { const char *key; int which; } addrs[] = {
		{ "from", Afrom }, { "to", Ato }, { "cc", Acc }, { "replyto", Areplyto }, { "bcc", Abcc },
	};
	static const char *after[] = { "inreplyto", "date", "sender", "messageid", "subject" };
	Buf v = { 0 };
	char type[128];
	int top = p->parent == NULL;

	if (top || (p->kind == Kmessage && p->env &&
	    g_mime_object_get_header(GMIME_OBJECT(p->env), "Date") &&
	    hdr_date(g_mime_object_get_header(GMIME_OBJECT(p->env), "Date")) != 0)) {
		int64_t t = top ? p->msg->date : hdr_date(g_mime_object_get_header(GMIME_OBJECT(p->env), "Date"));
		bufprint(&v, "%lld ", (long long)t);
		hdr_ctime(&v, t);
		v.n--;	/* line() adds the newline ctime already has */
		line(out, "unixdate", &v);
	}
	if (top) {
		info_flags(&v, p->msg);
		if (strcmp(v.p, "-------") == 0)
			bufreset(&v);
		line(out, "flags", &v);
	}
	fileline(out, p, "digest", file_kind("digest"));
	if (p->env) {
		for (size_t i = 0; i < nelem(addrs); i++) {
			hdr_pairs(&v, p->env, addrs[i].which);
			line(out, addrs[i].key, &v);
		}
		for (size_t i = 0; i < nelem(after); i++)
			fileline(out, p, after[i], file_kind(after[i]));
	}
	bufputs(&v, part_typename(p, type, sizeof type));
	line(out, "type", &v);
	if (p->kind == Kmessage || p->kind == Krfc822 || strncmp(type, "text/", 5) == 0) {
		Blob *b = file_content(p, file_kind("lines"));
		if (b && strcmp(b->p, "0") != 0)
			bufputs(&v, b->p);
		blobunref(b);
		line(out, "lines", &v);
	}
	fileline(out, p, "filename", file_kind("filename"));
	buffree(&v);
}
