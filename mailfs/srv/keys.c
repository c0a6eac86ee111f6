/*
 * Credentials for the backends, never from the command line: first from
 * a key file only its owner can read, written as factotum keys
 *	key proto=pass service=imap server=mail.example.com user=alice !password=secret
 * so the same lines serve plan9port's factotum (and are split with the
 * same quoting, tokenize in util.c); then from factotum itself, when
 * one is posted in the namespace.  A key of mailfs's own, which
 * factotum does not know, names a command that prints an OAuth2 access
 * token instead of a password:
 *	key proto=oauth2 service=imap server=outlook.office365.com user=alice@example.com tokencmd='oama access alice@example.com'
 * The command runs without a shell (its value is split with the same
 * quoting); its token is kept in memory only, until refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tree/tree.h"
#include "p9.h"
#include "srv.h"

extern char **environ;

enum {
	Maxattrs = 32,
	Cmdwait = 30,	/* seconds a token command may take */
	Maxtoken = 16384,
};

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

/* does the key in f fit, and is it a password or a token command (in *val)? */
static int
fits(char **f, int n, const char *service, const char *server, const char *user, const char **val)
{
	const char *proto = attr(f, n, "proto"), *srv = attr(f, n, "server"), *u = attr(f, n, "user");
	const char *svc = attr(f, n, "service");

	if (n < 1 || strcmp(f[0], "key") != 0 || proto == NULL)
		return Nokey;
	if (srv == NULL || strcasecmp(srv, server) != 0 || (u && strcmp(u, user) != 0))
		return Nokey;
	if (svc && strcmp(svc, service) != 0 && !(strncmp(svc, "imap", 4) == 0 && strncmp(service, "imap", 4) == 0))
		return Nokey;
	if (strcmp(proto, "pass") == 0 && (*val = attr(f, n, "!password")) != NULL)
		return Passkey;
	if (strcmp(proto, "oauth2") == 0 && (*val = attr(f, n, "tokencmd")) != NULL && **val)
		return Tokenkey;
	return Nokey;
}

/* one line of the key file, split in place: Nokey, or what *val is */
int
keys_match(char *line, const char *service, const char *server, const char *user, const char **val)
{
	char *f[Maxattrs];

	return fits(f, tokenize(line, f, Maxattrs), service, server, user, val);
}

/* 1 found (a password, or a token command in cmd), 0 not there, -1 the file may not be used */
static int
fromfile(const char *service, const char *server, const char *user, Buf *pw, Buf *cmd)
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
	char *line = NULL;
	size_t cap = 0;
	int found = 0;
	while (!found && getline(&line, &cap, fp) > 0) {
		const char *v = NULL;
		int kind = keys_match(line, service, server, user, &v);
		if (kind != Nokey) {
			Buf *b = kind == Passkey ? pw : cmd;
			bufreset(b);
			bufputs(b, v);
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

/*
 * Run the token command (no shell) and take the first line it prints:
 * the whole of its output within Cmdwait seconds, or an error naming it.
 */
static int
runtoken(const char *cmdline, Buf *token)
{
	char *copy = xstrdup(cmdline), *argv[Maxattrs + 1];
	int argc = tokenize(copy, argv, Maxattrs), pfd[2] = { -1, -1 }, r = -1;
	posix_spawn_file_actions_t fa;
	pid_t pid;

	argv[argc] = NULL;
	if (argc == 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		free(copy);
		return seterr(EINVAL, "token command '%s': %s", cmdline, argc ? strerror(errno) : "empty");
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (e != 0) {
		close(pfd[0]);
		free(copy);
		return seterr(e, "token command '%s': %s", cmdline, strerror(e));
	}
	Buf out = { 0 };
	char buf[4096];
	time_t until = time(NULL) + Cmdwait;
	int timedout = 0;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int left = (int)(until - time(NULL));
		if (left <= 0 || poll(&p, 1, left * 1000) == 0) {
			timedout = 1;
			kill(pid, SIGKILL);
			break;
		}
		ssize_t n = read(pfd[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out.n < Maxtoken)
			bufadd(&out, buf, n);
	}
	close(pfd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	size_t len = out.p ? strcspn(out.p, "\r\n") : 0;
	while (len > 0 && (out.p[len - 1] == ' ' || out.p[len - 1] == '\t'))
		len--;
	int printable = 1;
	for (size_t i = 0; i < len; i++)
		printable &= out.p[i] > ' ' && out.p[i] < 0x7f;
	if (timedout)
		seterr(ETIMEDOUT, "token command '%s': no token within %d s", cmdline, Cmdwait);
	else if (WIFSIGNALED(status))
		seterr(EACCES, "token command '%s' was killed by signal %d", cmdline, WTERMSIG(status));
	else if (WEXITSTATUS(status) != 0)
		seterr(EACCES, "token command '%s' failed (exit status %d)", cmdline, WEXITSTATUS(status));
	else if (len == 0)
		seterr(EACCES, "token command '%s' printed no token", cmdline);
	else if (!printable)
		seterr(EACCES, "token command '%s' printed something that is no token", cmdline);
	else {
		bufreset(token);
		bufadd(token, out.p, len);
		r = 0;
	}
	if (out.p)
		memset(out.p, 0, out.n);
	buffree(&out);
	free(copy);
	return r;
}

/*
 * The last token each key's command printed, in memory only: given
 * again until the server refuses it.
 */
typedef struct Tokens Tokens;
struct Tokens {
	char	*key;	/* server and user */
	Buf	token;
	Tokens	*next;
};
static Tokens *tokens;
static pthread_mutex_t tokenlock = PTHREAD_MUTEX_INITIALIZER;

static int
token(const char *cmd, const char *server, const char *user, int fresh, Buf *out)
{
	Buf key = { 0 };
	Tokens *t;
	int r = 0;

	bufprint(&key, "%s %s", server, user);
	pthread_mutex_lock(&tokenlock);
	for (t = tokens; t && strcmp(t->key, key.p) != 0; t = t->next)
		;
	if (t == NULL) {
		t = xzalloc(sizeof *t);
		t->key = xstrdup(key.p);
		t->next = tokens;
		tokens = t;
	}
	/* out holds the token refused: another login may have renewed it meanwhile */
	int renewed = fresh && t->token.n > 0 && (t->token.n != out->n || memcmp(t->token.p, out->p, out->n) != 0);
	if ((fresh && !renewed) || t->token.n == 0) {
		if (t->token.p)
			memset(t->token.p, 0, t->token.n);
		bufreset(&t->token);
		r = runtoken(cmd, &t->token);
	}
	if (r == 0) {
		bufreset(out);
		bufadd(out, t->token.p, t->token.n);
	}
	pthread_mutex_unlock(&tokenlock);
	buffree(&key);
	return r;
}

static int
credential(const char *service, const char *server, const char *user, int fresh, Cred *c)
{
	Buf cmd = { 0 };
	int r = fromfile(service, server, user, &c->secret, &cmd);

	c->token = cmd.n > 0;
	if (r > 0 && c->token) {
		r = token(cmd.p, server, user, fresh, &c->secret) < 0 ? -1 : 1;
		buffree(&cmd);
	}
	if (r == 0)
		r = fromfactotum(service, server, user, &c->secret);
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
	box_setpassfn(credential);
}
