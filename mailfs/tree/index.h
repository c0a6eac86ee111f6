/*
 * The index's own parts, shared by its files and by nothing else: the
 * store (index_db.c, SQLite lives there and nowhere else), what the
 * builder knows of each open box (index.c), summaries (index_sum.c)
 * and the query language (index_query.c).  tree.h has what the rest of
 * the tree calls.
 */
#ifndef MAILFS_INDEX_H
#define MAILFS_INDEX_H

#include "tree/tree.h"

enum {
	Partbits = 16,	/* a words row is doc << Partbits | part index */
	Maxidxparts = 1 << Partbits,
};

/* the columns of a words row, in the store's order */
enum { Cfrom, Cto, Ccc, Csubject, Cfilename, Cbody, Cattach, Ncols };

/* one row of words: a part's, by column */
typedef struct Wrow Wrow;
struct Wrow {
	uint32_t	part;
	Buf	cols[Ncols];
};

/* what the store says of one message */
typedef struct Idoc Idoc;
struct Idoc {
	int64_t	doc;	/* its row; 0: none */
	int64_t	date;	/* Msg.date, the stat time of its files */
	uint16_t	hflags;	/* the flags its header says (Status, X-Status) */
};

/*
 * index_db.c: one store per box.  The reader side serves summaries (the
 * tree locked); the writer side, under idb_wlock, adds messages and
 * answers word queries, also over what went to memory when the disk
 * could not take it (idb_scan).  Neither is ever held while the tree
 * lock is taken.
 */
typedef struct Idb Idb;
Idb	*idb_open(const char *dir, const char *boxpath, const char *boxname);	/* dir NULL: in memory */
void	idb_close(Idb *db);
int	idb_find(Idb *db, const char *ident, Idoc *d);	/* reader: 1 found, 0 not */
int	idb_summary(Idb *db, int64_t doc, Buf *out);	/* reader: 0, or -1 */
void	idb_wlock(Idb *db);
void	idb_wunlock(Idb *db);
int	idb_wfind(Idb *db, const char *ident, Idoc *d);	/* writer: 1 found, 0 not */
int	idb_begin(Idb *db);
int	idb_commit(Idb *db);	/* -1 + err: the batch went nowhere (rolled back) */
void	idb_rollback(Idb *db);
void	idb_tidy(Idb *db);	/* writer: after a build */
int64_t	idb_add(Idb *db, const char *ident, const Idoc *d, const Buf *sum);	/* its doc, or -1 + err */
int	idb_words(Idb *db, int64_t doc, uint32_t part, Buf cols[Ncols]);
int	idb_match(Idb *db, const char *expr, void (*fn)(void *arg, int64_t doc), void *arg);	/* no phrases */
int	idb_tokens(Idb *db, const char *text, Buf *out);	/* its words, NUL-terminated: how many */
int	idb_phrase(Idb *db, const Wrow *rows, size_t n, const char *expr);	/* one message's rows: 1 if they match */
int	idb_fault(Idb *db);	/* after a failed write: 1 if new messages now go to memory */
int	idb_ondisk(Idb *db);	/* new messages still go to the file (not full, not broken) */
const char	*idb_path(Idb *db);	/* its file, or "memory" */

/* index_sum.c: a message's summary files, kept together */
int	sum_kind(int kind);	/* is a file of this kind kept in the index?  Its slot + 1, or 0 */
int	sum_make(Buf *out, Part *top, uint16_t *hflags);	/* 0, or -1: this one cannot be kept */
Blob	*sum_file(const char *sum, size_t n, int kind, uint16_t flags);	/* NULL: not in it */

/* index_words.c: the words of a message, a row per part that has any */
typedef void Wordsfn(void *arg, uint32_t part, Buf cols[Ncols]);
void	words_make(Msg *m, Wordsfn *fn, void *arg);

/* index_query.c: the search language, over one box's messages */
typedef struct Query Query;
Query	*query_parse(const char *s);	/* NULL + err (EINVAL, what is wrong) */
void	query_free(Query *q);
/* how the query asks the store and reads the messages it knows */
typedef struct Qenv Qenv;
struct Qenv {
	Idb	*db;
	/* docs to the numbers of the messages they are now (the rest dropped): how many */
	size_t	(*resolve)(void *arg, const int64_t *docs, size_t n, uint32_t *ids);
	/* every message now, ascending, with its flags and date */
	size_t	(*all)(void *arg, uint32_t **ids, uint16_t **flags, int64_t **dates);
	/* the messages of ids (n) that match expr, phrases and all, read again: how many kept */
	size_t	(*verify)(void *arg, uint32_t *ids, size_t n, const char *expr);
	void	*arg;
};
int	query_run(Query *q, const Qenv *env, uint32_t **ids, size_t *n);	/* ascending, malloc'd */

#endif
