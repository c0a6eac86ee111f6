/*
 * imap://[user@]host[:port][/folder] and imaps://..., RFC 5092 in the
 * small: user and folder may carry %XX escapes (a user "a@b" is
 * written a%40b); a folder's own '/' separators stay as they are.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "box/box.h"
#include "box_imap.h"

static char *
unescape(const char *s, size_t n)
{
	Buf b = { 0 };

	bufadd(&b, "", 0);
	for (size_t i = 0; i < n; i++)
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			bufputc(&b, (int)strtol(hex, NULL, 16));
			i += 2;
		} else
			bufputc(&b, s[i]);
	return b.p;
}

static char *
whoami(void)
{
	const char *u = getenv("USER");
	struct passwd *pw;

	if (u && *u)
		return xstrdup(u);
	pw = getpwuid(getuid());
	return xstrdup(pw ? pw->pw_name : "none");
}

int
imap_parseurl(const char *s, Imapurl *u)
{
	memset(u, 0, sizeof *u);
	u->text = xstrdup(s);
	const char *p = s;
	if (strncmp(p, "imaps://", 8) == 0)
		u->tls = 1, p += 8;
	else if (strncmp(p, "imap://", 7) == 0)
		p += 7;
	else
		goto bad;
	const char *slash = strchr(p, '/'), *end = slash ? slash : p + strlen(p);
	const char *at = memrchr(p, '@', end - p);
	u->user = at ? unescape(p, at - p) : whoami();
	const char *h = at ? at + 1 : p, *colon = memchr(h, ':', end - h);
	u->host = unescape(h, (colon ? colon : end) - h);
	u->port = u->tls ? 993 : 143;
	if (colon) {
		char *e;
		long port = strtol(colon + 1, &e, 10);
		if (e != end || port <= 0 || port > 65535)
			goto bad;
		u->port = port;
	}
	u->folder = slash && slash[1] ? unescape(slash + 1, strlen(slash + 1)) : xstrdup("INBOX");
	if (!*u->host || !*u->user)
		goto bad;
	return 0;
bad:
	seterr(EINVAL, "%s: not a mailbox URL: imap[s]://[user@]host[:port][/folder]", s);
	imap_freeurl(u);
	return -1;
}

void
imap_freeurl(Imapurl *u)
{
	free(u->text);
	free(u->user);
	free(u->host);
	free(u->folder);
	memset(u, 0, sizeof *u);
}
