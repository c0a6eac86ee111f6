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
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "fns.h"
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
	Box *b = tree_ctlbox(q);

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

static int
rpc(int fd, Fcall *t, Fcall *r, uint8_t *buf, size_t max, char *strs, size_t nstrs)
{
	size_t n = p9_pack(t, buf, max);
	uint8_t size[4];

	if (n == 0 || write(fd, buf, n) != (ssize_t)n || read(fd, size, 4) != 4)
		return -1;
	uint32_t m = size[0] | size[1] << 8 | size[2] << 16 | (uint32_t)size[3] << 24;
	if (m < 7 || m > max)
		return -1;
	memcpy(buf, size, 4);
	for (size_t got = 4; got < m;) {
		ssize_t k = read(fd, buf + got, m - got);
		if (k <= 0)
			return -1;
		got += k;
	}
	if (p9_unpack(buf, m, r, strs, nstrs) < 0 || r->type != t->type + 1)
		return -1;
	return 0;
}

/* dial the plumber and write msg to its send file; -1 if there is none */
static int
plumbsend(const Buf *msg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path - 8], strs[8192];
	static uint8_t buf[16384];
	Fcall t, r;

	if (srv_9p_nsdir(dir, sizeof dir) < 0)
		return -1;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/plumb", dir);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct timeval tv = { 5, 0 };	/* a stuck plumber must not stop us */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	int ok = 0;
	memset(&t, 0, sizeof t);
	t.type = Tversion, t.tag = NOTAG, t.msize = sizeof buf, t.version = "9P2000";
	if (rpc(fd, &t, &r, buf, sizeof buf, strs, sizeof strs) == 0) {
		memset(&t, 0, sizeof t);
		t.type = Tattach, t.tag = 1, t.fid = 0, t.afid = NOFID, t.uname = getenv("USER") ? getenv("USER") : "none", t.aname = "";
		ok = rpc(fd, &t, &r, buf, sizeof buf, strs, sizeof strs) == 0;
	}
	if (ok) {
		memset(&t, 0, sizeof t);
		t.type = Twalk, t.tag = 1, t.fid = 0, t.newfid = 1, t.nwname = 1, t.wname[0] = "send";
		ok = rpc(fd, &t, &r, buf, sizeof buf, strs, sizeof strs) == 0 && r.nwqid == 1;
	}
	if (ok) {
		memset(&t, 0, sizeof t);
		t.type = Topen, t.tag = 1, t.fid = 1, t.mode = OWRITE;
		ok = rpc(fd, &t, &r, buf, sizeof buf, strs, sizeof strs) == 0;
	}
	if (ok && msg->n < sizeof buf - Iohdr) {
		memset(&t, 0, sizeof t);
		t.type = Twrite, t.tag = 1, t.fid = 1, t.count = msg->n, t.data = (const uint8_t *)msg->p;
		ok = rpc(fd, &t, &r, buf, sizeof buf, strs, sizeof strs) == 0;
	}
	close(fd);	/* the plumber clunks what a gone client left */
	return ok ? 0 : -1;
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
