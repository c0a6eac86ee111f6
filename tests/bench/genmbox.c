/*
 * genmbox: write a deterministic synthetic mbox to stdout.
 *
 *	genmbox [-n N] [-s SEED] > out.mbox
 *
 * N messages (default 100000), about 10 KB each on average, so the
 * default run writes about 1 GB.  The same N and SEED always give the
 * same bytes.  Message kinds:
 *	plain text/plain: 7bit, 8bit (utf-8 or iso-8859-1),
 *	    quoted-printable (utf-8 or iso-8859-1), base64 (utf-8);
 *	multipart/alternative: text/plain + text/html;
 *	multipart/mixed: text (or a nested multipart/alternative) plus one
 *	    or two base64 attachments (application/octet-stream or
 *	    application/pdf), now and then a message/rfc822 one.
 * Subjects and From display names are sometimes RFC 2047 words
 * (=?UTF-8?B?...?= and =?ISO-8859-1?Q?...?=).
 *
 * About 1% of the messages carry the word "zanzibar" in their text;
 * no other text contains it, so grep -l has something to find.  The
 * word is never split by a soft line break and never base64-encoded
 * except in single-part messages, so it is visible both in every
 * decoded text body and in the raw body of every multipart message.
 *
 * Bodies never hold a line starting with "From ": plain text quotes
 * it as ">From ", quoted-printable writes it as "=46rom ".
 *
 * A summary goes to stderr: messages, bytes, messages with the marker.
 * Only libc is used.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	OBUFSZ = 4 << 20,
	QPMAX = 76,	/* longest quoted-printable line, soft break included */
	B64LINE = 57,	/* input bytes per 76-character base64 line */
};

typedef struct Buf Buf;
struct Buf {
	char *p;
	size_t n;
	size_t cap;
};

static const char *marker = "zanzibar";

/* No word may be "from"/"From" (a wrapped line could start "From ")
 * and none may contain the marker. */
static const char *words[] = {
	"the", "of", "and", "to", "in", "is", "you", "that", "it", "he",
	"was", "for", "on", "are", "as", "with", "his", "they", "at", "be",
	"this", "have", "or", "one", "had", "by", "word", "but", "not",
	"what", "all", "were", "we", "when", "your", "can", "said", "there",
	"use", "an", "each", "which", "she", "do", "how", "their", "if",
	"will", "up", "other", "about", "out", "many", "then", "them",
	"these", "so", "some", "her", "would", "make", "like", "him", "into",
	"time", "has", "look", "two", "more", "write", "go", "see", "number",
	"no", "way", "could", "people", "my", "than", "first", "water",
	"been", "call", "who", "oil", "its", "now", "find", "long", "down",
	"day", "did", "get", "come", "made", "may", "part", "over", "new",
	"sound", "take", "only", "little", "work", "know", "place", "year",
	"live", "me", "back", "give", "most", "very", "after", "thing", "our",
	"just", "name", "good", "sentence", "man", "think", "say", "great",
	"where", "help", "through", "much", "before", "line", "right", "too",
	"mean", "old", "any", "same", "tell", "boy", "follow", "came", "want",
	"show", "also", "around", "form", "three", "small", "set", "put",
	"end", "does", "another", "well", "large", "must", "big", "even",
	"such", "because", "turn", "here", "why", "ask", "went", "men",
	"read", "need", "land", "different", "home", "us", "move", "try",
	"kind", "hand", "picture", "again", "change", "off", "play", "spell",
	"air", "away", "animal", "house", "point", "page", "letter", "mother",
	"answer", "found", "study", "still", "learn", "should", "america",
	"world", "mailbox", "server", "message", "header", "kernel", "budget",
	"meeting", "schedule", "release", "patch", "review", "invoice",
	"quarter", "deadline", "network", "archive", "backup", "printer",
	"project", "report", "draft", "version", "build", "commit", "branch",
	"ticket", "customer", "contract", "office", "coffee", "lunch",
	"weekend", "holiday", "travel", "airport", "hotel", "conference",
	"slides", "agenda", "minutes", "question", "proposal", "estimate",
};
enum { NWORDS = sizeof words / sizeof words[0] };

/* UTF-8; every character is in Latin-1 so iso-8859-1 can carry it. */
static const char *accwords[] = {
	"café", "naïve", "über", "façade", "résumé", "déjà", "voilà",
	"señor", "jalapeño", "crème", "brûlée", "fiancée", "smörgåsbord",
	"Ångström", "garçon", "piñata", "rôle", "coöperate", "Zürich",
	"Málaga", "København", "Ærø", "£100", "°C", "½", "déjà vu",
};
enum { NACC = sizeof accwords / sizeof accwords[0] };

static const char *firsts[] = {
	"Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi",
	"Ivan", "Judy", "Mallory", "Niaj", "Olivia", "Peggy", "Rupert",
	"Sybil", "Trent", "Victor", "Walter", "Wendy",
};
static const char *accfirsts[] = {
	"René", "Zoë", "José", "François", "Jürgen", "Søren", "Åsa",
	"Björn", "Inés", "Chloé", "Raúl", "Mónica",
};
static const char *lasts[] = {
	"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
	"Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White",
	"Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke",
};
static const char *acclasts[] = {
	"Müller", "Gonçalves", "Sørensen", "Dupré", "Núñez", "Öberg",
	"Hernández", "Léger", "Åkesson", "Ferrão",
};
static const char *domains[] = {
	"example.org", "example.com", "example.net", "mail.example.edu",
	"lists.example.org",
};
static const char *subjwords[] = {
	"status", "update", "meeting", "notes", "question", "invoice",
	"release", "plan", "draft", "review", "report", "schedule", "budget",
	"lunch", "patch", "build", "broken", "fixed", "urgent", "weekly",
};
static const char *accsubj[] = {
	"réunion", "café", "déjà", "über", "Zürich", "résumé", "naïve",
	"señor", "crème brûlée", "København",
};
static const char *zones[] = {
	"+0000", "+0100", "+0200", "-0500", "-0700", "+0530", "+0900",
};
static const char *dayname[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *monname[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};
static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char hexchars[] = "0123456789ABCDEF";

#define nelem(a) (sizeof(a) / sizeof((a)[0]))

static unsigned char wordlen[NWORDS], acclen[NACC];
static char *obuf;
static size_t on;
static uint64_t rstate;
static unsigned long long total;
static Buf text, tmp, html;

static void
fatal(const char *msg)
{
	fprintf(stderr, "genmbox: %s\n", msg);
	exit(1);
}

static void
oflush(void)
{
	if (on > 0 && fwrite(obuf, 1, on, stdout) != on)
		fatal("write error");
	total += on;
	on = 0;
}

static void
oput(const char *s, size_t n)
{
	if (on + n > OBUFSZ) {
		oflush();
		if (n > OBUFSZ) {
			if (fwrite(s, 1, n, stdout) != n)
				fatal("write error");
			total += n;
			return;
		}
	}
	memcpy(obuf + on, s, n);
	on += n;
}

static void
ostr(const char *s)
{
	oput(s, strlen(s));
}

static void
oprint(const char *fmt, ...)
{
	char b[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b)
		fatal("oprint overflow");
	oput(b, n);
}

/* splitmix64 */
static uint64_t
rnd(void)
{
	uint64_t z;

	z = (rstate += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in [0, n) */
static uint32_t
rn(uint32_t n)
{
	return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

static void
bgrowslow(Buf *b, size_t need)
{
	size_t cap;

	cap = b->cap ? b->cap : 65536;
	while (cap < b->n + need)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (b->p == NULL)
		fatal("out of memory");
	b->cap = cap;
}

/* make room for need more bytes */
static inline void
bgrow(Buf *b, size_t need)
{
	if (b->n + need > b->cap)
		bgrowslow(b, need);
}

static void
bput(Buf *b, const char *s, size_t n)
{
	bgrow(b, n);
	memcpy(b->p + b->n, s, n);
	b->n += n;
}

static void
bstr(Buf *b, const char *s)
{
	bput(b, s, strlen(s));
}

static void
bchar(Buf *b, char c)
{
	bgrow(b, 1);
	b->p[b->n++] = c;
}

/* days since 1970-01-01 to civil date (Howard Hinnant's algorithm) */
static void
civil(long long z, int *y, int *m, int *d)
{
	long long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

typedef struct Tm Tm;
struct Tm {
	int year, mon, day, wday, hour, min, sec;
};

static void
breaktime(long long t, Tm *tm)
{
	long long days, s;

	days = t / 86400;
	s = t % 86400;
	civil(days, &tm->year, &tm->mon, &tm->day);
	tm->wday = (int)((days + 4) % 7);
	tm->hour = (int)(s / 3600);
	tm->min = (int)(s / 60 % 60);
	tm->sec = (int)(s % 60);
}

/* UTF-8 (Latin-1 range only) to Latin-1, in place */
static void
tolatin1(Buf *b)
{
	size_t i, j;
	unsigned char c;

	for (i = j = 0; i < b->n; i++) {
		c = (unsigned char)b->p[i];
		if ((c == 0xC2 || c == 0xC3) && i + 1 < b->n) {
			b->p[j++] = (char)(((c & 0x03) << 6) | ((unsigned char)b->p[i + 1] & 0x3F));
			i++;
		} else
			b->p[j++] = (char)c;
	}
	b->n = j;
}

/*
 * Fill b with about target bytes of text.  Lines are wrapped at wrap
 * columns (use a large wrap for one line per paragraph).  accents adds
 * non-ASCII words; mark puts the marker word somewhere inside.  Some
 * paragraphs start with an unquoted "From " line and some are quoted
 * replies: the writers must make them mbox-safe.
 */
static void
gentext(Buf *b, size_t target, int accents, int mark, size_t wrap)
{
	size_t col, markat, len;
	int nsent, nw, s, w, quoted, start;
	const char *wd;
	char *o;
	uint64_t r;
	unsigned p;

	b->n = 0;
	markat = mark ? rn((uint32_t)target) : (size_t)-1;
	while (b->n < target) {
		col = 0;
		quoted = rn(12) == 0;
		if (rn(25) == 0) {
			bstr(b, "From the desk of ");
			bstr(b, firsts[rn(nelem(firsts))]);
			bstr(b, ":\n");
		}
		nsent = 2 + (int)rn(6);
		for (s = 0; s < nsent; s++) {
			nw = 4 + (int)rn(14);
			for (w = 0; w < nw; w++) {
				/* one random draw per word: bits 0-31 word,
				 * 32-36 accent?, 37-52 accented word, 53-56
				 * comma?, 57-60 punctuation */
				r = rnd();
				start = w == 0;
				if (b->n >= markat) {
					wd = marker;
					len = 8;
					markat = (size_t)-1;
					start = 0;
				} else if (accents && ((r >> 32) & 31) == 0) {
					p = (unsigned)((((r >> 37) & 0xFFFF) * NACC) >> 16);
					wd = accwords[p];
					len = acclen[p];
				} else {
					p = (unsigned)(((r & 0xFFFFFFFF) * NWORDS) >> 32);
					wd = words[p];
					len = wordlen[p];
				}
				bgrow(b, len + 8);
				o = b->p + b->n;
				if (col > 0 && col + 1 + len + 1 > wrap) {
					*o++ = '\n';
					col = 0;
				}
				if (col == 0 && quoted) {
					*o++ = '>';
					*o++ = ' ';
					col = 2;
				} else if (col > 0) {
					*o++ = ' ';
					col++;
				}
				memcpy(o, wd, len);
				if (start && wd[0] >= 'a' && wd[0] <= 'z')
					o[0] = (char)(wd[0] - 'a' + 'A');
				o += len;
				col += len;
				if (w == nw - 1) {
					p = (unsigned)((r >> 57) & 15);
					*o++ = p < 11 ? '.' : p < 13 ? '?' : p < 14 ? '!' : ';';
					col++;
				} else if (((r >> 53) & 15) == 0) {
					*o++ = ',';
					col++;
				}
				b->n = (size_t)(o - b->p);
			}
		}
		bstr(b, "\n\n");
	}
	if (markat != (size_t)-1) {	/* target was tiny */
		bstr(b, marker);
		bstr(b, ".\n");
	}
}

/* copy text to the output, quoting lines that start with "From " */
static void
putplain(const char *p, size_t n)
{
	const char *e, *nl;

	e = p + n;
	while (p < e) {
		nl = memchr(p, '\n', (size_t)(e - p));
		nl = nl ? nl + 1 : e;
		if (nl - p >= 5 && memcmp(p, "From ", 5) == 0)
			oput(">", 1);
		oput(p, (size_t)(nl - p));
		p = nl;
	}
	if (n > 0 && e[-1] != '\n')
		oput("\n", 1);
}

/*
 * Quoted-printable.  Soft breaks go after the last space when there is
 * one in the second half of the line, so words stay whole.  qpclass:
 * 0 literal, 1 always encoded, 2 needs a closer look.
 */
static unsigned char qpclass[256];

static void
putqp(const char *p, size_t n)
{
	char line[QPMAX + 8], enc[3];
	size_t i, ll, el, k;
	long sp;
	unsigned char c;

	ll = 0;
	sp = -1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (ll < QPMAX - 1) {
			if (qpclass[c] == 0) {
				line[ll++] = (char)c;
				continue;
			}
			if (c == ' ' && i + 1 < n && p[i + 1] != '\n') {
				sp = (long)ll;
				line[ll++] = ' ';
				continue;
			}
		}
		if (c == '\n') {
			line[ll++] = '\n';
			oput(line, ll);
			ll = 0;
			sp = -1;
			continue;
		}
		if (qpclass[c] == 1
		    || ((c == ' ' || c == '\t') && (i + 1 == n || p[i + 1] == '\n'))
		    || (ll == 0 && c == 'F' && n - i >= 5 && memcmp(p + i, "From ", 5) == 0)) {
			enc[0] = '=';
			enc[1] = hexchars[c >> 4];
			enc[2] = hexchars[c & 15];
			el = 3;
		} else {
			enc[0] = (char)c;
			el = 1;
		}
		if (ll + el > QPMAX - 1) {
			if (sp > QPMAX / 2) {
				oput(line, (size_t)sp + 1);
				oput("=\n", 2);
				k = ll - ((size_t)sp + 1);
				memmove(line, line + sp + 1, k);
				ll = k;
			} else {
				oput(line, ll);
				oput("=\n", 2);
				ll = 0;
			}
			sp = -1;
			if (ll >= 5 && memcmp(line, "From ", 5) == 0) {
				memmove(line + 3, line + 1, ll - 1);
				memcpy(line, "=46", 3);
				ll += 2;
			}
		}
		memcpy(line + ll, enc, el);
		ll += el;
		if (el == 1 && c == ' ')
			sp = (long)ll - 1;
	}
	if (ll > 0) {
		oput(line, ll);
		oput("=\n", 2);	/* text ended without a newline */
	}
}

static void
qpinit(void)
{
	int c;

	for (c = 0; c < 256; c++)
		qpclass[c] = c == '=' || (c < 32 && c != '\t' && c != '\n') || c > 126;
	qpclass[' '] = qpclass['\t'] = qpclass['\n'] = qpclass['F'] = 2;
}

static void
b64line(const unsigned char *in, size_t n, char *out, size_t *outn)
{
	size_t i, o;
	uint32_t v;

	o = 0;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = b64chars[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64chars[v >> 18];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = b64chars[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o++] = '\n';
	*outn = o;
}

static void
putb64(const unsigned char *p, size_t n)
{
	char out[128];
	size_t i, k, on1;

	for (i = 0; i < n; i += k) {
		k = n - i < B64LINE ? n - i : B64LINE;
		b64line(p + i, k, out, &on1);
		oput(out, on1);
	}
}

/* n random bytes, base64, shaped like the named kind of file */
static void
putattach(size_t n, int pdf)
{
	uint64_t v;
	size_t i;
	int k;

	tmp.n = 0;
	bgrow(&tmp, n + 64);
	if (pdf)
		bstr(&tmp, "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
	for (i = tmp.n; i < n; i += 8) {
		v = rnd();
		for (k = 0; k < 8; k++)
			tmp.p[i + k] = (char)(v >> (8 * k));
	}
	tmp.n = n > tmp.n ? n : tmp.n;
	if (pdf)
		bstr(&tmp, "\n%%EOF\n");
	putb64((unsigned char *)tmp.p, tmp.n);
}

/* RFC 2047 words for UTF-8 s, split into chunks that keep lines short */
static void
encword(Buf *b, const char *s, int latin1)
{
	size_t n, i, k, cut;
	char out[128], tb[256];
	unsigned char c;

	n = strlen(s);
	if (!latin1) {
		for (i = 0; i < n; i += cut) {
			cut = n - i < 39 ? n - i : 39;
			while (i + cut < n && ((unsigned char)s[i + cut] & 0xC0) == 0x80)
				cut--;	/* don't split a UTF-8 sequence */
			if (i > 0)
				bstr(b, "\n ");
			bstr(b, "=?UTF-8?B?");
			b64line((const unsigned char *)s + i, cut, out, &k);
			bput(b, out, k - 1);
			bstr(b, "?=");
		}
		return;
	}
	memcpy(tb, s, n < sizeof tb - 1 ? n : sizeof tb - 1);
	{
		Buf t = { tb, n < sizeof tb - 1 ? n : sizeof tb - 1, sizeof tb };
		tolatin1(&t);
		n = t.n;
	}
	k = 0;
	for (i = 0; i < n; i++) {
		if (k == 0) {
			if (i > 0)
				bstr(b, "\n ");
			bstr(b, "=?ISO-8859-1?Q?");
		}
		c = (unsigned char)tb[i];
		if (c == ' ') {
			bchar(b, '_');
			k++;
		} else if (c > 126 || c < 33 || c == '=' || c == '?' || c == '_'
		    || c == '"' || c == '(' || c == ')' || c == ',') {
			bchar(b, '=');
			bchar(b, hexchars[c >> 4]);
			bchar(b, hexchars[c & 15]);
			k += 3;
		} else {
			bchar(b, (char)c);
			k++;
		}
		if (k > 40 || i + 1 == n) {
			bstr(b, "?=");
			k = 0;
		}
	}
}

static void
lower(char *dst, const char *src, size_t max)
{
	size_t i;
	unsigned char c;

	for (i = 0; src[i] && i + 1 < max; i++) {
		c = (unsigned char)src[i];
		dst[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	dst[i] = 0;
}

/*
 * A person: address in addr, header form (display name, maybe
 * RFC 2047) appended to b.
 */
static void
person(Buf *b, char *addr, size_t addrsz)
{
	const char *f, *l;
	char fl[32], ll[32], name[96];
	int acc, style;

	acc = rn(4) == 0;
	f = acc && rn(2) ? accfirsts[rn(nelem(accfirsts))] : firsts[rn(nelem(firsts))];
	l = acc && rn(2) ? acclasts[rn(nelem(acclasts))] : lasts[rn(nelem(lasts))];
	if (acc) {
		/* addresses stay ASCII */
		snprintf(fl, sizeof fl, "user%u", rn(1000));
		lower(ll, lasts[rn(nelem(lasts))], sizeof ll);
	} else {
		lower(fl, f, sizeof fl);
		lower(ll, l, sizeof ll);
	}
	snprintf(addr, addrsz, "%s.%s@%s", fl, ll, domains[rn(nelem(domains))]);
	snprintf(name, sizeof name, "%s %s", f, l);
	style = (int)rn(10);
	if (acc && style < 5)
		encword(b, name, 0);
	else if (acc)
		encword(b, name, 1);
	else if (style == 0) {
		bstr(b, addr);
		return;
	} else if (style == 1) {
		bchar(b, '"');
		bstr(b, l);
		bstr(b, ", ");
		bstr(b, f);
		bchar(b, '"');
	} else
		bstr(b, name);
	bstr(b, " <");
	bstr(b, addr);
	bchar(b, '>');
}

static void
subject(Buf *b)
{
	char s[200];
	size_t n;
	int i, nw, kind;

	kind = (int)rn(10);
	n = 0;
	s[0] = 0;
	nw = 2 + (int)rn(6);
	for (i = 0; i < nw; i++) {
		const char *w;

		w = kind < 3 && rn(3) == 0 ? accsubj[rn(nelem(accsubj))] : subjwords[rn(nelem(subjwords))];
		n += (size_t)snprintf(s + n, sizeof s - n, "%s%s", i ? " " : "", w);
	}
	if (kind < 2)
		encword(b, s, 0);
	else if (kind < 3)
		encword(b, s, 1);
	else
		bstr(b, s);
}

static void
msgid(char *buf, size_t sz, unsigned long n, unsigned long long seed)
{
	snprintf(buf, sz, "<%lu.%llx.%08x@mailfs.example.org>", n, seed,
	    (unsigned)((n * 2654435761u) ^ (unsigned)seed));
}

static void
putheaders(unsigned long n, unsigned long long seed, long long t, int *reply)
{
	Buf *h;
	char from[96], addr[96], id[96];
	Tm tm, lt;
	int zi, off, i, nto;
	unsigned mx, ip, qid;

	h = &tmp;
	h->n = 0;
	breaktime(t, &tm);
	bstr(h, "From: ");
	person(h, from, sizeof from);
	bstr(h, "\nTo: ");
	nto = 1 + (int)rn(3);
	for (i = 0; i < nto; i++) {
		if (i)
			bstr(h, ",\n\t");
		person(h, addr, sizeof addr);
	}
	if (rn(10) < 4) {
		bstr(h, "\nCc: ");
		nto = 1 + (int)rn(2);
		for (i = 0; i < nto; i++) {
			if (i)
				bstr(h, ",\n\t");
			person(h, addr, sizeof addr);
		}
	}
	bstr(h, "\nSubject: ");
	*reply = n > 1 && rn(3) == 0;
	if (*reply)
		bstr(h, "Re: ");
	subject(h);
	bchar(h, '\n');

	oprint("From %s %s %s %2d %02d:%02d:%02d %d\n", from, dayname[tm.wday],
	    monname[tm.mon - 1], tm.day, tm.hour, tm.min, tm.sec, tm.year);
	/* one rn() per statement: argument order is unspecified */
	mx = rn(9);
	ip = 1 + rn(250);
	qid = (unsigned)rnd();
	oprint("Received: from mx%u.example.net (mx%u.example.net [192.0.2.%u])\n"
	    "\tby mail.example.org with ESMTPS id %08x\n"
	    "\tfor <inbox@example.org>; %s, %d %s %d %02d:%02d:%02d +0000\n",
	    mx, mx, ip, qid, dayname[tm.wday], tm.day,
	    monname[tm.mon - 1], tm.year, tm.hour, tm.min, tm.sec);
	oput(h->p, h->n);
	zi = (int)rn(nelem(zones));
	off = atoi(zones[zi]);
	off = (off < 0 ? -1 : 1) * ((abs(off) / 100) * 3600 + (abs(off) % 100) * 60);
	breaktime(t - 30 - rn(600) + off, &lt);
	oprint("Date: %s, %d %s %d %02d:%02d:%02d %s\n", dayname[lt.wday], lt.day,
	    monname[lt.mon - 1], lt.year, lt.hour, lt.min, lt.sec, zones[zi]);
	msgid(id, sizeof id, n, seed);
	oprint("Message-ID: %s\n", id);
	if (*reply) {
		msgid(id, sizeof id, 1 + rn((uint32_t)(n - 1)), seed);
		oprint("In-Reply-To: %s\n", id);
	}
	if (rn(3) == 0) {
		mx = rn(5);
		oprint("X-Mailer: genmbox %u.%u\n", mx, mx + 1);
	}
	ostr("MIME-Version: 1.0\n");
}

/* size of one message's content, bytes: mean about 10 KB */
static size_t
msgsize(void)
{
	uint32_t r;

	r = rn(100);
	if (r < 50)
		return 300 + rn(3200);
	if (r < 85)
		return 3500 + rn(10000);
	if (r < 97)
		return 13500 + rn(20000);
	return 33500 + rn(90000);
}

/* one text/plain leaf: headers then body; kind picks charset and CTE */
enum { T7BIT, T8UTF, T8LAT, TQPUTF, TQPLAT, TB64UTF };

static void
puttextpart(int kind, size_t size, int mark, int single)
{
	const char *cs, *cte;

	gentext(&text, size, kind != T7BIT, mark,
	    kind == TQPUTF || kind == TQPLAT ? 100000 : 72);
	cs = kind == T7BIT ? "us-ascii" : kind == T8LAT || kind == TQPLAT ? "iso-8859-1" : "utf-8";
	cte = kind == T7BIT ? "7bit" : kind == T8UTF || kind == T8LAT ? "8bit"
	    : kind == TB64UTF ? "base64" : "quoted-printable";
	if (kind == T8LAT || kind == TQPLAT)
		tolatin1(&text);
	if (rn(2) || !single)
		oprint("Content-Type: text/plain; charset=%s\n", cs);
	else
		oprint("Content-Type: text/plain; charset=\"%s\"; format=flowed\n", cs);
	oprint("Content-Transfer-Encoding: %s\n\n", cte);
	if (kind == TQPUTF || kind == TQPLAT)
		putqp(text.p, text.n);
	else if (kind == TB64UTF)
		putb64((unsigned char *)text.p, text.n);
	else
		putplain(text.p, text.n);
}

/* text/html made from the text/plain already in text */
static unsigned char htmlspecial[256];

static void
puthtmlpart(int longlines)
{
	size_t i, j;
	char c;
	int qp;

	html.n = 0;
	bstr(&html, "<html>\n<head><meta http-equiv=\"Content-Type\" "
	    "content=\"text/html; charset=utf-8\"></head>\n<body>\n<p>");
	for (i = 0; i < text.n; i++) {
		for (j = i; j < text.n && !htmlspecial[(unsigned char)text.p[j]]; j++)
			;
		if (j > i) {
			bput(&html, text.p + i, j - i);
			i = j;
			if (i == text.n)
				break;
		}
		c = text.p[i];
		if (c == '\n' && i + 1 < text.n && text.p[i + 1] == '\n') {
			bstr(&html, "</p>\n<p>");
			i++;
		} else if (c == '>')
			bstr(&html, "&gt;");
		else if (c == '<')
			bstr(&html, "&lt;");
		else if (c == '&')
			bstr(&html, "&amp;");
		else
			bchar(&html, c);
	}
	bstr(&html, "</p>\n</body>\n</html>\n");
	qp = longlines || rn(2);
	oprint("Content-Type: text/html; charset=utf-8\n"
	    "Content-Transfer-Encoding: %s\n\n", qp ? "quoted-printable" : "8bit");
	if (qp)
		putqp(html.p, html.n);
	else
		putplain(html.p, html.n);
}

static void
putalternative(unsigned long n, int depth, size_t size, int mark)
{
	char bd[64];
	int kind;

	snprintf(bd, sizeof bd, "=_alt_%lu_%d_%08x", n, depth, (unsigned)rnd());
	oprint("Content-Type: multipart/alternative;\n\tboundary=\"%s\"\n\n", bd);
	if (depth == 0)
		ostr("This is a multi-part message in MIME format.\n\n");
	oprint("--%s\n", bd);
	kind = rn(2) ? TQPUTF : T8UTF;
	puttextpart(kind, size, mark, 0);
	oprint("\n--%s\n", bd);
	puthtmlpart(kind == TQPUTF);
	oprint("\n--%s--\n", bd);
}

static void
putrfc822(unsigned long n, unsigned long long seed, long long t)
{
	int reply;

	ostr("Content-Type: message/rfc822\n"
	    "Content-Disposition: inline\n\n");
	/* the inner message has no From_ line; drop the one putheaders writes */
	oflush();
	putheaders(n, seed ^ 0xf00d, t - 86400 * (1 + rn(30)), &reply);
	{
		/* remove the inner "From " envelope line */
		char *nl = memchr(obuf, '\n', on);
		size_t k = (size_t)(nl - obuf) + 1;
		memmove(obuf, obuf + k, on - k);
		on -= k;
	}
	puttextpart(T8UTF, 300 + rn(2000), 0, 1);
}

static void
putmixed(unsigned long n, unsigned long long seed, long long t, size_t size, int mark)
{
	char bd[64];
	size_t tsize, asize;
	int na, i, pdf;
	uint32_t r;

	snprintf(bd, sizeof bd, "=_mix_%lu_%08x", n, (unsigned)rnd());
	oprint("Content-Type: multipart/mixed;\n\tboundary=\"%s\"\n\n", bd);
	ostr("This is a multi-part message in MIME format.\n\n");
	tsize = 200 + rn(2800);
	asize = size > tsize + 1000 ? (size - tsize) * 3 / 4 : 800 + rn(2000);
	oprint("--%s\n", bd);
	if (rn(10) < 3)
		putalternative(n, 1, tsize, mark);
	else
		puttextpart(rn(2) ? T8UTF : TQPLAT, tsize, mark, 0);
	na = rn(5) == 0 ? 2 : 1;
	for (i = 0; i < na; i++) {
		oprint("\n--%s\n", bd);
		r = rn(20);
		if (r == 0) {
			putrfc822(n, seed, t);
			continue;
		}
		pdf = r < 10;
		if (pdf)
			oprint("Content-Type: application/pdf; name=\"report-%lu-%d.pdf\"\n"
			    "Content-Disposition: attachment; filename=\"report-%lu-%d.pdf\"\n",
			    n, i + 1, n, i + 1);
		else
			oprint("Content-Type: application/octet-stream; name=\"data-%lu-%d.bin\"\n"
			    "Content-Disposition: attachment; filename=\"data-%lu-%d.bin\"\n",
			    n, i + 1, n, i + 1);
		ostr("Content-Transfer-Encoding: base64\n\n");
		putattach(na == 2 ? asize / 2 : asize, pdf);
	}
	oprint("\n--%s--\n", bd);
}

static void
usage(void)
{
	fprintf(stderr, "usage: genmbox [-n N] [-s SEED] > out.mbox\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	unsigned long n, nmsg, nmark;
	unsigned long long seed;
	long long t;
	size_t size;
	int i, mark, reply;
	uint32_t r;

	nmsg = 100000;
	seed = 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			nmsg = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 10);
		else
			usage();
	}
	for (i = 0; i < NWORDS; i++)
		wordlen[i] = (unsigned char)strlen(words[i]);
	for (i = 0; i < NACC; i++)
		acclen[i] = (unsigned char)strlen(accwords[i]);
	htmlspecial['\n'] = htmlspecial['<'] = htmlspecial['>'] = htmlspecial['&'] = 1;
	qpinit();
	obuf = malloc(OBUFSZ);
	if (obuf == NULL)
		fatal("out of memory");
	rstate = seed * 0x2545F4914F6CDD1DULL + 12345;
	t = 1704067200;	/* 2024-01-01 00:00:00 UTC */
	nmark = 0;
	for (n = 1; n <= nmsg; n++) {
		t += 1 + rn(1800);
		mark = rn(100) == 0;
		nmark += mark;
		putheaders(n, seed, t, &reply);
		size = msgsize();
		r = rn(100);
		if (r < 30) {
			uint32_t k = rn(20);
			puttextpart(k < 12 ? T8UTF : k < 17 ? T7BIT : T8LAT, size, mark, 1);
		} else if (r < 45)
			puttextpart(rn(2) ? TQPUTF : TQPLAT, size, mark, 1);
		else if (r < 50)
			puttextpart(TB64UTF, size, mark, 1);
		else if (r < 75)
			putalternative(n, 0, size / 2, mark);
		else
			putmixed(n, seed, t, size, mark);
		ostr("\n");	/* blank line before the next From_ line */
	}
	oflush();
	if (fflush(stdout) != 0 || ferror(stdout))
		fatal("write error");
	fprintf(stderr, "genmbox: %lu messages, %llu bytes, %lu with marker \"%s\"\n",
	    nmsg, total, nmark, marker);
	return 0;
}
