/*
 * IMAP login with an OAuth2 bearer token: SASL OAUTHBEARER (RFC 7628),
 * else XOAUTH2, whichever the server offers, one AUTHENTICATE spoken
 * on the connection's stream (libetpan has XOAUTH2 alone, and no way
 * to answer the error challenge OAUTHBEARER sends).  The token goes out
 * with the stream's privacy on, so no libetpan logger sees it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libetpan/libetpan.h>
#include "box/box.h"
#include "box_imap.h"

static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void
base64(Buf *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		bufputc(out, tab[v >> 18 & 63]);
		bufputc(out, tab[v >> 12 & 63]);
		bufputc(out, i + 1 < n ? tab[v >> 6 & 63] : '=');
		bufputc(out, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* the server's challenge, its JSON error as text (anything unprintable '?') */
static void
unbase64(Buf *out, const char *s)
{
	unsigned v = 0, bits = 0;

	for (const char *c; *s && (c = strchr(tab, *s)) != NULL; s++) {
		v = v << 6 | (unsigned)(c - tab);
		if ((bits += 6) >= 8) {
			bits -= 8;
			int ch = v >> bits & 0xff;
			bufputc(out, ch >= ' ' && ch < 0x7f ? ch : '?');
		}
	}
}

/* RFC 5801's saslname: ',' and '=' escaped */
static void
saslname(Buf *out, const char *s)
{
	for (; *s; s++)
		if (*s == ',')
			bufputs(out, "=2C");
		else if (*s == '=')
			bufputs(out, "=3D");
		else
			bufputc(out, *s);
}

/* the client's first (and only) message, base64 */
static void
response(Buf *out, const char *mech, const Imapurl *u, const char *token)
{
	Buf m = { 0 };

	if (strcmp(mech, "OAUTHBEARER") == 0) {
		bufputs(&m, "n,a=");
		saslname(&m, u->user);
		bufprint(&m, ",\001host=%s\001port=%u\001auth=Bearer %s\001\001", u->host, (unsigned)u->port, token);
	} else
		bufprint(&m, "user=%s\001auth=Bearer %s\001\001", u->user, token);
	base64(out, (const unsigned char *)m.p, m.n);
	memset(m.p, 0, m.n);
	buffree(&m);
}

static int
put(mailstream *st, const char *s, size_t n)
{
	return mailstream_write(st, s, n) == (ssize_t)n ? 0 : -1;
}

/*
 * AUTHENTICATE mech with the token: 0 logged in, 1 refused (the
 * server's words in why), -1 the connection failed.
 */
static int
authenticate(mailimap *s, const char *mech, const Imapurl *u, const char *token, Buf *why)
{
	mailstream *st = s->imap_stream;
	Buf cmd = { 0 }, ir = { 0 };
	char tag[32];
	int r = -1, sent = 0, ir_ok = mailimap_has_extension(s, "SASL-IR");

	snprintf(tag, sizeof tag, "%d", ++s->imap_tag);
	response(&ir, mech, u, token);
	bufprint(&cmd, "%s AUTHENTICATE %s", tag, mech);
	mailstream_set_privacy(st, 0);
	if (ir_ok) {
		bufprint(&cmd, " %s", ir.p);
		sent = 1;
	}
	bufputs(&cmd, "\r\n");
	MMAPString *line = mmap_string_new("");
	if (put(st, cmd.p, cmd.n) < 0 || mailstream_flush(st) < 0)
		goto out;
	for (;;) {
		char *l = mailstream_read_line_remove_eol(st, line);
		if (l == NULL)
			goto out;
		if (l[0] == '+') {	/* the server's challenge: the message, or after it an error */
			const char *reply = !sent ? ir.p : strcmp(mech, "OAUTHBEARER") == 0 ? "AQ==" : "";
			if (sent && l[1] == ' ') {
				unbase64(why, l + 2);
				bufputs(why, " ");
			}
			sent = 1;
			if (put(st, reply, strlen(reply)) < 0 || put(st, "\r\n", 2) < 0 || mailstream_flush(st) < 0)
				goto out;
			continue;
		}
		size_t tl = strlen(tag);
		if (strncmp(l, tag, tl) != 0 || l[tl] != ' ')
			continue;	/* untagged: CAPABILITY and the like */
		r = strncasecmp(l + tl + 1, "OK", 2) == 0 ? 0 : 1;
		if (r)
			bufputs(why, l + tl + 1);
		break;
	}
out:
	mailstream_set_privacy(st, 1);
	mmap_string_free(line);
	memset(cmd.p, 0, cmd.n);
	memset(ir.p, 0, ir.n);
	buffree(&cmd);
	buffree(&ir);
	return r;
}

/*
 * Log in with a token from c; refused, once more with a fresh one from
 * the key's command.  0, or -1 with the error set.
 */
int
imap_tokenlogin(mailimap *s, const Imapurl *u, Cred *c)
{
	struct mailimap_capability_data *cap = NULL;

	if ((s->imap_connection_info == NULL || s->imap_connection_info->imap_capability == NULL) &&
	    mailimap_capability(s, &cap) == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(cap);	/* a copy: the session keeps its own */
	const char *mech = mailimap_has_authentication(s, "OAUTHBEARER") ? "OAUTHBEARER" :
		mailimap_has_authentication(s, "XOAUTH2") ? "XOAUTH2" : NULL;

	if (mech == NULL)
		return seterr(EPROTO, "%s: the key gives an OAuth2 token, but the server offers neither "
			"AUTH=OAUTHBEARER nor AUTH=XOAUTH2", u->text);
	for (int fresh = 0; fresh < 2; fresh++) {
		if (fresh && box_credential(u->tls ? "imaps" : "imap", u->host, u->user, 1, c) < 0)
			return -1;
		Buf why = { 0 };
		int r = authenticate(s, mech, u, c->secret.p, &why);
		if (r == 0) {
			buffree(&why);
			s->imap_state = MAILIMAP_STATE_AUTHENTICATED;
			/* what was offered before the login: asked again after it */
			if (s->imap_connection_info && s->imap_connection_info->imap_capability) {
				mailimap_capability_data_free(s->imap_connection_info->imap_capability);
				s->imap_connection_info->imap_capability = NULL;
			}
			return 0;
		}
		if (r < 0) {
			buffree(&why);
			return seterr(EIO, "%s: %s login: connection lost", u->text, mech);
		}
		if (fresh)
			seterr(EACCES, "%s: OAuth2 token refused (%s), also a fresh one: %s", u->text, mech, why.p);
		buffree(&why);
	}
	return -1;
}
