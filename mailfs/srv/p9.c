/*
 * The 9P2000 codec: T-messages in, R-messages and directory entries
 * out for the server, and the few a client needs the other way round
 * (plumb.c), little-endian as the protocol says.  Decoding is strict: a
 * message whose fields run past its end, or hold a NUL in a string, is
 * refused whole, since the server cannot trust anything after such an
 * error.
 */
#include <string.h>
#include "p9.h"

typedef struct Rd Rd;
struct Rd {
	const uint8_t	*p, *end;
	char	*s, *send;	/* string storage */
	int	bad;
};

static uint64_t
get(Rd *r, int n)
{
	uint64_t v = 0;

	if (r->bad || r->end - r->p < n) {
		r->bad = 1;
		return 0;
	}
	for (int i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static char *
getstr(Rd *r)
{
	size_t n = get(r, 2);

	if (r->bad || (size_t)(r->end - r->p) < n || (size_t)(r->send - r->s) < n + 1 ||
	    memchr(r->p, 0, n) != NULL) {
		r->bad = 1;
		return NULL;
	}
	char *s = r->s;
	memcpy(s, r->p, n);
	s[n] = 0;
	r->s += n + 1;
	r->p += n;
	return s;
}

static const uint8_t *
getbytes(Rd *r, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		r->bad = 1;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	return p;
}

/* msg holds one whole message, size field included; 0, or -1 if malformed */
int
p9_unpack(const uint8_t *msg, size_t n, Fcall *f, char *strs, size_t nstrs)
{
	Rd r = { msg, msg + n, strs, strs + nstrs, 0 };

	memset(f, 0, sizeof *f);
	if (get(&r, 4) != n)
		return -1;
	f->type = get(&r, 1);
	f->tag = get(&r, 2);
	switch (f->type) {
	case Tversion:
		f->msize = get(&r, 4);
		f->version = getstr(&r);
		break;
	case Tauth:
		f->afid = get(&r, 4);
		f->uname = getstr(&r);
		f->aname = getstr(&r);
		break;
	case Tattach:
		f->fid = get(&r, 4);
		f->afid = get(&r, 4);
		f->uname = getstr(&r);
		f->aname = getstr(&r);
		break;
	case Tflush:
		f->oldtag = get(&r, 2);
		break;
	case Twalk:
		f->fid = get(&r, 4);
		f->newfid = get(&r, 4);
		f->nwname = get(&r, 2);
		if (f->nwname > Maxwelem)
			return r.bad ? -1 : 0;	/* well formed, but an error to answer */
		for (int i = 0; i < f->nwname; i++)
			f->wname[i] = getstr(&r);
		break;
	case Topen:
	case Topenfd:
		f->fid = get(&r, 4);
		f->mode = get(&r, 1);
		break;
	case Tcreate:
		f->fid = get(&r, 4);
		f->name = getstr(&r);
		f->perm = get(&r, 4);
		f->mode = get(&r, 1);
		break;
	case Tread:
		f->fid = get(&r, 4);
		f->offset = get(&r, 8);
		f->count = get(&r, 4);
		break;
	case Twrite:
		f->fid = get(&r, 4);
		f->offset = get(&r, 8);
		f->count = get(&r, 4);
		f->data = getbytes(&r, f->count);
		break;
	case Tclunk:
	case Tremove:
	case Tstat:
		f->fid = get(&r, 4);
		break;
	case Twstat:
		f->fid = get(&r, 4);
		f->nstat = get(&r, 2);
		f->stat = getbytes(&r, f->nstat);
		break;
	/* the replies a client (p9dial.c) reads */
	case Rversion:
		f->msize = get(&r, 4);
		f->version = getstr(&r);
		break;
	case Rattach:
	case Rauth:
		f->qid.type = get(&r, 1);
		f->qid.vers = get(&r, 4);
		f->qid.path = get(&r, 8);
		break;
	case Rerror:
		f->ename = getstr(&r);
		break;
	case Rwalk:
		f->nwqid = get(&r, 2);
		if (f->nwqid > Maxwelem)
			return -1;
		for (int i = 0; i < f->nwqid; i++) {
			f->wqid[i].type = get(&r, 1);
			f->wqid[i].vers = get(&r, 4);
			f->wqid[i].path = get(&r, 8);
		}
		break;
	case Ropen:
		f->qid.type = get(&r, 1);
		f->qid.vers = get(&r, 4);
		f->qid.path = get(&r, 8);
		f->iounit = get(&r, 4);
		break;
	case Rwrite:
		f->count = get(&r, 4);
		break;
	case Rread:
		f->count = get(&r, 4);
		f->data = getbytes(&r, f->count);
		break;
	case Rclunk:
		break;
	default:
		return -1;
	}
	return r.bad || r.p != r.end ? -1 : 0;
}

typedef struct Wr Wr;
struct Wr {
	uint8_t	*p, *end;
	int	full;
};

static void
put(Wr *w, uint64_t v, int n)
{
	if (w->full || w->end - w->p < n) {
		w->full = 1;
		return;
	}
	for (int i = 0; i < n; i++)
		w->p[i] = v >> (8 * i);
	w->p += n;
}

static void
putbytes(Wr *w, const void *p, size_t n)
{
	if (w->full || (size_t)(w->end - w->p) < n) {
		w->full = 1;
		return;
	}
	if (n)
		memmove(w->p, p, n);	/* replies may be built in place */
	w->p += n;
}

static void
putstr(Wr *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > 0xFFFF) {
		w->full = 1;
		return;
	}
	put(w, n, 2);
	putbytes(w, s, n);
}

static void
putqid(Wr *w, const Qid *q)
{
	put(w, q->type, 1);
	put(w, q->vers, 4);
	put(w, q->path, 8);
}

/* the encoded message (an R-message, or a client's T-message), or 0 if it does not fit */
size_t
p9_pack(const Fcall *f, uint8_t *buf, size_t max)
{
	Wr w = { buf, buf + max, 0 };

	put(&w, 0, 4);	/* size, filled in below */
	put(&w, f->type, 1);
	put(&w, f->tag, 2);
	switch (f->type) {
	case Rversion:
		put(&w, f->msize, 4);
		putstr(&w, f->version);
		break;
	case Rauth:
	case Rattach:
		putqid(&w, &f->qid);
		break;
	case Rerror:
		putstr(&w, f->ename);
		break;
	case Rwalk:
		put(&w, f->nwqid, 2);
		for (int i = 0; i < f->nwqid; i++)
			putqid(&w, &f->wqid[i]);
		break;
	case Ropen:
	case Rcreate:
		putqid(&w, &f->qid);
		put(&w, f->iounit, 4);
		break;
	case Ropenfd:
		putqid(&w, &f->qid);
		put(&w, f->iounit, 4);
		put(&w, f->unixfd, 4);
		break;
	case Rread:
		put(&w, f->count, 4);
		putbytes(&w, f->data, f->count);
		break;
	case Rwrite:
		put(&w, f->count, 4);
		break;
	case Rstat:
		put(&w, f->nstat, 2);
		putbytes(&w, f->stat, f->nstat);
		break;
	case Rflush:
	case Rclunk:
	case Rremove:
	case Rwstat:
		break;
	/* the requests a client (p9dial.c) sends */
	case Tversion:
		put(&w, f->msize, 4);
		putstr(&w, f->version);
		break;
	case Tattach:
		put(&w, f->fid, 4);
		put(&w, f->afid, 4);
		putstr(&w, f->uname);
		putstr(&w, f->aname);
		break;
	case Twalk:
		put(&w, f->fid, 4);
		put(&w, f->newfid, 4);
		put(&w, f->nwname, 2);
		for (int i = 0; i < f->nwname && i < Maxwelem; i++)
			putstr(&w, f->wname[i]);
		break;
	case Topen:
		put(&w, f->fid, 4);
		put(&w, f->mode, 1);
		break;
	case Tread:
		put(&w, f->fid, 4);
		put(&w, f->offset, 8);
		put(&w, f->count, 4);
		break;
	case Twrite:
		put(&w, f->fid, 4);
		put(&w, f->offset, 8);
		put(&w, f->count, 4);
		putbytes(&w, f->data, f->count);
		break;
	case Tclunk:
		put(&w, f->fid, 4);
		break;
	default:
		return 0;
	}
	if (w.full)
		return 0;
	size_t n = w.p - buf;
	for (int i = 0; i < 4; i++)
		buf[i] = n >> (8 * i);
	return n;
}

/* one directory entry, its own size field first; 0 if it does not fit */
size_t
p9_packdir(const P9dir *d, uint8_t *buf, size_t max)
{
	Wr w = { buf, buf + max, 0 };

	put(&w, 0, 2);
	put(&w, 0, 2);	/* type */
	put(&w, 0, 4);	/* dev */
	putqid(&w, &d->qid);
	put(&w, d->mode, 4);
	put(&w, d->atime, 4);
	put(&w, d->mtime, 4);
	put(&w, d->length, 8);
	putstr(&w, d->name);
	putstr(&w, d->uid);
	putstr(&w, d->gid);
	putstr(&w, d->muid);
	if (w.full)
		return 0;
	size_t n = w.p - buf;
	buf[0] = (n - 2) & 0xFF;
	buf[1] = (n - 2) >> 8;
	return n;
}

/* a directory entry as Twstat carries it; 0, or -1 if malformed */
int
p9_unpackdir(const uint8_t *p, size_t n, P9dir *d, char *strs, size_t nstrs)
{
	Rd r = { p, p + n, strs, strs + nstrs, 0 };

	memset(d, 0, sizeof *d);
	if (get(&r, 2) != n - 2)
		return -1;
	get(&r, 2);
	get(&r, 4);
	d->qid.type = get(&r, 1);
	d->qid.vers = get(&r, 4);
	d->qid.path = get(&r, 8);
	d->mode = get(&r, 4);
	d->atime = get(&r, 4);
	d->mtime = get(&r, 4);
	d->length = get(&r, 8);
	d->name = getstr(&r);
	d->uid = getstr(&r);
	d->gid = getstr(&r);
	d->muid = getstr(&r);
	return r.bad || r.p != r.end ? -1 : 0;
}
