/*
 * Prototypes, one heading per file, in layer order.  Unless a comment
 * says otherwise, functions returning int give 0 on success and -1 with
 * the error record (err.c) set; pointers returned are borrowed.
 */
#ifndef MAILFS_FNS_H
#define MAILFS_FNS_H

#include <stdarg.h>
#include <sys/types.h>
#include "dat.h"

#define nelem(a) (sizeof(a) / sizeof((a)[0]))

/* util.c: allocation aborts on failure rather than returning NULL */
void	*xmalloc(size_t n);
void	*xzalloc(size_t n);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);
void	bufadd(Buf *b, const void *p, size_t n);
void	bufputs(Buf *b, const char *s);
void	bufputc(Buf *b, int c);
void	bufprint(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	bufreset(Buf *b);
void	buffree(Buf *b);
void	linkout(Link *l);
void	linkfront(Link *head, Link *l);
size_t	crlftolf(char *p, size_t n);	/* in place; the new length */
void	hdrsplit(const char *p, size_t n, size_t *hdrlen, size_t *bodyoff);	/* LF or CRLF blank line */
int	iscrlf(const char *p, size_t n);	/* its first line ends in CRLF */
Blob	*blobnew(const void *p, size_t n);	/* caller holds the one reference */
Blob	*blobfrombuf(Buf *b);			/* empties b */
Blob	*blobref(Blob *b);
int	tokenize(char *s, char **f, int max);	/* Plan 9's: in place, '...' quotes; the count */
void	blobunref(Blob *b);

/* err.c: one error record per thread; code is an errno value */
int	seterr(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	errcode(void);
const char	*errmsg(void);

/* box.c: the open mailboxes and the backend registry */
Box	*box_open(const char *path, const char *name);
int	box_isurl(const char *s);
Box	*box_byid(uint32_t id);
Box	*box_byname(const char *name);
Box	*box_at(size_t i);	/* i-th box in the root listing, or NULL */
Msgent	*box_msg(Box *b, uint32_t id);	/* NULL if no such message */
size_t	box_msgindex(Box *b, uint32_t id);	/* index of the first id >= id */
void	box_add(Box *b, const Msgent *m);	/* assigns m's number */
void	box_closeall(void);
int	box_append(const char *path, const Mailmsg *m, size_t n);	/* by the kind of store at path */
char	*box_beside(Box *b, const char *name);	/* malloc'd, or NULL: b's kind has none */
void	box_plain(Box *b, Buf *out, const char *p, size_t n);	/* the bytes, b's quoting undone */
/*
 * Where passwords come from: set by the program (keys.c), asked by
 * backends.  fn fills pw and returns 0, or -1 with the error set.
 */
typedef int Passfn(const char *service, const char *server, const char *user, Buf *pw);
void	box_setpassfn(Passfn *fn);
int	box_password(const char *service, const char *server, const char *user, Buf *pw);

/* flags.c */
uint16_t	flags_fromfields(const char *status, const char *xstatus);
void	flags_string(Buf *out, uint16_t f);
void	flags_fields(Buf *out, uint16_t f);
int	flags_parse(const char *s, uint16_t *set, uint16_t *clear);

/* box_mbox.c */
extern const Boxops mboxops;
/* scanner, exposed for tests: calls fn for each message found in p[0..n) */
int	mbox_scan(const char *p, size_t n, int nthreads, void (*fn)(void *arg, const Msgent *m), void *arg);
int	mbox_fromline(const char *p, size_t n, int64_t *date);
void	mbox_unquote(Buf *dst, const char *p, size_t n);
void	mbox_quote(Buf *dst, const char *p, size_t n);

/* box_mboxwrite.c */
int	mbox_append(const char *path, const Buf *data);	/* whole mbox messages, under the locks */

/* box_maildir.c */
extern const Boxops maildirops;
int	maildir_isdir(const char *path);	/* has cur/, new/ and tmp/ */
int	maildir_append(const char *dir, const char *msg, size_t n);	/* one message, LF ends, no From_ line, into new/ */
char	*maildir_subfolder(const char *root, const char *name);	/* Maildir++ folder by name: malloc'd path, or NULL + err */

/* box_imap.c, imap_url.c, imap_tls.c */
extern const Boxops imapops;
void	imap_setca(const char *file);	/* trust this CA (a PEM file) for imaps://, not the system's */

/* msg.c: the bounded cache of parsed messages */
void	msg_init(size_t cachebytes);
Msg	*msg_get(Box *b, uint32_t id);	/* counted reference; release with msg_put */
Msg	*msg_peek(Box *b, uint32_t id);	/* the same if cached, else NULL */
void	msg_put(Msg *m);
int	msg_whole(Msg *m);	/* raw is the whole message from here on */
Msg	*msg_detach(Box *b, uint32_t id);	/* read, kept out of the cache: to parse unlocked */
int	msg_adopt(Msg *m);	/* into the cache (1), or freed if its store changed (0) */
Part	*msg_part(Msg *m, uint32_t idx);	/* NULL if no such part */
void	msg_charge(Msg *m, size_t n);
void	msg_flush(void);
uint16_t	msg_flags(Msg *m);
int	msg_setflags(Box *b, uint32_t id, uint16_t set, uint16_t clear);
void	msg_forget(Box *b, uint32_t id);	/* drop it from the cache: its bytes changed */

/* part.c: the MIME tree of a message */
int	part_build(Msg *m);	/* the top entity, from the header alone */
int	part_full(Msg *m);	/* the whole MIME tree */
int	part_fill(Part *p, int below);	/* a skeleton's content of p (and below): fetched */
void	part_free(Msg *m);
const char	*part_typename(Part *p, char *buf, size_t n);	/* lowercase type/subtype */
void	*part_mimeobj(Part *p);	/* GMimeObject with the content's MIME headers */
Hdr	*part_hdr(Part *p);	/* envelope fields, or NULL for a part that is no message */
void	*part_ctype(Part *p);	/* GMimeContentType, or NULL */
void	*part_cdisp(Part *p);	/* GMimeContentDisposition, or NULL */
void	*part_opts(void);	/* the GMimeParserOptions mailfs decodes with */
const char	*part_disposition(Part *p);	/* Content-Disposition's word, or NULL */
const char	*part_filename(Part *p);	/* as sent (filename=, else name=), or NULL */

/* hdr.c: header fields, and their values as the spec's files want them */
void	hdr_parse(Hdr *h, const char *p, size_t n);	/* a raw header block */
void	hdr_fromgmime(Hdr *h, void *gmessage);
void	hdr_free(Hdr *h);
const char	*hdr_get(Hdr *h, const char *name);	/* first raw value, or NULL */
int	hdr_count(Hdr *h, const char *name);	/* fields of that name */
void	hdr_pairs(Buf *out, Hdr *h, int which);
void	hdr_value(Buf *out, Hdr *h, const char *name);	/* unfolded, trimmed */
void	hdr_decoded(Buf *out, Hdr *h, const char *name);	/* RFC 2047-decoded too */
void	hdr_text(Buf *out, const char *raw);
void	hdr_all(Buf *out, Hdr *h);
void	hdr_ctime(Buf *out, int64_t secs);
char	*hdr_fold(const char *p, size_t n);	/* case-folded valid UTF-8, malloc'd */
int64_t	hdr_date(const char *value);	/* 0 when unparsable */
void	*hdr_addresses(Hdr *h, const char *name);	/* InternetAddressList of every such field, caller unrefs; or NULL */
enum { Afrom, Ato, Acc, Abcc, Areplyto, Asender };

/* body.c: decoded bodies */
void	body_decode(Buf *out, Part *p);
void	body_utf8(Buf *out, const char *p, size_t n, const char *charset);
void	body_serialize(Buf *out, void *gmimeobject);

/* files.c: the files of a message or part directory */
enum { Ftop = 1, Fpart = 2 };
int	file_count(void);
const char	*file_name(int kind);	/* kind 1..file_count() */
int	file_kind(const char *name);	/* 0 if none */
int	file_mode(int kind);
int	file_where(int kind);		/* Ftop|Fpart */
int	file_how(int kind);		/* a top-level one's write behaviour: Hread, Hflags */
Blob	*file_content(Part *p, int kind);	/* counted reference, or NULL + err */
void	file_flagschanged(Box *b, uint32_t id);
void	file_gen(Buf *out, Part *p, int kind);	/* appended, without caching it */
int	file_search(Msg *m, const char *query);	/* in its header or a text body? */

/* info.c */
void	info_make(Buf *out, Part *p);
void	info_digest(Buf *out, const char *p1, size_t n1, const char *p2, size_t n2);
void	info_flags(Buf *out, Msg *m);

/* ctl.c: commands to ctl files; Ctlcmd is opaque */
typedef struct Ctlcmd Ctlcmd;
Ctlcmd	*ctl_parse(Qpath q, const char *line, size_t n);	/* caller frees */
int	ctl_apply(Ctlcmd **cmds, size_t n);
void	ctl_free(Ctlcmd *c);
void	ctl_readonly(void);	/* -r: changes fail with EROFS */
int	ctl_removemsg(Qpath msgdir);	/* delete a message, at once */
int	ctl_writeflags(Qpath flagsfile, const char *data, size_t n);	/* applied at once */
int	ctl_markseen(Qpath file);	/* its message is read: seen, stored */

/* watch.c: new mail */
int	watch_start(void);
void	watch_add(Box *b);
int	watch_sync(Box *b);	/* take in b's new mail now; the tree locked */

/* container.c: file contents as descriptors, costly ones cached on disk */
int	container_init(const char *base, uint64_t bytes);
void	container_cleanup(void);
int	container_get(Qpath q);	/* a descriptor on q's cached content, or -1 */
int	container_put(Qpath q, const Blob *b, int wantfd);
int	container_mem(const Blob *b);	/* a new memfd holding b, or -1 + err */

/* tree.c: the file tree both transports serve; all calls take the tree lock */
enum {	/* what a file is to an open of it: the write behaviours of the file table */
	Hdir,	/* a directory: listed, not opened as a file */
	Hread,	/* content fixed for the open */
	Hflags,	/* the same, and a write changes the message's flags at once */
	Hctl,	/* commands */
	Hsearch,	/* a query per write, its answer read back */
};
int	tree_how(Qpath q);
uint32_t	tree_vers(Qpath q);	/* the qid version: cheap, nothing made */
int	tree_marksseen(Qpath q);	/* does reading it read the message (body, raw)? */
void	tree_init(void);
int	tree_walk(Qpath dir, const char *name, Qpath *q);
int	tree_stat(Qpath q, Dirinfo *d);
int	tree_readdir(Qpath dir, uint64_t off,
		int (*fn)(void *arg, const Dirinfo *d, uint64_t next), void *arg);
Blob	*tree_read(Qpath q);	/* whole content; counted reference */
int	tree_open(Qpath q);	/* a container of the content: the caller closes it; or -1 */
Blob	*tree_made(Qpath q);	/* the content if made and cached, else NULL; counted */
int	tree_openmode(Qpath q, int write);	/* may a file be opened so? */
int	tree_costly(Qpath q);	/* was its content costly to make? */
int	tree_exists(Qpath q);	/* 0 if still there, else -1 + err; cheap */
int	tree_msgdir(Qpath q, Qpath *ctl, uint32_t *id);
int	tree_flagsfile(Qpath q, Qpath *ctl, uint32_t *id);
int	tree_msgfile(Qpath q, Qpath *ctl, uint32_t *id);
Blob	*tree_search(Qpath q, const char *query, size_t n);	/* counted reference */
void	tree_lock(void);
void	tree_unlock(void);
Box	*tree_boxof(Qpath q);	/* the box of a box's ctl file; NULL for the root's */
/*
 * A message came (new) or went, or the content of file q changed; the
 * transports' watchers hear of it as (directory, name, Wnew or Wgone)
 * or (file, NULL, Wmodified).
 */
enum { Wgone, Wnew, Wmodified };
void	tree_changed(Box *b, uint32_t id, int new);
void	tree_modified(Box *b, uint32_t id);
void	tree_boxchanged(Box *b, int new);
void	tree_watch(void (*fn)(Qpath q, const char *name, int what));
#define QROOT ((Qpath)0)

/*
 * ofile.c: one open of a file, for both transports.  The policy is the
 * transport's: Obatch, ctl lines are checked when written and applied at
 * close, all or none (the mount); Oseen, reading a message's body or raw
 * marks it seen.  Functions returning int give 0 or -1 + err.
 */
typedef struct Ofile Ofile;
enum { Obatch = 1 << 0, Oseen = 1 << 1 };
Ofile	*ofile_open(Qpath q, int write, int policy);	/* NULL + err; the caller closes it */
int	ofile_fixed(Ofile *f);	/* its content is fixed for the open (cacheable) */
int	ofile_stream(Ofile *f);	/* writes are a stream of commands: no seeking */
int	ofile_make(Ofile *f);	/* make the content now */
int	ofile_content(Ofile *f, Blob **b, int *fd);	/* made if not: a counted Blob, or a borrowed descriptor */
void	ofile_forget(Ofile *f);	/* a small content is made again at the next read */
ssize_t	ofile_read(Ofile *f, void *p, size_t n, uint64_t off);	/* bytes, or -1 + err */
int	ofile_fd(Ofile *f);	/* a descriptor of the content for the caller to own, or -1 + err */
int	ofile_write(Ofile *f, const void *p, size_t n);
int	ofile_flush(Ofile *f);	/* Obatch: apply what this open wrote; its error, or a refused write's */
void	ofile_close(Ofile *f);	/* applies what is left, and frees */

/* prefetch.c: read-ahead of a file asked for in message after message */
void	prefetch_start(void);
void	prefetch_hint(Box *b, uint32_t id, int kind);	/* the tree locked */
void	prefetch_stop(void);	/* before the boxes go */
size_t	prefetch_made(void);	/* messages made ahead and cached, ever */

#endif
