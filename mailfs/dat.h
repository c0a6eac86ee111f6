/*
 * The data model of mailfs, in layer order: utilities and the error
 * record, then mailbox backends (Box, Msgent, Boxops), then the message
 * model (Msg, Part, Blob), then the transport-neutral file tree (Qid
 * paths, Dirinfo).  A layer uses only the types above it here.
 */
#ifndef MAILFS_DAT_H
#define MAILFS_DAT_H

#include <stdint.h>
#include <stddef.h>
#include <time.h>

/* A growable byte string.  p is NUL-terminated whenever cap > 0. */
typedef struct Buf Buf;
struct Buf {
	char	*p;
	size_t	n;
	size_t	cap;
};

/* A link of an intrusive list; an empty list is a head linked to itself. */
typedef struct Link Link;
struct Link {
	Link	*prev;
	Link	*next;
};
#define LISTINIT(head)	{ &(head), &(head) }
#define OUTER(p, type, field)	((type *)((char *)(p) - offsetof(type, field)))

/*
 * Generated file content: immutable once made, shared by reference
 * between the message cache and open files.
 */
typedef struct Blob Blob;
struct Blob {
	int	ref;	/* atomic */
	size_t	n;
	char	p[];	/* n bytes, then a NUL for convenience */
};

/*
 * The fields of a message header, in order: names and raw values
 * (folded as stored), kept as offsets into one string.
 */
typedef struct Hdr Hdr;
typedef struct Hdrfield Hdrfield;
struct Hdrfield {
	uint32_t	name;	/* offsets into Hdr.s, NUL-terminated */
	uint32_t	value;
};
struct Hdr {
	Hdrfield	*f;
	int	n;
	Buf	s;
	void	*lists[6];	/* InternetAddressList by hdr_pairs kind, once parsed */
	uint8_t	parsed[6];
};

/* ---- mailbox backends ---- */

typedef struct Box Box;
typedef struct Boxops Boxops;
typedef struct Msgent Msgent;
typedef struct Cred Cred;

/* what a backend logs in with: a password, or an OAuth2 access token */
struct Cred {
	Buf	secret;	/* wiped before it is freed */
	int	token;	/* secret is a bearer token from the key's token command */
};

/*
 * One index entry per message, kept for the whole mailbox: it must stay
 * small, since everything else about a message is derived on demand.
 */
struct Msgent {
	union {
		uint64_t	off;	/* mbox: offset of the message (its From_ line) */
		uint64_t	slot;	/* Maildir: its file name's slot in the backend's table */
	};
	uint64_t	len;	/* bytes from off to its end, the mbox separator excluded */
	int64_t		date;	/* seconds, from the envelope (From_ line); 0 unknown */
	uint32_t	id;	/* message number: ascending, never reused */
	uint32_t	envlen;	/* length of the envelope line with its line end; 0 none */
	uint8_t		crlf;	/* mbox: the envelope line ends in CRLF (so the separator does) */
	uint8_t		dirty;	/* flags were changed here: the store must learn them */
	uint16_t	flags;	/* with dirty: the message's flags */
	uint32_t	key;	/* what finds it again in its store: mbox, a hash of the
				 * envelope line (in a rewritten file); IMAP, the UID */
};

enum {	/* message flags, bits in the order of the letters aDdfrsS */
	Fanswered = 1 << 0,
	Fdeleted = 1 << 1,
	Fdraft = 1 << 2,
	Fflagged = 1 << 3,
	Frecent = 1 << 4,
	Fseen = 1 << 5,
	Fstored = 1 << 6,
	Fjunk = 1 << 7,
	Fnotjunk = 1 << 8,
};

/* One message to append to a store: LF line ends, unquoted, no envelope. */
typedef struct Mailmsg Mailmsg;
struct Mailmsg {
	const char	*p;
	size_t	n;
	const char	*env;	/* its envelope line (mbox From_) with its LF; for stores that keep one */
	size_t	envn;
};

/*
 * A backend.  Every function returns 0 on success and -1 with the error
 * record set.  The backend owns Box.aux.
 */
struct Boxops {
	const char	*name;
	/* 1 if path is this backend's kind of mailbox, 0 if not */
	int	(*probe)(const char *path);
	/* open the store and fill b->msgs */
	int	(*open)(Box *b);
	void	(*close)(Box *b);
	/*
	 * Read message m: raw gets the message without its envelope line,
	 * LF line ends, mbox quoting kept as stored; env gets the envelope
	 * line with its LF, or nothing when the store has none.
	 */
	int	(*fetch)(Box *b, const Msgent *m, Buf *raw, Buf *env);
	/*
	 * Optional, where bytes are dear (IMAP): the header block alone,
	 * its blank line included; *whole is set if raw got the whole
	 * message instead (a local copy was at hand).
	 */
	int	(*fetchhdr)(Box *b, const Msgent *m, Buf *raw, int *whole);
	/*
	 * Optional, with fetchpart: the store parses MIME itself (IMAP).
	 * fetchskel gives the message with every leaf empty and an
	 * "X-Mailfs-Section:" field naming the section that holds its
	 * content, or returns 1 when the message has no skeleton (it is
	 * then parsed whole); fetchpart gives a section's bytes, as stored;
	 * exact: the section is sent as it is (7bit, 8bit, binary), so
	 * its bytes must come exactly, NULs and all.
	 */
	int	(*fetchskel)(Box *b, const Msgent *m, Buf *skel);
	int	(*fetchpart)(Box *b, const Msgent *m, const char *section, int exact, Buf *out);
	/* take in mail delivered since the last look: new messages get numbers */
	int	(*sync)(Box *b);
	/*
	 * Commit what changed: store the flags of the dirty entries, and
	 * remove the messages with these numbers from the store and the
	 * index.
	 */
	int	(*commit)(Box *b, const uint32_t *ids, size_t n);
	/*
	 * Optional: append messages to the store at path, which need not
	 * be open (save); with create, a path that does not exist yet
	 * becomes a store of this kind.
	 */
	int	(*append)(const char *path, const Mailmsg *m, size_t n);
	int	create;
	/*
	 * Optional: the store called name beside b (a Maildir++ folder, an
	 * IMAP folder), malloc'd; NULL when b's kind has none of that name.
	 */
	char	*(*beside)(Box *b, const char *name);
	/* Optional: the store's quoting undone (mboxrd), appended to out */
	void	(*unquote)(Buf *out, const char *p, size_t n);
	/*
	 * Start noticing changes to the store, in the serving process (any
	 * thread it needs starts here): a descriptor that polls readable
	 * when the store may have changed, to be drained with read(), or
	 * -1 when only a periodic look will tell.
	 */
	int	(*watch)(Box *b);
	/*
	 * Optional, for stores whose messages never change once stored
	 * (Maildir's unique names, IMAP's UIDVALIDITY and UID): a name
	 * that finds this message and no other, ever, appended to out.
	 * Without it the index knows a message by a digest of its bytes.
	 */
	void	(*ident)(Box *b, const Msgent *m, Buf *out);
	/* Msgent.flags always holds the flags; else they are in the header */
	int	indexflags;
};

struct Box {
	char		*name;	/* name in the tree, e.g. "mbox" */
	char		*path;	/* absolute path of the store */
	const Boxops	*ops;
	void		*aux;	/* backend state */
	uint32_t	id;	/* box number in qid paths; never reused */
	Msgent		*msgs;	/* ascending id */
	size_t		nmsgs;
	size_t		capmsgs;
	uint32_t	nextid;	/* next message number to hand out */
	uint32_t	vers;	/* bumped on every change of the message set */
	time_t		mtime;	/* last change */
	int		opened;	/* by a ctl open, so a ctl close may close it */
	int		closed;	/* left the root; kept while fids may refer to it */
	int		notify;	/* from Boxops.watch: -1 until watched, or none */
};

/* ---- message model ---- */

enum {	/* Part entities (Part.entity): one directory each */
	Kmessage,	/* a whole message: top level, or child 1 of an rfc822 part */
	Kmultipart,	/* a multipart/x part below a message */
	Krfc822,	/* a message/rfc822 part: one child, the inner message */
	Kleaf,		/* anything else */
};

typedef struct Msg Msg;
typedef struct Part Part;
enum { Maxfiles = 32 };	/* file kinds of a message or part directory are 1..Maxfiles-1 */

struct Part {
	Msg	*msg;		/* borrowed: the Part lives and dies with its Msg */
	Part	*parent;
	Part	**kids;
	int	nkids;
	int	num;		/* number within parent, from 1; 0 for the top */
	uint32_t	idx;	/* depth-first index within the message, top = 0 */
	int	entity;	/* Kmessage, Kmultipart, Krfc822, Kleaf */
	void	*obj;		/* GMimeObject of the entity (message or part) */
	void	*env;		/* the inner GMimeMessage of an rfc822 part or its child 1 */
	Hdr	*hdr;		/* envelope fields of a message entity; see part_hdr */
	void	*ctype;		/* top only: GMimeContentType parsed from hdr */
	void	*cdisp;		/* top only: GMimeContentDisposition, or NULL */
	Blob	*files[Maxfiles];	/* generated contents, by file kind (files.c); NULL until made */
	char	*section;	/* of a skeleton's leaf: the store's name of its content */
	int	filled;		/* that content is in obj */
};

struct Msg {
	Box	*box;		/* borrowed */
	uint32_t	id;
	int	ref;		/* users besides the cache */
	Buf	raw;		/* as Boxops.fetch gives it */
	Buf	env;		/* envelope line with LF, or synthesized */
	size_t	hdrlen;		/* bytes of raw in the header, blank line excluded */
	size_t	bodyoff;	/* offset of the body in raw */
	int	partial;	/* raw is the header alone, from Boxops.fetchhdr: see msg_whole */
	int	skeletal;	/* parts come from Boxops.fetchskel: see part_fill */
	int64_t	date;		/* seconds; see msg_date() */
	void	*gm;		/* GMimeMessage: of the header only until full */
	int	full;		/* gm is the whole message and parts[] complete */
	Part	**parts;	/* depth-first; parts[0] is the top entity */
	uint32_t	nparts;
	size_t	cost;		/* bytes charged against the cache */
	int	cached;		/* in the cache, its cost counted in the budget */
	Msgent	*snap;		/* detached (msg_detach): its index entry when it was read */
	Link	lru;		/* in the cache's list, most recent first */
	Msg	*hnext;		/* cache hash chain */
};

/* ---- file tree ---- */

/*
 * A qid path names one file for its whole life and is never reused:
 *	box(8) | message(32) | part(18) | kind(6)
 * Box 0 is the root directory; kind 0 is a directory.  Part is the
 * depth-first index, which is stable because messages never change.
 */
typedef uint64_t Qpath;

enum {
	Qdir = 0,
	Qctl = 63,	/* the ctl file of the root or of a box */
	Qsearch = 62,	/* a box's search file */
	Qthreads = 61,	/* a box's threads file */
	Qindex = 60,	/* a box's index file: how far its index is */
	Qbits_kind = 6,
	Qbits_part = 18,
	Qbits_msg = 32,
};

/* What a transport needs to know of one file. */
typedef struct Dirinfo Dirinfo;
struct Dirinfo {
	Qpath		q;
	int		isdir;
	uint32_t	mode;	/* permission bits only */
	uint64_t	length;
	int64_t		mtime;
	uint32_t	vers;
	char		name[32];
};

#endif
