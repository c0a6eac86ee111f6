/*
 * Header values in the forms the spec's files and info lines want:
 * address lists in Plan 9's "pair format", decoded and unfolded text,
 * and plan9port's ctime.  GMime does the decoding; this file only
 * chooses and formats.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gmime/gmime.h>
#include "model/gm.h"

/* Plan 9 %q: quote a token when empty or holding a blank, control or quote */
static void
quoted(Buf *out, const char *s)
{
	int need = *s == 0;

	for (const char *c = s; *c && !need; c++)
		need = (unsigned char)*c <= ' ' || *c == '\'';
	if (!need) {
		bufputs(out, s);
		return;
	}
	bufputc(out, '\'');
	for (const char *c = s; *c; c++) {
		if (*c == '\'')
			bufputc(out, '\'');
		bufputc(out, *c);
	}
	bufputc(out, '\'');
}

static void
pairs(Buf *out, InternetAddressList *l)
{
	int n = l ? internet_address_list_length(l) : 0;

	for (int i = 0; i < n; i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(a)) {
			pairs(out, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
			continue;
		}
		const char *name = internet_address_get_name(a);
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
		Buf nb = { 0 };
		/* a name is one token: no line breaks or tabs inside */
		for (const char *c = name ? name : ""; *c; c++)
			bufputc(&nb, *c == '\n' || *c == '\r' || *c == '\t' ? ' ' : *c);
		if (out->n)
			bufputc(out, ' ');
		quoted(out, nb.n ? nb.p : "");
		bufputc(out, ' ');
		quoted(out, addr ? addr : "");
		buffree(&nb);
	}
}

/*
 * Split a raw header block into fields.  Splitting is not decoding:
 * values stay as stored, folded, for GMime to decode.  Like GMime, a
 * line with no colon, or with blanks in its name, is skipped and does
 * not end the header.
 */
void
hdr_parse(Hdr *h, const char *p, size_t n)
{
	size_t i = 0;
	int open = 0;	/* the last field's value is still at the end of h->s */

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t ll = nl ? (size_t)(nl - (p + i)) : n - i;
		const char *line = p + i;
		i += ll + (nl != NULL);
		if (ll > 0 && (line[0] == ' ' || line[0] == '\t')) {
			if (open) {
				h->s.n--;	/* reopen the value: drop its NUL */
				bufputc(&h->s, '\n');
				bufadd(&h->s, line, ll);
				bufputc(&h->s, 0);
			}
			continue;
		}
		const char *colon = memchr(line, ':', ll);
		size_t nlen = colon ? (size_t)(colon - line) : 0;
		while (nlen > 0 && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
			nlen--;
		open = nlen > 0 && memchr(line, ' ', nlen) == NULL && memchr(line, '\t', nlen) == NULL;
		if (!open)
			continue;
		h->f = xrealloc(h->f, (h->n + 1) * sizeof *h->f);
		h->f[h->n].name = h->s.n;
		bufadd(&h->s, line, nlen);
		bufputc(&h->s, 0);
		h->f[h->n].value = h->s.n;
		bufadd(&h->s, colon + 1, line + ll - colon - 1);
		bufputc(&h->s, 0);
		h->n++;
	}
}

static int
byoffset(const void *a, const void *b)
{
	gint64 x = g_mime_header_get_offset(*(GMimeHeader **)a);
	gint64 y = g_mime_header_get_offset(*(GMimeHeader **)b);

	return x < y ? -1 : x > y;
}

/*
 * The fields of a parsed (inner) message.  GMime keeps the Content-*
 * fields with the message's MIME part, so the two lists are merged back
 * into their original order by offset.
 */
void
hdr_fromgmime(Hdr *h, GMimeMessage *gmessage)
{
	GMimeObject *lists[2] = { GMIME_OBJECT(gmessage), g_mime_message_get_mime_part(gmessage) };
	GMimeHeader **all = NULL;
	size_t n = 0;

	for (int l = 0; l < 2; l++) {
		GMimeHeaderList *hl = lists[l] ? g_mime_object_get_header_list(lists[l]) : NULL;
		int c = hl ? g_mime_header_list_get_count(hl) : 0;
		all = xrealloc(all, (n + c + 1) * sizeof *all);
		for (int i = 0; i < c; i++)
			all[n++] = g_mime_header_list_get_header_at(hl, i);
	}
	qsort(all, n, sizeof *all, byoffset);
	for (size_t i = 0; i < n; i++) {
		const char *v = g_mime_header_get_raw_value(all[i]);
		if (i > 0 && all[i] == all[i - 1])
			continue;
		h->f = xrealloc(h->f, (h->n + 1) * sizeof *h->f);
		h->f[h->n].name = h->s.n;
		bufputs(&h->s, g_mime_header_get_name(all[i]));
		bufputc(&h->s, 0);
		h->f[h->n].value = h->s.n;
		bufputs(&h->s, v ? v : "");
		bufputc(&h->s, 0);
		h->n++;
	}
	free(all);
}

void
hdr_free(Hdr *h)
{
	for (size_t i = 0; i < nelem(h->lists); i++)
		if (h->lists[i])
			g_object_unref(h->lists[i]);
	memset(h->lists, 0, sizeof h->lists);
	memset(h->parsed, 0, sizeof h->parsed);
	free(h->f);
	buffree(&h->s);
	h->f = NULL;
	h->n = 0;
}

#define NAME(h, i)	((h)->s.p + (h)->f[i].name)
#define VALUE(h, i)	((h)->s.p + (h)->f[i].value)

const char *
hdr_get(Hdr *h, const char *name)
{
	for (int i = 0; i < h->n; i++)
		if (g_ascii_strcasecmp(NAME(h, i), name) == 0)
			return VALUE(h, i);
	return NULL;
}

int
hdr_count(Hdr *h, const char *name)
{
	int k = 0;

	for (int i = 0; i < h->n; i++)
		k += g_ascii_strcasecmp(NAME(h, i), name) == 0;
	return k;
}

/* every field called name, as one address list; NULL when it has none */
static InternetAddressList *
addrlist(Hdr *h, const char *name)
{
	Buf all = { 0 };
	InternetAddressList *l = NULL;

	for (int i = 0; i < h->n; i++)
		if (g_ascii_strcasecmp(NAME(h, i), name) == 0) {
			if (all.n)
				bufputs(&all, ", ");
			bufputs(&all, VALUE(h, i));
		}
	if (all.n)
		l = internet_address_list_parse(part_opts(), all.p);
	buffree(&all);
	if (l && internet_address_list_length(l) == 0) {
		g_object_unref(l);
		l = NULL;
	}
	return l;
}

InternetAddressList *
hdr_addresses(Hdr *h, const char *name)
{
	return addrlist(h, name);
}

/* Sender and Reply-To default to From, so Mail's Reply goes to the right place */
void
hdr_pairs(Buf *out, Hdr *h, int which)
{
	static const char *names[] = {
		[Afrom] = "From", [Ato] = "To", [Acc] = "Cc", [Abcc] = "Bcc",
		[Areplyto] = "Reply-To", [Asender] = "Sender",
	};
	InternetAddressList *l;

	for (int w = which;; w = Afrom) {
		if (!h->parsed[w]) {
			h->lists[w] = addrlist(h, names[w]);
			h->parsed[w] = 1;
		}
		l = h->lists[w];
		if (l || w == Afrom || (which != Asender && which != Areplyto))
			break;
	}
	Buf b = { 0 };
	pairs(&b, l);
	bufadd(out, b.p, b.n);
	buffree(&b);
}

/* whitespace runs inside a value become one space; ends are trimmed */
static void
flatten(Buf *out, const char *s)
{
	int space = 0;
	size_t start = out->n;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
			space = 1;
			continue;
		}
		if (space && out->n > start)
			bufputc(out, ' ');
		space = 0;
		bufputc(out, *s);
	}
}

static int
plain(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80 || (s[0] == '=' && s[1] == '?'))
			return 0;
	return 1;
}

void
hdr_text(Buf *out, const char *raw)
{
	if (plain(raw)) {	/* nothing to decode: spare GMime the work */
		flatten(out, raw);
		return;
	}
	char *d = g_mime_utils_header_decode_text(part_opts(), raw);
	flatten(out, d ? d : raw);
	g_free(d);
}

/* the raw value, unfolded and trimmed: for Date, Message-ID, In-Reply-To */
void
hdr_value(Buf *out, Hdr *h, const char *name)
{
	const char *v = hdr_get(h, name);

	if (v)
		flatten(out, v);
}

/*
 * The message ids (<...>) of a field such as References, one a line in
 * the field's order, the last max of them: a long thread's References
 * grows at its end, so the oldest are dropped.  A <...> holding white
 * space is no id and is skipped.
 */
void
hdr_ids(Buf *out, Hdr *h, const char *name, int max)
{
	const char *v = hdr_get(h, name), *start[max > 0 ? max : 1];
	size_t len[max > 0 ? max : 1], n = 0;

	if (v == NULL || max <= 0)
		return;
	for (const char *lt = strchr(v, '<'); lt; lt = strchr(lt + 1, '<')) {
		size_t k = strcspn(lt + 1, "<> \t\r\n");
		if (lt[1 + k] != '>' || k == 0)
			continue;
		start[n % max] = lt;
		len[n % max] = k + 2;
		n++;
	}
	for (size_t i = n > (size_t)max ? n - max : 0; i < n; i++) {
		bufadd(out, start[i % max], len[i % max]);
		bufputc(out, '\n');
	}
}

void
hdr_decoded(Buf *out, Hdr *h, const char *name)
{
	const char *v = hdr_get(h, name);

	if (v)
		hdr_text(out, v);
}

/* every field, decoded and unfolded onto one line each */
void
hdr_all(Buf *out, Hdr *h)
{
	for (int i = 0; i < h->n; i++) {
		bufputs(out, NAME(h, i));
		bufputs(out, ": ");
		hdr_text(out, VALUE(h, i));
		bufputc(out, '\n');
	}
}

/*
 * plan9port ctime: "Thu Jul  2 08:48:02 EDT 2026\n".  acme Mail and
 * faces count six fields, so the zone is exactly three characters: the
 * local abbreviation cut to three, or GMT when it is shorter.
 */
/* UTF-8 text case-folded, made valid first: malloc'd, for free() */
char *
hdr_fold(const char *p, size_t n)
{
	char *valid = g_utf8_make_valid(p, n), *f = g_utf8_casefold(valid, -1), *r = xstrdup(f);

	g_free(f);
	g_free(valid);
	return r;
}

void
hdr_ctime(Buf *out, int64_t secs)
{
	time_t t = secs;
	struct tm tm;
	char zone[4] = "GMT", head[32], year[16];

	localtime_r(&t, &tm);
	if (tm.tm_zone == NULL || strlen(tm.tm_zone) < 3)
		gmtime_r(&t, &tm);
	else
		snprintf(zone, sizeof zone, "%.3s", tm.tm_zone);
	strftime(head, sizeof head, "%a %b %e %H:%M:%S", &tm);
	snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
	bufprint(out, "%s %s %s\n", head, zone, year);
}

int64_t
hdr_date(const char *value)
{
	while (isspace((unsigned char)*value))
		value++;
	GDateTime *dt = *value ? g_mime_utils_header_decode_date(value) : NULL;
	int64_t t = dt ? g_date_time_to_unix(dt) : 0;

	if (dt)
		g_date_time_unref(dt);
	return t;
}
