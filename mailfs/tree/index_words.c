/*
 * The words of a message as the index keeps them: a row per part, so a
 * hit can name its part.  A message entity's row has its decoded
 * header fields; a leaf's has its text, as a body when it is text shown
 * in the message, as an attachment when it is a file sent with it.
 * Text is text by its bytes as well as its label: an
 * application/octet-stream part that is valid UTF-8 is read as text.
 * HTML is read as its rendered text, without tags, scripts and styles.
 */
#include <string.h>
#include <strings.h>
#include "tree/index.h"

enum { Maxtext = 8 << 20 };	/* of one part: the rest of a huge one adds little */

static int
attached(Part *p, const char *type)
{
	const char *d = part_disposition(p);

	return (d && strcasecmp(d, "attachment") == 0) || strncmp(type, "text/", 5) != 0;
}

static void
leaftext(Buf *out, Part *p, const char *type)
{
	Buf b = { 0 };

	if (strcmp(type, "text/html") == 0) {
		body_decode(&b, p);
		html_text(out, b.p ? b.p : "", b.n < Maxtext ? b.n : Maxtext, "utf-8");
	} else if (strncmp(type, "text/", 5) == 0) {
		body_decode(&b, p);
		bufadd(out, b.p, b.n < Maxtext ? b.n : Maxtext);
	} else if (strcmp(type, "application/octet-stream") == 0) {
		body_bytes(&b, p);
		if (b.n <= Maxtext && utf8valid(b.p, b.n))
			bufadd(out, b.p, b.n);
	}
	buffree(&b);
}

static void
headers(Part *p, Buf cols[Ncols])
{
	static const int which[] = { [Cfrom] = Afrom, [Cto] = Ato, [Ccc] = Acc };
	Hdr *h = part_hdr(p);

	if (h == NULL)
		return;
	for (int c = Cfrom; c <= Ccc; c++)
		hdr_pairs(&cols[c], h, which[c]);
	hdr_decoded(&cols[Csubject], h, "Subject");
}

static int
empty(Buf cols[Ncols])
{
	for (int i = 0; i < Ncols; i++)
		if (cols[i].n)
			return 0;
	return 1;
}

/* fn for each part of m with words; m is parsed whole first */
void
words_make(Msg *m, Wordsfn *fn, void *arg)
{
	char type[128];
	Buf cols[Ncols];

	if (part_full(m) < 0)
		return;
	for (uint32_t i = 0; i < m->nparts && i < Maxidxparts; i++) {
		Part *p = m->parts[i];
		memset(cols, 0, sizeof cols);
		if (p->entity == Kmessage)
			headers(p, cols);
		if (p->nkids == 0 && p->entity != Krfc822) {
			part_typename(p, type, sizeof type);
			const char *name = part_filename(p);
			if (name)
				bufputs(&cols[Cfilename], name);
			leaftext(&cols[attached(p, type) ? Cattach : Cbody], p, type);
		}
		if (!empty(cols))
			fn(arg, i, cols);
		for (int c = 0; c < Ncols; c++)
			buffree(&cols[c]);
	}
}
