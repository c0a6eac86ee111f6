/*
 * Passwords for the backends, never from the command line: first from
 * a key file only its owner can read, written as factotum keys
 *	key proto=pass service=imap server=mail.example.com user=alice !password=secret
 * so the same lines serve plan9port's factotum (and are split with the
 * same quoting, tokenize in util.c); then from factotum
 * itself, when one is posted in the namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tree/tree.h"
#include "p9.h"
#include "srv.h"

enum { Maxattrs = 32 };

static char *keyfile;

static const char *
attr(char **f, int n, const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < n; i++)
		if (strncmp(f[i], name, len) == 0 && f[i][len] == '=')
			return f[i] + len + 1;
	return NULL;
}

/* does the key in f fit, and what is its password? */
static const char *
fits(char **f, int n, const char *service, const char *server, const char *user)
{
	const char *proto = attr(f, n, "proto"), *srv = attr(f, n, "server"), *u = attr(f, n, "user");
	const char *svc = attr(f, n, "service");

	if (n < 1 || strcmp(f[0], "key") != 0 || proto == NULL || strcmp(proto, "pass") != 0)
		return NULL;
	if (srv == NULL || strcasecmp(srv, server) != 0 || (u && strcmp(u, user) != 0))
		return NULL;
	if (svc && strcmp(svc, service) != 0 && !(strncmp(svc, "imap", 4) == 0 && strncmp(service, "imap", 4) == 0))
		return NULL;
	return attr(f, n, "!password");
}

/* 1 found, 0 not there, -1 the file may not be used */
static int
fromfile(const char *service, const char *server, const char *user, Buf *pw)
{
	struct stat st;
	FILE *fp = fopen(keyfile, "re");

	if (fp == NULL)
		return 0;
	if (fstat(fileno(fp), &st) < 0 || (st.st_mode & 077) || st.st_uid != geteuid()) {
		fclose(fp);
		return seterr(EACCES, "key file %s: others may read it or it is not yours: chmod 600 %s",
			keyfile, keyfile);
	}
	char *line = NULL, *f[Maxattrs];
	size_t cap = 0;
	int found = 0;
	while (!found && getline(&line, &cap, fp) > 0) {
		const char *p = fits(f, tokenize(line, f, Maxattrs), service, server, user);
		if (p) {
			bufreset(pw);
			bufputs(pw, p);
			found = 1;
		}
	}
	if (line)
		memset(line, 0, cap);
	free(line);
	fclose(fp);
	return found;
}

/* factotum's rpc file: start the pass protocol, read "ok user password" */
static int
fromfactotum(const char *service, const char *server, const char *user, Buf *pw)
{
	static P9conn c;
	char buf[4096], *f[4];
	Buf req = { 0 };
	int r = 0;

	if (p9c_dial(&c, "factotum") < 0)
		return 0;
	bufprint(&req, "start proto=pass role=client service=%s server=%s user=%s", service, server, user);
	ssize_t n;
	if (p9c_open(&c, 1, "rpc", ORDWR) < 0 || p9c_write(&c, 1, req.p, req.n) < 0 ||
	    (n = p9c_read(&c, 1, buf, sizeof buf - 1)) < 2 || strncmp(buf, "ok", 2) != 0 ||
	    p9c_write(&c, 1, "read", 4) < 0 || (n = p9c_read(&c, 1, buf, sizeof buf - 1)) < 2)
		goto out;
	buf[n] = 0;
	if (strncmp(buf, "ok ", 3) == 0 && tokenize(buf + 3, f, 4) == 2) {
		bufreset(pw);
		bufputs(pw, f[1]);
		r = 1;
	}
	memset(buf, 0, sizeof buf);
out:
	p9c_close(&c);
	buffree(&req);
	return r;
}

static int
password(const char *service, const char *server, const char *user, Buf *pw)
{
	int r = fromfile(service, server, user, pw);

	if (r == 0)
		r = fromfactotum(service, server, user, pw);
	if (r == 0)
		return seterr(EACCES, "no password for %s@%s: add \"key proto=pass service=%s server=%s user=%s "
			"!password=...\" to %s (mode 600), or post a factotum that has it",
			user, server, service, server, user, keyfile);
	return r < 0 ? -1 : 0;
}

void
keys_init(const char *file)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	Buf b = { 0 };

	if (file)
		bufputs(&b, file);
	else if (xdg && *xdg)
		bufprint(&b, "%s/mailfs/keys", xdg);
	else
		bufprint(&b, "%s/.config/mailfs/keys", home && *home ? home : ".");
	keyfile = b.p;
	box_setpassfn(password);
}
