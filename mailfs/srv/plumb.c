/*
 * New-mail notices for acme Mail: when a message comes or goes, a plumb
 * message goes to the plumber's port seemail, as plan9port's mailfs
 * sends it (spec 4.6), if a plumber is posted in the namespace; without
 * one nothing is sent.  A thread of its own does the sending, so the
 * tree is never held while we talk to the plumber.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tree/tree.h"
#include "p9.h"
#include "srv.h"

typedef struct Notice Notice;
struct Notice {
	char	box[64];
	char	num[16];
	int	new;
	Notice	*next;
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static Notice *queue, **tail = &queue;

/* the tree's watcher: a message of a box came or went; the tree locked */
static void
changed(Qpath q, const char *name, int what)
{
	Box *b = tree_boxof(q);

	if (b == NULL || name == NULL || what == Wmodified || name[0] < '1' || name[0] > '9')
		return;	/* boxes opening and closing, or changed flags: Mail wants neither */
	Notice *n = xzalloc(sizeof *n);
	snprintf(n->box, sizeof n->box, "%s", b->name);
	snprintf(n->num, sizeof n->num, "%s", name);
	n->new = what == Wnew;
	pthread_mutex_lock(&lk);
	*tail = n;
	tail = &n->next;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lk);
}

/* plumb's quoting of an attribute value */
static void
attr(Buf *out, const char *name, const char *v)
{
	if (v == NULL || !*v)
		return;
	bufprint(out, "%s%s=", out->n ? " " : "", name);
	if (strpbrk(v, " \t\n'=") == NULL) {
		bufputs(out, v);
		return;
	}
	bufputc(out, '\'');
	for (; *v; v++) {
		if (*v == '\'')
			bufputc(out, '\'');
		bufputc(out, *v == '\n' ? ' ' : *v);
	}
	bufputc(out, '\'');
}

/* the value of key in an info file, or NULL; in buf */
static const char *
infokey(const char *info, const char *key, char *buf, size_t n)
{
	size_t kl = strlen(key);

	for (const char *l = info; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
			const char *e = strchr(l, '\n');
			snprintf(buf, n, "%.*s", (int)((e ? e : l + strlen(l)) - (l + kl + 1)), l + kl + 1);
			return buf;
		}
	return NULL;
}

/* the plumb message for n: its attributes come from the message's info */
static void
message(Buf *out, Notice *n)
{
	Buf a = { 0 }, path = { 0 };
	char from[1024], subj[1024], digest[64], date[128], *d;
	Qpath q = QROOT;
	Blob *info = NULL;

	bufprint(&path, "%s/%s/info", n->box, n->num);
	char *save = NULL, *copy = xstrdup(path.p);
	for (char *e = strtok_r(copy, "/", &save); e; e = strtok_r(NULL, "/", &save))
		if (tree_walk(q, e, &q) < 0)
			break;
	free(copy);
	if (n->new && (info = tree_read(q)) != NULL) {
		attr(&a, "filetype", "mail");
		attr(&a, "mailtype", "new");
		attr(&a, "sender", infokey(info->p, "from", from, sizeof from));
		attr(&a, "subject", infokey(info->p, "subject", subj, sizeof subj));
		attr(&a, "digest", infokey(info->p, "digest", digest, sizeof digest));
		if ((d = (char *)infokey(info->p, "unixdate", date, sizeof date)) && strchr(d, ' '))
			attr(&a, "date", strchr(d, ' ') + 1);	/* the ctime, without the seconds */
		blobunref(info);
	} else {
		attr(&a, "filetype", "mail");
		attr(&a, "mailtype", "delete");
	}
	bufreset(&path);
	bufprint(&path, "Mail/%s/%s", n->box, n->num);
	bufprint(out, "mailfs\nseemail\n/\ntext\n%s\n%zu\n%s", a.p ? a.p : "", path.n, path.p);
	buffree(&a);
	buffree(&path);
}

/* dial the plumber and write msg to its send file; -1 if there is none */
static int
plumbsend(const Buf *msg)
{
	static P9conn c;

	if (p9c_dial(&c, "plumb") < 0)
		return -1;
	int r = p9c_open(&c, 1, "send", OWRITE) == 0 ? p9c_write(&c, 1, msg->p, msg->n) : -1;
	p9c_close(&c);
	return r;
}

static void *
sender(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lk);
		while (queue == NULL)
			pthread_cond_wait(&cond, &lk);
		Notice *n = queue;
		if ((queue = n->next) == NULL)
			tail = &queue;
		pthread_mutex_unlock(&lk);
		Buf msg = { 0 };
		message(&msg, n);
		plumbsend(&msg);	/* no plumber: Mail is not listening either */
		buffree(&msg);
		free(n);
	}
	return NULL;
}

void
plumb_start(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, sender, NULL) == 0) {
		pthread_detach(t);
		tree_watch(changed);
	}
}
