/*
 * Message flags: the 9front letters aDdfrsS, and the Status and X-Status
 * header fields mutt and other Unix readers keep them in within an mbox.
 * A message neither read (R) nor seen before (O) is recent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "box/box.h"

static const char letters[] = "aDdfrsS";	/* bit i is letters[i] */

static const struct {
	const char	*word;
	uint16_t	flag;
} words[] = {	/* plan9port's flag words */
	{ "seen", Fseen }, { "replied", Fanswered }, { "flagged", Fflagged },
	{ "draft", Fdraft }, { "deleted", Fdeleted }, { "junk", Fjunk }, { "notjunk", Fnotjunk },
};

uint16_t
flags_fromfields(const char *status, const char *xstatus)
{
	uint16_t f = 0;
	int seen = status && strchr(status, 'R'), old = status && strchr(status, 'O');

	if (xstatus && strchr(xstatus, 'A'))
		f |= Fanswered;
	if (xstatus && strchr(xstatus, 'D'))
		f |= Fdeleted;
	if (xstatus && strchr(xstatus, 'T'))
		f |= Fdraft;
	if (xstatus && strchr(xstatus, 'F'))
		f |= Fflagged;
	if (!seen && !old)
		f |= Frecent;
	if (seen)
		f |= Fseen;
	return f;
}

void
flags_string(Buf *out, uint16_t f)
{
	for (int i = 0; letters[i]; i++)
		bufputc(out, f & (1 << i) ? letters[i] : '-');
}

/* the header lines that keep f in an mbox, each with its newline */
void
flags_fields(Buf *out, uint16_t f)
{
	Buf x = { 0 };

	if (f & Fseen)
		bufputs(out, "Status: RO\n");
	else if (!(f & Frecent))
		bufputs(out, "Status: O\n");
	if (f & Fanswered)
		bufputc(&x, 'A');
	if (f & Fflagged)
		bufputc(&x, 'F');
	if (f & Fdraft)
		bufputc(&x, 'T');
	if (f & Fdeleted)
		bufputc(&x, 'D');
	if (x.n)
		bufprint(out, "X-Status: %s\n", x.p);
	buffree(&x);
}

/*
 * A change of flags: 9front's letters ("+s-r": a sign holds until the
 * next one, no sign sets), or plan9port's words ("+seen", "-junk", or
 * bare words, which set exactly those).  0, or -1 "bad flag".
 */
int
flags_parse(const char *s, uint16_t *set, uint16_t *clear)
{
	char copy[256], *save = NULL;
	int bare = 0;

	*set = *clear = 0;
	snprintf(copy, sizeof copy, "%s", s);
	for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		int sign = *w == '+' ? 1 : *w == '-' ? -1 : 0;
		const char *name = sign ? w + 1 : w;
		size_t i;
		for (i = 0; i < nelem(words); i++)
			if (strcasecmp(name, words[i].word) == 0)
				break;
		if (i < nelem(words)) {
			if (sign < 0)
				*clear |= words[i].flag;
			else
				*set |= words[i].flag;
			bare |= sign == 0;
			continue;
		}
		int clearing = 0;
		for (const char *c = w; *c; c++) {
			const char *l = strchr(letters, *c);
			if (*c == '+' || *c == '-')
				clearing = *c == '-';
			else if (l == NULL || *c == 0)
				return seterr(EINVAL, "bad flag");
			else if (clearing)
				*clear |= 1 << (l - letters);
			else
				*set |= 1 << (l - letters);
		}
	}
	if (*set == 0 && *clear == 0)
		return seterr(EINVAL, "bad flag");
	if (bare)	/* bare words name the whole set */
		*clear = (uint16_t)~*set & (Fseen | Fanswered | Fflagged | Fdraft | Fdeleted | Fjunk | Fnotjunk);
	return 0;
}
