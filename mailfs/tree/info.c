/*
 * The info file, the one file acme Mail parses, in plan9port's keyed
 * format: "key value" lines in a fixed order, a line only when its value
 * is not empty, and never an empty line (Mail stops at one).  Also the
 * digest and the 9front flag string, which info carries.
 */
#include <pthread.h>
#include <string.h>
#include <openssl/evp.h>
#include "tree/tree.h"

/*
 * One digest context per thread (prefetch.c makes infos too), freed
 * when its thread ends; the algorithm is fetched once and shared.
 */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_key_t ctxkey;
static EVP_MD *sha1;

static void
freectx(void *ctx)
{
	EVP_MD_CTX_free(ctx);
}

static void
setup(void)
{
	sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	pthread_key_create(&ctxkey, freectx);
}

/* SHA-1 of p1 then p2, in lowercase hex */
void
info_digest(Buf *out, const char *p1, size_t n1, const char *p2, size_t n2)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	pthread_once(&once, setup);
	EVP_MD_CTX *ctx = pthread_getspecific(ctxkey);
	if (ctx == NULL) {
		ctx = EVP_MD_CTX_new();
		pthread_setspecific(ctxkey, ctx);
	}
	EVP_DigestInit_ex(ctx, sha1, NULL);
	EVP_DigestUpdate(ctx, p1, n1);
	EVP_DigestUpdate(ctx, p2, n2);
	EVP_DigestFinal_ex(ctx, md, &len);
	for (unsigned i = 0; i < len; i++) {
		bufputc(out, hex[md[i] >> 4]);
		bufputc(out, hex[md[i] & 15]);
	}
}

/* 9front's seven letters aDdfrsS */
void
info_flags(Buf *out, Msg *m)
{
	flags_string(out, msg_flags(m));
}

/* "key value\n", only when the value is not empty */
static void
line(Buf *out, const char *key, Buf *val)
{
	if (val->n == 0)
		return;
	for (size_t i = 0; i < val->n; i++)
		if (val->p[i] == '\r' || val->p[i] == '\n' || val->p[i] == '\t')
			val->p[i] = ' ';
	bufputs(out, key);
	bufputc(out, ' ');
	bufadd(out, val->p, val->n);
	bufputc(out, '\n');
	bufreset(val);
}

static void
fileline(Buf *out, Part *p, const char *key, int kind)
{
	Buf v = { 0 };

	file_gen(&v, p, kind);
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

	Hdr *h = part_hdr(p);
	int64_t t = top ? p->msg->date : 0;

	if (!top && p->entity == Kmessage && h && hdr_get(h, "Date"))
		t = hdr_date(hdr_get(h, "Date"));
	if (top || t != 0) {
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
	if (h) {
		for (size_t i = 0; i < nelem(addrs); i++) {
			hdr_pairs(&v, h, addrs[i].which);
			line(out, addrs[i].key, &v);
		}
		for (size_t i = 0; i < nelem(after); i++)
			fileline(out, p, after[i], file_kind(after[i]));
	}
	bufputs(&v, part_typename(p, type, sizeof type));
	line(out, "type", &v);
	if (p->entity == Kmessage || p->entity == Krfc822 || strncmp(type, "text/", 5) == 0) {
		file_gen(&v, p, file_kind("lines"));
		if (strcmp(v.p, "0") == 0)
			bufreset(&v);
		line(out, "lines", &v);
	}
	fileline(out, p, "filename", file_kind("filename"));
	/* last: acme Mail skips keys it does not know (loadinfo in its mesg.c) */
	file_gen(&v, p, file_kind("references"));
	while (v.n > 0 && v.p[v.n - 1] == '\n')
		v.n--;
	line(out, "references", &v);
	buffree(&v);
}
