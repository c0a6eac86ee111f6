/*
 * A small 9P client for the services mailfs itself dials in the
 * namespace directory: the plumber (plumb.c) and factotum (keys.c).
 * One outstanding request at a time; every call gives up after a few
 * seconds, so a stuck peer cannot stop us.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "tree/tree.h"
#include "p9.h"
#include "srv.h"

static int
rpc(P9conn *c, Fcall *t, Fcall *r)
{
	size_t n = p9_pack(t, c->buf, sizeof c->buf);
	uint8_t size[4];

	if (n == 0 || write(c->fd, c->buf, n) != (ssize_t)n || read(c->fd, size, 4) != 4)
		return -1;
	uint32_t m = size[0] | size[1] << 8 | size[2] << 16 | (uint32_t)size[3] << 24;
	if (m < 7 || m > sizeof c->buf)
		return -1;
	memcpy(c->buf, size, 4);
	for (size_t got = 4; got < m;) {
		ssize_t k = read(c->fd, c->buf + got, m - got);
		if (k <= 0)
			return -1;
		got += k;
	}
	if (p9_unpack(c->buf, m, r, c->strs, sizeof c->strs) < 0 || r->type != t->type + 1)
		return -1;
	return 0;
}

/* connect to the service posted as name, and attach fid 0 to its root */
int
p9c_dial(P9conn *c, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path - 32];
	Fcall t = { 0 }, r;

	c->fd = -1;
	if (srv_9p_nsdir(dir, sizeof dir) < 0)
		return -1;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", dir, name);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		p9c_close(c);
		return seterr(ENOENT, "no %s posted", name);
	}
	struct timeval tv = { 5, 0 };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	t.type = Tversion, t.tag = NOTAG, t.msize = sizeof c->buf, t.version = "9P2000";
	if (rpc(c, &t, &r) == 0) {
		memset(&t, 0, sizeof t);
		t.type = Tattach, t.tag = 1, t.fid = 0, t.afid = NOFID;
		t.uname = getenv("USER") ? getenv("USER") : "none", t.aname = "";
		if (rpc(c, &t, &r) == 0)
			return 0;
	}
	p9c_close(c);
	return seterr(EPROTO, "%s does not speak 9P", name);
}

/* walk from the root to name as fid, and open it */
int
p9c_open(P9conn *c, uint32_t fid, const char *name, int mode)
{
	Fcall t = { 0 }, r;

	t.type = Twalk, t.tag = 1, t.fid = 0, t.newfid = fid, t.nwname = 1, t.wname[0] = (char *)name;
	if (rpc(c, &t, &r) < 0 || r.nwqid != 1)
		return seterr(ENOENT, "%s: cannot walk there", name);
	memset(&t, 0, sizeof t);
	t.type = Topen, t.tag = 1, t.fid = fid, t.mode = mode;
	if (rpc(c, &t, &r) < 0)
		return seterr(EACCES, "%s: cannot open it", name);
	return 0;
}

int
p9c_write(P9conn *c, uint32_t fid, const void *p, size_t n)
{
	Fcall t = { 0 }, r;

	if (n > sizeof c->buf - Iohdr)
		return seterr(EMSGSIZE, "9P write too long");
	t.type = Twrite, t.tag = 1, t.fid = fid, t.count = n, t.data = p;
	if (rpc(c, &t, &r) < 0)
		return seterr(EIO, "9P write refused");
	return 0;
}

/* one read at offset 0, as a ctl or rpc file wants: the count, or -1 */
ssize_t
p9c_read(P9conn *c, uint32_t fid, void *p, size_t n)
{
	Fcall t = { 0 }, r;

	if (n > sizeof c->buf - Iohdr)
		n = sizeof c->buf - Iohdr;
	t.type = Tread, t.tag = 1, t.fid = fid, t.offset = 0, t.count = n;
	if (rpc(c, &t, &r) < 0)
		return seterr(EIO, "9P read refused");
	n = r.count < n ? r.count : n;
	memcpy(p, r.data, n);
	return n;
}

/* the peer clunks what a gone client left */
void
p9c_close(P9conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
