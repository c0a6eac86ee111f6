/*
 * The 9P2000 transport: the tree served on a Unix socket in the
 * plan9port namespace, as acme Mail and 9p(1) expect a service to be
 * posted.  One thread per connection answers its requests in order, so
 * each is answered exactly once and a Tflush always finds its request
 * answered.  A Topen opens the tree's open file (ofile.c), whose
 * content a Tread reads and Topenfd hands to the client as a
 * descriptor; each Twrite is one command (no batching).
 *
 * Errors are strings, the tree's error record rendered as 9P wants.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "tree/tree.h"
#include "p9.h"
#include "srv.h"

enum {
	Maxmsize = 65536 + Iohdr,
	Nfidhash = 64,
};

static const char Eunknownfid[] = "unknown fid";
static const char Einuse[] = "fid already in use";
static const char Eperm[] = "permission denied";
static const char Eopen[] = "file already open for I/O";
static const char Enotopen[] = "file not open for I/O";
static const char Eoffset[] = "bad offset";
static const char Eauth[] = "authentication not required";
static const char Eversion[] = "version not negotiated";
static const char Enotdir[] = "not a directory";

static char *user = "none";
static int tracing;
static int policy = Oseen;	/* each write is a command; reading a message marks it seen */
static char posted[108];	/* the socket's path, to remove at exit */
static volatile sig_atomic_t stopping;

typedef struct Fid Fid;
struct Fid {
	uint32_t	fid;
	Qpath	q;
	int	open;		/* 0, or OREAD+1 / OWRITE+1 / ORDWR+1 */
	Ofile	*of;		/* the tree's open file; NULL for a directory */
	uint64_t	diroff;	/* offset the next directory read continues at */
	uint64_t	dircookie;	/* and where the tree listing resumes */
	Fid	*next;
};

typedef struct Conn Conn;
struct Conn {
	int	fd;
	uint32_t	msize;
	int	versioned;
	Fid	*fids[Nfidhash];
	uint8_t	*in, *out;
	char	strs[Maxmsize];
};

static Fid *
lookfid(Conn *c, uint32_t fid)
{
	for (Fid *f = c->fids[fid % Nfidhash]; f; f = f->next)
		if (f->fid == fid)
			return f;
	return NULL;
}

static Fid *
newfid(Conn *c, uint32_t fid, Qpath q)
{
	Fid *f = xzalloc(sizeof *f);

	f->fid = fid;
	f->q = q;
	f->next = c->fids[fid % Nfidhash];
	c->fids[fid % Nfidhash] = f;
	return f;
}

static void
delfid(Conn *c, Fid *f)
{
	Fid **l = &c->fids[f->fid % Nfidhash];

	while (*l != f)
		l = &(*l)->next;
	*l = f->next;
	ofile_close(f->of);
	free(f);
}

static void
delallfids(Conn *c)
{
	for (int i = 0; i < Nfidhash; i++)
		while (c->fids[i])
			delfid(c, c->fids[i]);
}

static int
toqid(Qpath q, Qid *qid, Dirinfo *d)
{
	if (tree_stat(q, d) < 0)
		return -1;
	qid->type = d->isdir ? QTDIR : 0;
	qid->vers = d->vers;
	qid->path = q;
	return 0;
}

static size_t
packdir(const Dirinfo *d, uint8_t *buf, size_t max)
{
	P9dir p = {
		.qid = { d->isdir ? QTDIR : 0, d->vers, d->q },
		.mode = (d->isdir ? DMDIR : 0) | d->mode,
		.atime = d->mtime,
		.mtime = d->mtime,
		.length = d->isdir ? 0 : d->length,
		.name = d->name,
		.uid = user, .gid = user, .muid = user,
	};

	return p9_packdir(&p, buf, max);
}

/* Each handler fills r and returns NULL, or returns an error string. */

static const char *
rversion(Conn *c, Fcall *t, Fcall *r)
{
	delallfids(c);
	c->msize = t->msize < Maxmsize ? t->msize : Maxmsize;
	if (c->msize < 256)
		return "msize too small";
	c->versioned = 1;
	r->msize = c->msize;
	r->version = strncmp(t->version, "9P2000", 6) == 0 &&
		(t->version[6] == 0 || t->version[6] == '.') ? "9P2000" : "unknown";
	return NULL;
}

static const char *
rattach(Conn *c, Fcall *t, Fcall *r)
{
	Dirinfo d;

	if (t->afid != NOFID)
		return Eauth;
	if (lookfid(c, t->fid))
		return Einuse;
	if (toqid(QROOT, &r->qid, &d) < 0)
		return errmsg();
	newfid(c, t->fid, QROOT);
	return NULL;
}

static const char *
rwalk(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);
	Qpath q;

	if (f == NULL)
		return Eunknownfid;
	if (f->open)
		return Eopen;
	if (t->nwname > Maxwelem)
		return "too many names in walk";
	if (t->newfid != t->fid && lookfid(c, t->newfid))
		return Einuse;
	q = f->q;
	/* a walk makes no content: a qid needs no length */
	for (int i = 0; i < t->nwname; i++) {
		if (tree_how(q) != Hdir) {
			if (i == 0)
				return Enotdir;
			break;
		}
		if (tree_walk(q, t->wname[i], &q) < 0) {
			if (i == 0)
				return errmsg();
			break;
		}
		r->wqid[i] = (Qid){ tree_how(q) == Hdir ? QTDIR : 0, tree_vers(q), q };
		r->nwqid = i + 1;
	}
	if (r->nwqid == t->nwname) {
		if (t->newfid == t->fid)
			f->q = q;
		else
			newfid(c, t->newfid, q);
	}
	return NULL;
}

/* open f in mode: its qid in r, the tree's open file in f->of */
static const char *
openfid(Fid *f, uint8_t mode, Fcall *r)
{
	Dirinfo d;
	int write = (mode & 3) == OWRITE || (mode & 3) == ORDWR || (mode & OTRUNC);

	if (f->open)
		return Eopen;
	if (toqid(f->q, &r->qid, &d) < 0)
		return errmsg();
	if (tree_openmode(f->q, write) < 0 || (d.isdir && write))
		return Eperm;
	if (!d.isdir && (f->of = ofile_open(f->q, write, policy)) == NULL)
		return errmsg();
	f->open = (mode & 3) + 1;
	return NULL;
}

static const char *
ropen(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);

	if (f == NULL)
		return Eunknownfid;
	r->iounit = c->msize - Iohdr;
	return openfid(f, t->mode, r);
}

typedef struct Dirfill Dirfill;
struct Dirfill {
	uint8_t	*buf;
	size_t	max, n;
	uint64_t	next;
};

static int
dirfill(void *arg, const Dirinfo *d, uint64_t next)
{
	Dirfill *df = arg;
	size_t n = packdir(d, df->buf + df->n, df->max - df->n);

	if (n == 0)
		return 1;	/* full: this entry starts the next read */
	df->n += n;
	df->next = next;
	return 0;
}

static const char *
rread(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);
	uint32_t count = t->count < c->msize - Iohdr ? t->count : c->msize - Iohdr;
	uint8_t *data = c->out + Iohdr;

	if (f == NULL)
		return Eunknownfid;
	if (!f->open || f->open - 1 == OWRITE)
		return Enotopen;
	r->data = data;
	if (f->of == NULL) {
		if (t->offset == 0)
			f->dircookie = f->diroff = 0;
		else if (t->offset != f->diroff)
			return Eoffset;
		Dirfill df = { data, count, 0, f->dircookie };
		if (tree_readdir(f->q, f->dircookie, dirfill, &df) < 0)
			return errmsg();
		f->diroff += df.n;
		f->dircookie = df.next;
		r->count = df.n;
		return NULL;
	}
	ssize_t n = ofile_read(f->of, data, count, t->offset);
	if (n < 0)
		return errmsg();
	r->count = n;
	return NULL;
}

static const char *
rwrite(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);

	if (f == NULL)
		return Eunknownfid;
	if (!f->open || f->open - 1 == OREAD)
		return Enotopen;
	if (f->of == NULL)
		return Eperm;
	/* each write is one command, applied before the reply; offsets mean nothing */
	if (ofile_write(f->of, t->data, t->count) < 0)
		return errmsg();
	r->count = t->count;
	return NULL;
}

static const char *
rclunk(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);

	(void)r;
	if (f == NULL)
		return Eunknownfid;
	delfid(c, f);
	return NULL;
}

static const char *
rremove(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);

	(void)r;
	if (f == NULL)
		return Eunknownfid;
	Qpath q = f->q;
	delfid(c, f);	/* remove clunks, whatever it answers */
	/* a top-level message directory is deleted as if by delete; nothing else goes */
	return ctl_removemsg(q) < 0 ? errmsg() : NULL;
}

static const char *
rstat(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);
	Dirinfo d;

	if (f == NULL)
		return Eunknownfid;
	if (tree_stat(f->q, &d) < 0)
		return errmsg();
	if (f->of && tree_how(f->q) == Hlive)	/* made at open: its length is this open's */
		d.length = ofile_size(f->of);
	size_t n = packdir(&d, c->out + 9, c->msize - 9);
	if (n == 0)
		return "stat too big";
	r->nstat = n;
	r->stat = c->out + 9;
	return NULL;
}

/* a wstat that changes nothing succeeds; anything else is refused */
static const char *
rwstat(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);
	P9dir d;
	char strs[4 * 65536 / 64];

	(void)r;
	if (f == NULL)
		return Eunknownfid;
	if (p9_unpackdir(t->stat, t->nstat, &d, strs, sizeof strs) < 0)
		return "bad stat";
	if (d.qid.type == 0xFF && d.qid.vers == 0xFFFFFFFF && d.qid.path == ~0ull &&
	    d.mode == 0xFFFFFFFF && d.atime == 0xFFFFFFFF && d.mtime == 0xFFFFFFFF &&
	    d.length == ~0ull && !*d.name && !*d.uid && !*d.gid && !*d.muid)
		return NULL;
	return Eperm;
}

static const char *
rcreate(Conn *c, Fcall *t, Fcall *r)
{
	(void)r;
	return lookfid(c, t->fid) ? Eperm : Eunknownfid;
}

static const char *
rauth(Conn *c, Fcall *t, Fcall *r)
{
	(void)c; (void)t; (void)r;
	return Eauth;
}

static const char *
rflush(Conn *c, Fcall *t, Fcall *r)
{
	(void)c; (void)t; (void)r;
	return NULL;	/* requests are answered in order: the old one already was */
}

/* Topenfd: open, and hand the container itself to the client */
static const char *
ropenfd(Conn *c, Fcall *t, Fcall *r)
{
	Fid *f = lookfid(c, t->fid);

	if (f == NULL)
		return Eunknownfid;
	if ((t->mode & 3) != OREAD)
		return Eperm;
	const char *e = openfid(f, t->mode, r);
	if (e)
		return e;
	if (f->of == NULL)
		return "cannot open a directory as a file";
	int fd = ofile_fd(f->of);
	if (fd < 0)
		return errmsg();
	r->unixfd = fd;
	r->iounit = c->msize - Iohdr;
	return NULL;
}

static const struct {
	int	type;
	const char	*(*fn)(Conn *, Fcall *, Fcall *);
} handlers[] = {
	{ Tversion, rversion }, { Tauth, rauth }, { Tattach, rattach }, { Tflush, rflush },
	{ Twalk, rwalk }, { Topen, ropen }, { Tcreate, rcreate }, { Tread, rread },
	{ Twrite, rwrite }, { Tclunk, rclunk }, { Tremove, rremove }, { Tstat, rstat },
	{ Twstat, rwstat }, { Topenfd, ropenfd },
};

static int
writeall(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static int
readall(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

static int
sendfd(int sock, int fd)
{
	char byte = 0, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

	memset(ctl, 0, sizeof ctl);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* answer one request: 0, or -1 to drop the connection */
static int
serve1(Conn *c, size_t n)
{
	Fcall t, r;
	const char *e = NULL;

	if (p9_unpack(c->in, n, &t, c->strs, sizeof c->strs) < 0)
		return -1;	/* malformed: nothing after it can be trusted */
	memset(&r, 0, sizeof r);
	r.type = t.type + 1;
	r.tag = t.tag;
	if (!c->versioned && t.type != Tversion)
		e = Eversion;
	else {
		e = "unknown message type";
		for (size_t i = 0; i < nelem(handlers); i++)
			if (handlers[i].type == t.type)
				e = handlers[i].fn(c, &t, &r);
	}
	if (tracing)
		fprintf(stderr, "9p: T%d tag %u fid %u%s%s\n", t.type, t.tag, t.fid, e ? ": " : "", e ? e : "");
	if (e) {
		r.type = Rerror;
		r.ename = (char *)e;
	}
	size_t m = p9_pack(&r, c->out, c->msize > 0 ? c->msize : Maxmsize);
	if (m == 0 || writeall(c->fd, c->out, m) < 0)
		return -1;
	if (r.type == Ropenfd) {
		/* the client owns the descriptor now, and never clunks the fid */
		int ok = sendfd(c->fd, r.unixfd);
		close(r.unixfd);	/* ours was a copy */
		delfid(c, lookfid(c, t.fid));
		if (ok < 0)
			return -1;
	}
	return 0;
}

static void *
conn(void *arg)
{
	Conn *c = arg;
	uint8_t size[4];

	for (;;) {
		if (readall(c->fd, size, 4) < 0)
			break;
		uint32_t n = size[0] | size[1] << 8 | size[2] << 16 | (uint32_t)size[3] << 24;
		uint32_t max = c->versioned ? c->msize : Maxmsize;
		if (n < 7 || n > max)
			break;	/* not a message we could answer */
		memcpy(c->in, size, 4);
		if (readall(c->fd, c->in + 4, n - 4) < 0 || serve1(c, n) < 0)
			break;
	}
	delallfids(c);
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	return NULL;
}

/*
 * The namespace directory: $NAMESPACE, else the one plan9port derives
 * from $USER and $DISPLAY (/tmp/ns.USER.DISPLAY, ".0" dropped), which
 * must be ours and private.
 */
int
srv_9p_nsdir(char *buf, size_t n)
{
	const char *ns = getenv("NAMESPACE"), *disp = getenv("DISPLAY");
	struct stat st;

	if (ns && *ns)
		snprintf(buf, n, "%s", ns);
	else {
		char d[256];
		snprintf(d, sizeof d, "%s", disp && *disp ? disp : ":0");
		size_t l = strlen(d);
		if (l > 2 && strcmp(d + l - 2, ".0") == 0)
			d[l - 2] = 0;
		snprintf(buf, n, "/tmp/ns.%s.%s", user, d);
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return seterr(errno, "%s: %s", buf, strerror(errno));
	if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
		return seterr(ENOTDIR, "%s: not a directory", buf);
	if (st.st_uid != getuid() || (st.st_mode & 077))
		return seterr(EPERM, "%s: must be a directory of ours with mode 0700", buf);
	return 0;
}

int
srv_9p_post(const char *name, int trace, int seen)
{
	struct passwd *pw = getpwuid(getuid());
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path];

	tracing = trace;
	policy = seen ? Oseen : 0;
	if (pw)
		user = xstrdup(pw->pw_name);
	if (strchr(name, '/'))
		return seterr(EINVAL, "service name %s: no / allowed", name);
	if (srv_9p_nsdir(dir, sizeof dir) < 0)
		return -1;
	if (strlen(dir) + 1 + strlen(name) + 1 > sizeof sa.sun_path)
		return seterr(ENAMETOOLONG, "%s/%s: path too long for a socket", dir, name);
	size_t dl = strlen(dir);
	memcpy(sa.sun_path, dir, dl);
	sa.sun_path[dl] = '/';
	memcpy(sa.sun_path + dl + 1, name, strlen(name) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return seterr(errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
		close(fd);
		return seterr(EADDRINUSE, "%s: a service is already posted there", sa.sun_path);
	}
	unlink(sa.sun_path);	/* stale: nobody answers */
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(sa.sun_path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		int e = errno;
		close(fd);
		return seterr(e, "%s: %s", sa.sun_path, strerror(e));
	}
	snprintf(posted, sizeof posted, "%s", sa.sun_path);
	return fd;
}

void
srv_9p_unpost(void)
{
	if (posted[0])
		unlink(posted);
	posted[0] = 0;
}

static void
onsignal(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Serve in this thread until SIGTERM, SIGINT or SIGHUP; they interrupt
 * accept, since they are caught without SA_RESTART.
 */
void
srv_9p_serve(int lfd)
{
	struct sigaction sa = { .sa_handler = onsignal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srv_9p_run(lfd);
}

/* serve connections on lfd until the process ends */
void
srv_9p_run(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (stopping) {
			if (fd >= 0)
				close(fd);
			return;
		}
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE) {
				if (errno == EMFILE || errno == ENFILE)
					usleep(100 * 1000);
				continue;
			}
			return;
		}
		struct ucred cr;
		socklen_t len = sizeof cr;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != getuid()) {
			close(fd);	/* another user's process: refused */
			continue;
		}
		Conn *c = xzalloc(sizeof *c);
		c->fd = fd;
		c->in = xmalloc(Maxmsize);
		c->out = xmalloc(Maxmsize);
		pthread_t t;
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&a, 8 << 20);	/* deep MIME trees recurse */
		if (pthread_create(&t, &a, conn, c) != 0) {
			close(fd);
			free(c->in);
			free(c->out);
			free(c);
		}
		pthread_attr_destroy(&a);
	}
}

/* serve one connection on fd in this thread, until it closes (for the fuzzer) */
void
srv_9p_conn(int fd)
{
	Conn *c = xzalloc(sizeof *c);

	c->fd = fd;
	c->in = xmalloc(Maxmsize);
	c->out = xmalloc(Maxmsize);
	conn(c);
}

static void *
runner(void *arg)
{
	srv_9p_run((int)(intptr_t)arg);
	return NULL;
}

int
srv_9p_start(int lfd)
{
	pthread_t t;

	if (pthread_create(&t, NULL, runner, (void *)(intptr_t)lfd) != 0)
		return seterr(EAGAIN, "cannot start the 9P server thread");
	pthread_detach(t);
	return 0;
}
