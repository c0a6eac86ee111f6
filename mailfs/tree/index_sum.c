/*
 * A message's summary: the top-level files acme Mail's listing and a
 * shell's loop over messages read, made once by the model and kept in
 * the index as one record, so that a later read needs neither the
 * message nor GMime.  Flags are the exception: they change without the
 * message changing (a ctl command, a Maildir rename, an IMAP store), so
 * the record keeps the info file cut around its flags line and both are
 * made again from the flags of the moment.
 */
#include <string.h>
#include "tree/index.h"

/*
 * Kept, in the record's order; then info's two halves.  A file whose
 * bytes are those of its line in info (the same key) is kept as a
 * reference to that line: most are, and the record is half the size.
 */
static const char *kept[] = {
	"from", "to", "cc", "subject", "date", "unixdate", "messageid", "inreplyto",
	"size", "lines", "digest", "type", "filename",
};
enum { Infopre = nelem(kept), Infopost, Nslots };

int
sum_kind(int kind)
{
	const char *name = file_name(kind);

	for (size_t i = 0; name && i < nelem(kept); i++)
		if (strcmp(kept[i], name) == 0)
			return i + 1;
	return name && (strcmp(name, "info") == 0 || strcmp(name, "flags") == 0) ? Nslots + 1 : 0;
}

enum { Ininfo = 0xFFFFFFFF };	/* a slot's length: see info's line of its name */

static void
put(Buf *out, const char *p, size_t n)
{
	uint32_t len = n;

	bufadd(out, &len, sizeof len);
	bufadd(out, p, n);
}

/* the value of info's line "key value", or NULL */
static const char *
infoline(const char *info, size_t n, const char *key, size_t *len)
{
	size_t k = strlen(key);

	for (const char *p = info, *e = info + n; p < e;) {
		const char *nl = memchr(p, '\n', e - p);
		if (nl == NULL)
			nl = e;
		if ((size_t)(nl - p) > k && memcmp(p, key, k) == 0 && p[k] == ' ') {
			*len = nl - (p + k + 1);
			return p + k + 1;
		}
		p = nl + 1;
	}
	return NULL;
}

/* slot i of a record: 0, or -1 when the record is short */
static int
slot(const char *sum, size_t n, int i, const char **p, size_t *len)
{
	size_t at = 0;

	for (int k = 0;; k++) {
		uint32_t l;
		if (at + sizeof l > n)
			return -1;
		memcpy(&l, sum + at, sizeof l);
		at += sizeof l;
		if (l != Ininfo && l > n - at)
			return -1;
		if (k == i && l == Ininfo) {
			const char *q;
			size_t qn;
			if (slot(sum, n, Infopost, &q, &qn) < 0 || (*p = infoline(q, qn, kept[i], len)) == NULL)
				return -1;
			return 0;
		}
		if (k == i) {
			*p = sum + at;
			*len = l;
			return 0;
		}
		at += l == Ininfo ? 0 : l;
	}
}

static void
flagsline(Buf *out, uint16_t flags)
{
	Buf f = { 0 };

	flags_string(&f, flags);
	if (strcmp(f.p, "-------") != 0)
		bufprint(out, "flags %s\n", f.p);
	buffree(&f);
}

/*
 * The record of top's summary.  hflags: the flags its header says, for
 * stores that keep them there.  -1 when info does not have the shape
 * the record relies on (then the model goes on serving it).
 */
int
sum_make(Buf *out, Part *top, uint16_t *hflags)
{
	Hdr *h = part_hdr(top);
	Buf v = { 0 }, fl = { 0 };

	Buf info = { 0 };
	*hflags = flags_fromfields(hdr_get(h, "Status"), hdr_get(h, "X-Status"));
	file_gen(&info, top, file_kind("info"));
	for (size_t i = 0; i < nelem(kept); i++) {
		const char *line;
		size_t len;
		bufreset(&v);
		file_gen(&v, top, file_kind(kept[i]));
		const char *nl = info.n ? memchr(info.p, '\n', info.n) : NULL;	/* past unixdate: what sum_file looks in */
		size_t at = nl ? (size_t)(nl + 1 - info.p) : info.n;
		if ((line = infoline(info.p + at, info.n - at, kept[i], &len)) != NULL && len == v.n &&
		    memcmp(line, v.p ? v.p : "", len) == 0 && v.n > 0) {
			uint32_t ref = Ininfo;
			bufadd(out, &ref, sizeof ref);
		} else
			put(out, v.p, v.n);
	}
	buffree(&v);
	v = info;
	flagsline(&fl, msg_flags(top->msg));
	const char *nl = v.n ? memchr(v.p, '\n', v.n) : NULL;
	size_t pre = nl ? (size_t)(nl + 1 - v.p) : 0;
	int ok = nl && strncmp(v.p, "unixdate ", 9) == 0 && v.n - pre >= fl.n && memcmp(v.p + pre, fl.p ? fl.p : "", fl.n) == 0;
	if (ok) {
		put(out, v.p, pre);
		put(out, v.p + pre + fl.n, v.n - pre - fl.n);
	}
	buffree(&v);
	buffree(&fl);
	return ok ? 0 : -1;
}

/* the file of this kind, with these flags, from a record; NULL if it has none */
Blob *
sum_file(const char *sum, size_t n, int kind, uint16_t flags)
{
	const char *name = file_name(kind), *p, *q;
	size_t len, qlen;
	int s = sum_kind(kind);
	Buf b = { 0 };

	if (s == 0)
		return NULL;
	if (s <= (int)nelem(kept))
		return slot(sum, n, s - 1, &p, &len) < 0 ? NULL : blobnew(p, len);
	if (strcmp(name, "flags") == 0) {
		flags_string(&b, flags);
	} else {
		if (slot(sum, n, Infopre, &p, &len) < 0 || slot(sum, n, Infopost, &q, &qlen) < 0)
			return NULL;
		bufadd(&b, p, len);
		flagsline(&b, flags);
		bufadd(&b, q, qlen);
	}
	Blob *r = blobfrombuf(&b);
	buffree(&b);
	return r;
}
