/*
 * Open files of the tree, for both transports.  An open file holds what
 * one open of a file means: the content fixed for it (a Blob, or a
 * container descriptor for what is costly or large), the search answer
 * of its last query, the ctl commands it wrote and the error of the
 * last one refused.  What a write means comes from the file's kind in
 * the file table (tree_how); what differs between the transports is
 * their policy, given at open: through the mount the ctl lines of one
 * open are one transaction applied at close, over 9P each write is a
 * command, since acme Mail keeps its ctl open.
 *
 * Concurrency: an open file has a lock of its own, for transports that
 * answer requests of one open on several threads; the tree's lock is
 * taken inside it, never around it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tree/tree.h"

enum { Smallfile = 64 << 10 };	/* kept as a Blob up to this; a container above */

struct Ofile {
	Qpath	q;
	int	how;		/* Hread, Hctl, ...: the file table's write behaviour */
	int	policy;		/* Obatch, Oseen */
	pthread_mutex_t	lk;
	int	made;		/* content is in small or fd */
	Blob	*small;		/* content, or a search's answer */
	int	fd;		/* container, or -1 */
	int	seen;		/* Oseen: the message was marked */
	Ctlcmd	**pending;	/* Obatch: commands written, to apply at close */
	size_t	npending;
	int	errcode;	/* the last refused write: errno, and its text */
	char	*errtext;
	size_t	errread;	/* of it, read already: a ctl is read as a stream */
	int	refused;	/* Obatch: a write was refused, so nothing applies */
};

static const char Eearlier[] = "an earlier command on this open was refused";

Ofile *
ofile_open(Qpath q, int write, int policy)
{
	if (tree_openmode(q, write) < 0)
		return NULL;
	int how = tree_how(q);
	if (how == Hdir)
		return seterr(EISDIR, "is a directory"), NULL;
	if (how != Hctl && how != Hsearch && tree_exists(q) < 0)
		return NULL;
	Ofile *f = xzalloc(sizeof *f);
	f->q = q;
	f->how = how;
	f->policy = policy;
	f->fd = -1;
	pthread_mutex_init(&f->lk, NULL);
	return f;
}

int
ofile_fixed(Ofile *f)
{
	return f->how == Hread || f->how == Hflags || f->how == Hlive;
}

int
ofile_settled(Ofile *f)
{
	return f->how == Hread;
}

int
ofile_stream(Ofile *f)
{
	return f->how == Hctl;
}

/*
 * The content, made once: a Blob when small and at hand, else a
 * container (the cache's for a costly file, made and kept there).
 * Called with f->lk held.
 */
static int
make(Ofile *f)
{
	Blob *b;

	if (f->made || !ofile_fixed(f))
		return 0;
	if ((b = tree_made(f->q)) == NULL && tree_costly(f->q)) {
		if ((f->fd = tree_open(f->q)) < 0)
			return -1;
		f->made = 1;
		return 0;
	}
	if (b == NULL && (b = tree_read(f->q)) == NULL)
		return -1;
	if (b->n > Smallfile) {
		f->fd = container_mem(b);
		blobunref(b);
		if (f->fd < 0)
			return -1;
	} else
		f->small = b;
	f->made = 1;
	return 0;
}

/* Oseen: the first read of a message's body or raw marks it seen */
void
ofile_seen(Ofile *f)
{
	if (!(f->policy & Oseen) || f->seen || !tree_marksseen(f->q))
		return;
	f->seen = 1;
	ctl_markseen(f->q);	/* a read-only or vanished box keeps its flags: the read goes on */
}

int
ofile_make(Ofile *f)
{
	pthread_mutex_lock(&f->lk);
	int r = make(f);
	pthread_mutex_unlock(&f->lk);
	return r;
}

void
ofile_forget(Ofile *f)
{
	pthread_mutex_lock(&f->lk);
	if (f->made && f->small && f->how != Hlive) {	/* a live content stays what the open saw */
		blobunref(f->small);
		f->small = NULL;
		f->made = 0;
	}
	pthread_mutex_unlock(&f->lk);
}

int
ofile_content(Ofile *f, Blob **b, int *fd)
{
	pthread_mutex_lock(&f->lk);
	int r = make(f);
	*b = r == 0 && f->small ? blobref(f->small) : NULL;
	*fd = r == 0 ? f->fd : -1;
	pthread_mutex_unlock(&f->lk);
	if (r == 0)
		ofile_seen(f);
	return r;
}

static ssize_t
fromblob(const Blob *b, void *p, size_t n, uint64_t off)
{
	if (b == NULL || off >= b->n)
		return 0;
	size_t k = b->n - off < n ? b->n - off : n;
	memcpy(p, b->p + off, k);
	return k;
}

ssize_t
ofile_read(Ofile *f, void *p, size_t n, uint64_t off)
{
	Blob *b = NULL;
	int fd = -1;
	ssize_t k = 0;

	if (f->how == Hctl) {	/* through the mount: the last error, else nothing */
		pthread_mutex_lock(&f->lk);
		if ((f->policy & Obatch) && f->errtext) {
			Buf t = { 0 };
			bufprint(&t, "%s\n", f->errtext);
			Blob *e = blobfrombuf(&t);
			k = fromblob(e, p, n, f->errread);
			f->errread += k;
			blobunref(e);
			buffree(&t);
		}
		pthread_mutex_unlock(&f->lk);
		return k;
	}
	if (f->how == Hsearch) {
		pthread_mutex_lock(&f->lk);
		k = fromblob(f->small, p, n, off);
		pthread_mutex_unlock(&f->lk);
		return k;
	}
	if (ofile_content(f, &b, &fd) < 0)
		return -1;
	if (b) {
		k = fromblob(b, p, n, off);
		blobunref(b);
		return k;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || off >= (uint64_t)st.st_size)
		return 0;	/* at or past the end; pread refuses offsets past 2^63 */
	k = pread(fd, p, n, off);
	return k < 0 ? seterr(errno, "%s", strerror(errno)) : k;
}

uint64_t
ofile_size(Ofile *f)
{
	Blob *b;
	int fd;
	struct stat st;
	uint64_t n = 0;

	if (!ofile_fixed(f) || ofile_content(f, &b, &fd) < 0)
		return 0;
	if (b)
		n = b->n;
	else if (fstat(fd, &st) == 0)
		n = st.st_size;
	blobunref(b);
	return n;
}

int
ofile_fd(Ofile *f)
{
	Blob *b;
	int fd;

	if (!ofile_fixed(f))
		return seterr(EACCES, "permission denied");
	if (ofile_content(f, &b, &fd) < 0)
		return -1;
	if (b) {
		fd = container_mem(b);
		blobunref(b);
		return fd;
	}
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

static void
droppending(Ofile *f)
{
	for (size_t i = 0; i < f->npending; i++)
		ctl_free(f->pending[i]);
	free(f->pending);
	f->pending = NULL;
	f->npending = 0;
}

/* a write refused: its error kept for a read of the ctl, and for close */
static int
refuse(Ofile *f)
{
	f->errcode = errcode() ? errcode() : EINVAL;
	free(f->errtext);
	f->errtext = xstrdup(errmsg());
	f->errread = 0;
	if (f->policy & Obatch) {
		f->refused = 1;
		droppending(f);
	}
	return -1;
}

/* through the mount: every line checked now, all applied at close */
static int
ctlbatch(Ofile *f, const char *p, size_t n)
{
	if (f->refused)
		return seterr(f->errcode, "%s", Eearlier);
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (p + i)) : n - i;
		Ctlcmd *c = len ? ctl_parse(f->q, p + i, len) : NULL;
		i += len + (nl != NULL);
		if (len == 0)
			continue;
		if (c == NULL)
			return refuse(f);
		f->pending = xrealloc(f->pending, (f->npending + 1) * sizeof *f->pending);
		f->pending[f->npending++] = c;
	}
	return 0;
}

/* over 9P: the write is one command, applied before the answer */
static int
ctlnow(Ofile *f, const char *p, size_t n)
{
	Ctlcmd *c = ctl_parse(f->q, p, n);

	if (c == NULL)
		return refuse(f);
	int r = ctl_apply(&c, 1);
	ctl_free(c);
	return r < 0 ? refuse(f) : 0;
}

int
ofile_write(Ofile *f, const void *p, size_t n)
{
	int r = 0;

	pthread_mutex_lock(&f->lk);
	switch (f->how) {
	case Hsearch:	/* the whole write is the query; the answer is this open's */
		blobunref(f->small);
		if ((f->small = tree_search(f->q, p, n)) == NULL) {	/* a bad query: its error is the answer */
			Buf t = { 0 };
			bufprint(&t, "%s\n", errmsg());
			f->small = blobfrombuf(&t);
			buffree(&t);
			r = -1;
		}
		break;
	case Hflags:	/* at once, on either transport */
		r = ctl_writeflags(f->q, p, n);
		break;
	case Hctl:
		r = f->policy & Obatch ? ctlbatch(f, p, n) : ctlnow(f, p, n);
		break;
	default:
		r = seterr(EACCES, "permission denied");
	}
	pthread_mutex_unlock(&f->lk);
	return r;
}

int
ofile_flush(Ofile *f)
{
	int r = 0;

	pthread_mutex_lock(&f->lk);
	if (f->refused)
		r = seterr(f->errcode, "%s", f->errtext ? f->errtext : Eearlier);
	else if (f->npending) {
		r = ctl_apply(f->pending, f->npending);
		if (r < 0)
			refuse(f);
	}
	droppending(f);
	pthread_mutex_unlock(&f->lk);
	return r;
}

void
ofile_close(Ofile *f)
{
	if (f == NULL)
		return;
	ofile_flush(f);	/* nothing can report an error any more */
	if (f->fd >= 0)
		close(f->fd);
	blobunref(f->small);
	free(f->errtext);
	pthread_mutex_destroy(&f->lk);
	free(f);
}
