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
#include "fns.h"

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

static int
empty(InternetAddressList *l)
{
	return l == NULL || internet_address_list_length(l) == 0;
}

void
hdr_pairs(Buf *out, void *gmessage, int which)
{
	GMimeMessage *gm = gmessage;
	InternetAddressList *l = NULL;

	switch (which) {
	case Afrom:	l = g_mime_message_get_from(gm); break;
	case Ato:	l = g_mime_message_get_to(gm); break;
	case Acc:	l = g_mime_message_get_cc(gm); break;
	case Abcc:	l = g_mime_message_get_bcc(gm); break;
	case Asender:	l = g_mime_message_get_sender(gm); break;
	case Areplyto:	l = g_mime_message_get_reply_to(gm); break;
	}
	if ((which == Asender || which == Areplyto) && empty(l))
		l = g_mime_message_get_from(gm);
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

void
hdr_text(Buf *out, const char *raw)
{
	char *d = g_mime_utils_header_decode_text(part_opts(), raw);

	flatten(out, d ? d : raw);
	g_free(d);
}

static const char *
rawvalue(GMimeMessage *gm, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(gm));
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;

	return h ? g_mime_header_get_raw_value(h) : NULL;
}

/* the raw value, unfolded and trimmed: for Date, Message-ID, In-Reply-To */
void
hdr_unfolded(Buf *out, void *gmessage, const char *name)
{
	const char *v = rawvalue(gmessage, name);

	if (v)
		flatten(out, v);
}

void
hdr_subject(Buf *out, void *gmessage)
{
	const char *v = rawvalue(gmessage, "Subject");

	if (v)
		hdr_text(out, v);
}

static int
byoffset(const void *a, const void *b)
{
	gint64 x = g_mime_header_get_offset(*(GMimeHeader **)a);
	gint64 y = g_mime_header_get_offset(*(GMimeHeader **)b);

	return x < y ? -1 : x > y;
}

/*
 * Every header line of a message in its original order.  GMime keeps
 * the Content-* fields with the message's MIME part, so the two lists
 * are merged back by their offsets in the source.
 */
void
hdr_all(Buf *out, void *gmessage)
{
	GMimeObject *lists[2] = { GMIME_OBJECT(gmessage), g_mime_message_get_mime_part(gmessage) };
	GMimeHeader **all = NULL;
	size_t n = 0;

	for (int l = 0; l < 2; l++) {
		GMimeHeaderList *hl = lists[l] ? g_mime_object_get_header_list(lists[l]) : NULL;
		int c = hl ? g_mime_header_list_get_count(hl) : 0;
		all = xrealloc(all, (n + c) * sizeof *all);
		for (int i = 0; i < c; i++)
			all[n++] = g_mime_header_list_get_header_at(hl, i);
	}
	qsort(all, n, sizeof *all, byoffset);
	for (size_t i = 0; i < n; i++) {
		const char *v = g_mime_header_get_raw_value(all[i]);
		if (i > 0 && all[i] == all[i - 1])
			continue;
		bufputs(out, g_mime_header_get_name(all[i]));
		bufputs(out, ": ");
		hdr_text(out, v ? v : "");
		bufputc(out, '\n');
	}
	free(all);
}

/*
 * plan9port ctime: "Thu Jul  2 08:48:02 EDT 2026\n".  acme Mail and
 * faces count six fields, so the zone is exactly three characters: the
 * local abbreviation cut to three, or GMT when it is shorter.
 */
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
