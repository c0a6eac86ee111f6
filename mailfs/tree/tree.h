/*
 * The file tree and what it serves: the file table, the ctl grammar,
 * open files, new mail, containers and read-ahead.  The transports call
 * this layer and nothing below it.
 */
#ifndef MAILFS_TREE_H
#define MAILFS_TREE_H

#include "model/model.h"

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

/* thread.c: threads from message summaries (the strings are borrowed) */
typedef struct Tmsg Tmsg;
struct Tmsg {
	uint32_t	num;	/* message number */
	int64_t	date;
	const char	*msgid;	/* "<...>", or NULL */
	const char	**refs;	/* the parents' ids, oldest first: References, else In-Reply-To */
	size_t	nrefs;
	const char	*subject;	/* decoded, or NULL */
};
/* "depth\tnumber\n" a message, "depth\t-\n" a placeholder, newest thread first; only: its thread alone */
void	thread_make(Buf *out, const Tmsg *m, size_t n, uint32_t only);

/* threads.c: the threads files of a box, from its messages' summaries; the tree locked */
void	threads_make(Buf *out, Box *b, uint32_t only);	/* only: that message's thread */
void	threads_forget(Box *b, uint32_t id);	/* the message went */
void	threads_forgetbox(Box *b);	/* the box closes */

/*
 * index.c: every open box's summaries and words in a store of its own
 * (SQLite, under the cache directory), built on the other core.
 */
void	index_setdir(const char *dir);	/* before index_start; "none": kept in memory */
int	index_start(void);	/* stores for the boxes open, and the builder: 0, or -1 + err */
void	index_wake(void);	/* mail came or a box opened */
void	index_stop(void);	/* before the boxes go */
int	index_sync(Box *b);	/* index all of b now, in this thread */
Blob	*index_file(Box *b, const Msgent *e, int kind, int64_t *mtime);	/* the tree locked; NULL: not indexed */
void	index_status(Buf *out, Box *b);	/* the index file; the tree locked */
Blob	*index_search(Box *b, const char *query, size_t n);	/* b NULL: every box; NULL + err */

/* watch.c: new mail */
int	watch_start(void);
void	watch_add(Box *b);
int	watch_sync(Box *b);	/* take in b's new mail now; the tree locked */

/* container.c: file contents as descriptors, costly ones cached on disk */
int	container_init(const char *base, uint64_t bytes);
int	container_large(const char *base, uint64_t bytes);	/* contents of 1 MB and up: a disk file system */
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
	Hlive,	/* made at each open from the whole box (threads): served, never cached */
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
int	ofile_settled(Ofile *f);	/* fixed, and no write changes it: may be handed to the kernel */
int	ofile_stream(Ofile *f);	/* writes are a stream of commands: no seeking */
int	ofile_make(Ofile *f);	/* make the content now */
int	ofile_content(Ofile *f, Blob **b, int *fd);	/* made if not: a counted Blob, or a borrowed descriptor */
void	ofile_seen(Ofile *f);	/* Oseen: its message is read now, if reading it reads it */
void	ofile_forget(Ofile *f);	/* a small content is made again at the next read */
ssize_t	ofile_read(Ofile *f, void *p, size_t n, uint64_t off);	/* bytes, or -1 + err */
uint64_t	ofile_size(Ofile *f);	/* its content's length, made if not; 0 if none */
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
