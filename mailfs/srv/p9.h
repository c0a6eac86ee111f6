/*
 * The 9P2000 messages (plan9port's intro(9p)), and the codec of p9.c.
 * Only the transport srv_9p.c and the fuzz target include this.
 */
#ifndef MAILFS_P9_H
#define MAILFS_P9_H

#include <stdint.h>
#include <stddef.h>

enum {
	Topenfd = 98, Ropenfd,	/* plan9port: the reply comes with a descriptor */
	Tversion = 100, Rversion,
	Tauth, Rauth,
	Tattach, Rattach,
	Terror, Rerror,
	Tflush, Rflush,
	Twalk, Rwalk,
	Topen, Ropen,
	Tcreate, Rcreate,
	Tread, Rread,
	Twrite, Rwrite,
	Tclunk, Rclunk,
	Tremove, Rremove,
	Tstat, Rstat,
	Twstat, Rwstat,
};

enum {
	NOTAG = 0xFFFF,
	NOFID = 0xFFFFFFFF,
	Maxwelem = 16,
	QTDIR = 0x80,
	DMDIR = 0x80000000,
	OREAD = 0, OWRITE = 1, ORDWR = 2, OEXEC = 3, OTRUNC = 0x10, ORCLOSE = 0x40,
	Iohdr = 24,	/* bytes of an Rread or Twrite before the data */
};

typedef struct Qid Qid;
struct Qid {
	uint8_t		type;
	uint32_t	vers;
	uint64_t	path;
};

/*
 * One message.  In a decoded T-message the strings point into the
 * caller's string buffer and data into the message itself: both are
 * borrowed, valid while those buffers are.
 */
typedef struct Fcall Fcall;
struct Fcall {
	uint8_t		type;
	uint16_t	tag;
	uint32_t	fid;
	uint32_t	afid;		/* Tauth, Tattach */
	uint32_t	newfid;		/* Twalk */
	uint32_t	msize;		/* T/Rversion */
	char		*version;	/* T/Rversion */
	char		*uname;		/* Tauth, Tattach */
	char		*aname;		/* Tauth, Tattach */
	char		*ename;		/* Rerror */
	uint16_t	oldtag;		/* Tflush */
	uint16_t	nwname;		/* Twalk */
	char		*wname[Maxwelem];
	uint16_t	nwqid;		/* Rwalk */
	Qid		wqid[Maxwelem];
	Qid		qid;		/* Rattach, Ropen, Rcreate, Ropenfd */
	uint32_t	iounit;		/* Ropen, Rcreate, Ropenfd */
	uint32_t	unixfd;		/* Ropenfd */
	uint8_t		mode;		/* Topen, Tcreate, Topenfd */
	char		*name;		/* Tcreate */
	uint32_t	perm;		/* Tcreate */
	uint64_t	offset;		/* Tread, Twrite */
	uint32_t	count;		/* Tread, Twrite, Rread, Rwrite */
	const uint8_t	*data;		/* Twrite, Rread */
	uint16_t	nstat;		/* Twstat, Rstat */
	const uint8_t	*stat;
};

/* A directory entry as 9P carries it. */
typedef struct P9dir P9dir;
struct P9dir {
	Qid	qid;
	uint32_t	mode;
	uint32_t	atime;
	uint32_t	mtime;
	uint64_t	length;
	const char	*name, *uid, *gid, *muid;
};

/* p9.c */
int	p9_unpack(const uint8_t *msg, size_t n, Fcall *f, char *strs, size_t nstrs);
size_t	p9_pack(const Fcall *f, uint8_t *buf, size_t max);
size_t	p9_packdir(const P9dir *d, uint8_t *buf, size_t max);
int	p9_unpackdir(const uint8_t *p, size_t n, P9dir *d, char *strs, size_t nstrs);

#endif
