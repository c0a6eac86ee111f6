/*
 * The index's store: one SQLite file per mailbox, in WAL mode so that
 * summaries are read (the reader connection) while the builder writes
 * (the writer connection).  It is a cache: a file of another schema, or
 * one SQLite cannot read, is started again with one line on stderr, and
 * so is one that breaks while in use.  When the disk is full, or the
 * file breaks, what is still to be indexed goes to a database in memory
 * ("scan", on the writer connection only) so that a search still sees
 * every message; summaries then come from the model for those.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include "tree/index.h"

enum {
	Schema = 2,	/* PRAGMA user_version: bump when a table changes */
	Scanbase = 1 << 30,	/* docs in memory start here, apart from the file's */
};

/*
 * Words keep the column they are in, not their places in it (detail=column):
 * half the size.  A phrase is looked for as its words, and the messages
 * that have them all are read again to see it (idb_phrase).
 */
#define TOKENIZE "tokenize='unicode61 remove_diacritics 2'"
#define COLUMNS "hfrom, hto, hcc, subject, filename, body, attachment"
static const char *tables =
	"CREATE TABLE IF NOT EXISTS %s.msgs(doc INTEGER PRIMARY KEY, ident TEXT UNIQUE NOT NULL,"
	" date INTEGER NOT NULL, hflags INTEGER NOT NULL, sum BLOB NOT NULL);"
	"CREATE VIRTUAL TABLE IF NOT EXISTS %s.words USING fts5(" COLUMNS ","
	" content='', columnsize=0, detail=column, " TOKENIZE ");";

struct Idb {
	char	*path;	/* the file, or NULL in memory */
	sqlite3	*rd, *wr;
	pthread_mutex_t	rlk, wlk;
	sqlite3_stmt	*rfind, *rsum, *wfind, *wadd, *wwords, *sfind, *sadd, *swords;
	sqlite3_stmt	*tokadd, *tokget, *tokdel, *chkadd, *chkdel;	/* the phrase tables, made when first needed */
	int	scan;	/* new messages go to memory: the file is full or broken */
	int	lastrc;	/* of the write that failed last */
	int	noticed;
};

static void
notice(Idb *db, const char *what)
{
	if (!db->noticed)
		fprintf(stderr, "mailfs: index %s: %s; what is not indexed yet is searched in memory\n",
			db->path ? db->path : "memory", what);
	db->noticed = 1;
}

static int
exec(sqlite3 *s, const char *sql)
{
	char *e = NULL;

	if (sqlite3_exec(s, sql, NULL, NULL, &e) != SQLITE_OK) {
		seterr(EIO, "index: %s", e ? e : sqlite3_errmsg(s));
		sqlite3_free(e);
		return -1;
	}
	return 0;
}

static int
mktables(sqlite3 *s, const char *schema)
{
	char *sql = sqlite3_mprintf(tables, schema, schema);
	int r = exec(s, sql);

	sqlite3_free(sql);
	return r;
}

static sqlite3_stmt *
prep(sqlite3 *s, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v3(s, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
		seterr(EIO, "index: %s", sqlite3_errmsg(s));
	return st;
}

/* the file's name: the box's, then a hash of its path, so two boxes of one name differ */
static char *
filename(const char *dir, const char *boxpath, const char *boxname)
{
	uint64_t h = 1469598103934665603ull;
	Buf b = { 0 };

	for (const char *p = boxpath; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	bufprint(&b, "%s/", dir);
	for (const char *p = boxname; *p && p - boxname < 40; p++)
		bufputc(&b, (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ? *p : '_');
	bufprint(&b, "-%016llx.db", (unsigned long long)h);
	return b.p;
}

static void
unlinkall(const char *path)
{
	char side[4096];

	unlink(path);
	snprintf(side, sizeof side, "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof side, "%s-shm", path);
	unlink(side);
}

/* the connections of a file that is ours and of this schema: 0, or -1 + err */
static int
connect(Idb *db, const char *uri)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;

	if (sqlite3_open_v2(uri, &db->wr, flags, NULL) != SQLITE_OK)
		return seterr(EIO, "%s", sqlite3_errmsg(db->wr));
	sqlite3_busy_timeout(db->wr, 10000);
	sqlite3_stmt *v = prep(db->wr, "PRAGMA user_version");
	if (v == NULL || sqlite3_step(v) != SQLITE_ROW) {
		seterr(EIO, "%s", sqlite3_errmsg(db->wr));
		sqlite3_finalize(v);
		return -1;
	}
	int vers = sqlite3_column_int(v, 0);
	sqlite3_finalize(v);
	sqlite3_stmt *n = prep(db->wr, "SELECT count(*) FROM sqlite_master");
	int empty = n && sqlite3_step(n) == SQLITE_ROW && sqlite3_column_int(n, 0) == 0;
	sqlite3_finalize(n);
	if (!empty && vers != Schema)
		return seterr(EPROTO, "schema version %d, not %d", vers, Schema);
	char pragmas[128];
	snprintf(pragmas, sizeof pragmas, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA user_version=%d;", Schema);
	if ((db->path && exec(db->wr, pragmas) < 0) || exec(db->wr, "PRAGMA cache_size=-4000") < 0 ||
	    mktables(db->wr, "main") < 0)
		return -1;
	if (sqlite3_open_v2(uri, &db->rd, flags, NULL) != SQLITE_OK)
		return seterr(EIO, "%s", sqlite3_errmsg(db->rd));
	sqlite3_busy_timeout(db->rd, 10000);
	exec(db->rd, "PRAGMA cache_size=-2000");
	if (db->path == NULL)
		exec(db->rd, "PRAGMA read_uncommitted=1");	/* shared cache: never wait for the writer */
	if (!(db->rfind = prep(db->rd, "SELECT doc, date, hflags FROM msgs WHERE ident = ?")) ||
	    !(db->rsum = prep(db->rd, "SELECT sum FROM msgs WHERE doc = ?")) ||
	    !(db->wfind = prep(db->wr, "SELECT doc, date, hflags FROM msgs WHERE ident = ?")) ||
	    !(db->wadd = prep(db->wr, "INSERT INTO msgs(ident, date, hflags, sum) VALUES(?, ?, ?, ?)")) ||
	    !(db->wwords = prep(db->wr, "INSERT INTO words(rowid, hfrom, hto, hcc, subject, filename, body, attachment)"
					" VALUES(?, ?, ?, ?, ?, ?, ?, ?)")))
		return -1;
	return 0;
}

static void
disconnect(Idb *db)
{
	sqlite3_stmt *all[] = { db->rfind, db->rsum, db->wfind, db->wadd, db->wwords, db->sfind, db->sadd, db->swords,
		db->tokadd, db->tokget, db->tokdel, db->chkadd, db->chkdel };

	for (size_t i = 0; i < nelem(all); i++)
		sqlite3_finalize(all[i]);
	db->rfind = db->rsum = db->wfind = db->wadd = db->wwords = db->sfind = db->sadd = db->swords = NULL;
	db->tokadd = db->tokget = db->tokdel = db->chkadd = db->chkdel = NULL;
	sqlite3_close(db->rd);
	sqlite3_close(db->wr);
	db->rd = db->wr = NULL;
}

/* a directory of ours: made 0700 if missing, refused if others may enter */
static int
ourdir(const char *dir)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof p, "%s", dir);
	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0700);
			*s = '/';
		}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return seterr(errno, "%s: %s", dir, strerror(errno));
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return seterr(ENOTDIR, "%s: not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 077))
		return seterr(EPERM, "%s: not a directory only its owner can enter", dir);
	return 0;
}

/* the file made 0600 before SQLite makes it (its -wal and -shm take its mode) */
static int
ourfile(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return seterr(errno, "%s: %s", path, strerror(errno));
	fchmod(fd, 0600);
	close(fd);
	return 0;
}

static int
openfile(Idb *db)
{
	char *uri = sqlite3_mprintf("file:%s", db->path);
	int r = ourfile(db->path) < 0 ? -1 : connect(db, uri);

	sqlite3_free(uri);
	return r;
}

/*
 * A store for the box at boxpath, never NULL: its file under dir when
 * that can be had (started again when it is of another schema or
 * unreadable), else in memory, said once on stderr.
 */
Idb *
idb_open(const char *dir, const char *boxpath, const char *boxname)
{
	Idb *db = xzalloc(sizeof *db);

	pthread_mutex_init(&db->rlk, NULL);
	pthread_mutex_init(&db->wlk, NULL);
	if (dir && ourdir(dir) == 0) {
		db->path = filename(dir, boxpath, boxname);
		if (openfile(db) == 0)
			return db;
		fprintf(stderr, "mailfs: index %s: %s: made again\n", db->path, errmsg());
		disconnect(db);
		unlinkall(db->path);
		if (openfile(db) == 0)
			return db;
		disconnect(db);
	}
	if (dir)
		fprintf(stderr, "mailfs: index of %s kept in memory: %s\n", boxname, errmsg());
	free(db->path);
	db->path = NULL;
	/* one database in memory that both connections see */
	char *uri = sqlite3_mprintf("file:mailfs-%p?mode=memory&cache=shared", (void *)db);
	if (connect(db, uri) < 0) {
		fprintf(stderr, "mailfs: index of %s: %s\n", boxname, errmsg());
		abort();	/* SQLite cannot make a database in memory: nothing works */
	}
	sqlite3_free(uri);
	return db;
}

void
idb_close(Idb *db)
{
	if (db == NULL)
		return;
	disconnect(db);
	pthread_mutex_destroy(&db->rlk);
	pthread_mutex_destroy(&db->wlk);
	free(db->path);
	free(db);
}

const char *
idb_path(Idb *db)
{
	return db->path ? db->path : "memory";
}

int
idb_ondisk(Idb *db)
{
	return !db->scan;
}

static int
find(sqlite3_stmt *st, const char *ident, Idoc *d)
{
	int found = 0;

	sqlite3_bind_text(st, 1, ident, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		d->doc = sqlite3_column_int64(st, 0);
		d->date = sqlite3_column_int64(st, 1);
		d->hflags = sqlite3_column_int(st, 2);
		found = 1;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return found;
}

int
idb_find(Idb *db, const char *ident, Idoc *d)
{
	pthread_mutex_lock(&db->rlk);
	int r = find(db->rfind, ident, d);
	pthread_mutex_unlock(&db->rlk);
	return r;
}

int
idb_summary(Idb *db, int64_t doc, Buf *out)
{
	int r = -1;

	pthread_mutex_lock(&db->rlk);
	sqlite3_bind_int64(db->rsum, 1, doc);
	if (sqlite3_step(db->rsum) == SQLITE_ROW) {
		bufadd(out, sqlite3_column_blob(db->rsum, 0), sqlite3_column_bytes(db->rsum, 0));
		r = 0;
	}
	sqlite3_reset(db->rsum);
	pthread_mutex_unlock(&db->rlk);
	return r;
}

void
idb_wlock(Idb *db)
{
	pthread_mutex_lock(&db->wlk);
}

void
idb_wunlock(Idb *db)
{
	pthread_mutex_unlock(&db->wlk);
}

/* the database in memory, for what the file cannot take */
static int
toscan(Idb *db, const char *why)
{
	notice(db, why);
	if (db->scan)
		return 0;
	if (exec(db->wr, "ATTACH 'file:mailfs-scan?mode=memory' AS scan") < 0 || mktables(db->wr, "scan") < 0)
		return -1;
	char sql[128];
	snprintf(sql, sizeof sql, "INSERT INTO scan.msgs(doc, ident, date, hflags, sum) VALUES(%d, '', 0, 0, '')", Scanbase);
	if (exec(db->wr, sql) < 0 ||
	    !(db->sfind = prep(db->wr, "SELECT doc, date, hflags FROM scan.msgs WHERE ident = ?")) ||
	    !(db->sadd = prep(db->wr, "INSERT INTO scan.msgs(ident, date, hflags, sum) VALUES(?, ?, ?, '')")) ||
	    !(db->swords = prep(db->wr, "INSERT INTO scan.words(rowid, hfrom, hto, hcc, subject, filename, body, attachment)"
					" VALUES(?, ?, ?, ?, ?, ?, ?, ?)")))
		return -1;
	db->scan = 1;
	return 0;
}

/* an error of SQLite's that means the file cannot go on: to memory from here */
static int
fault(Idb *db, int rc)
{
	if (db->scan || (rc != SQLITE_FULL && rc != SQLITE_CORRUPT && rc != SQLITE_NOTADB && rc != SQLITE_IOERR &&
			 (rc & 0xff) != SQLITE_IOERR && rc != SQLITE_READONLY))
		return 0;
	if (rc != SQLITE_FULL && db->path)
		unlinkall(db->path);	/* broken: the next start makes it again */
	toscan(db, rc == SQLITE_FULL ? "the disk is full" : sqlite3_errstr(rc));
	return 1;
}

/* a build done: the log folded into the file, so the disk holds one copy */
void
idb_tidy(Idb *db)
{
	if (db->path)
		sqlite3_exec(db->wr, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

int
idb_wfind(Idb *db, const char *ident, Idoc *d)
{
	return find(db->wfind, ident, d) || (db->scan && find(db->sfind, ident, d));
}

int
idb_begin(Idb *db)
{
	return exec(db->wr, "BEGIN");
}

int
idb_commit(Idb *db)
{
	int rc = sqlite3_exec(db->wr, "COMMIT", NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	db->lastrc = rc;
	seterr(rc == SQLITE_FULL ? ENOSPC : EIO, "index: %s", sqlite3_errstr(rc));
	idb_rollback(db);
	return -1;
}

void
idb_rollback(Idb *db)
{
	if (!sqlite3_get_autocommit(db->wr))
		sqlite3_exec(db->wr, "ROLLBACK", NULL, NULL, NULL);
}

int64_t
idb_add(Idb *db, const char *ident, const Idoc *d, const Buf *sum)
{
	sqlite3_stmt *st = db->scan ? db->sadd : db->wadd;

	sqlite3_bind_text(st, 1, ident, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, d->date);
	sqlite3_bind_int(st, 3, d->hflags);
	if (!db->scan)
		sqlite3_bind_blob(st, 4, sum->p ? sum->p : "", sum->n, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		db->lastrc = rc;
		seterr(rc == SQLITE_FULL ? ENOSPC : EIO, "index: %s", sqlite3_errstr(rc));
		return -1;
	}
	return sqlite3_last_insert_rowid(db->wr);
}

int
idb_words(Idb *db, int64_t doc, uint32_t part, Buf cols[Ncols])
{
	sqlite3_stmt *st = db->scan && doc >= Scanbase ? db->swords : db->wwords;

	sqlite3_bind_int64(st, 1, doc << Partbits | part);
	for (int i = 0; i < Ncols; i++)
		sqlite3_bind_text(st, i + 2, cols[i].p ? cols[i].p : "", cols[i].n, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		db->lastrc = rc;
		return seterr(rc == SQLITE_FULL ? ENOSPC : EIO, "index: %s", sqlite3_errstr(rc));
	}
	return 0;
}

static int
match1(Idb *db, const char *schema, const char *expr, void (*fn)(void *, int64_t), void *arg)
{
	char *sql = sqlite3_mprintf("SELECT rowid FROM %s.words WHERE words MATCH ?", schema);
	sqlite3_stmt *st = NULL;
	int64_t last = -1;

	if (sqlite3_prepare_v2(db->wr, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_free(sql);
		return seterr(EIO, "index: %s", sqlite3_errmsg(db->wr));
	}
	sqlite3_free(sql);
	sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t doc = sqlite3_column_int64(st, 0) >> Partbits;
		if (doc != last)	/* rows come in rowid order: a message's parts together */
			fn(arg, doc);
		last = doc;
	}
	int bad = rc != SQLITE_DONE;
	if (bad)
		seterr(EINVAL, "bad query: %s", sqlite3_errmsg(db->wr));
	sqlite3_finalize(st);
	return bad ? -1 : 0;
}

/* fn for each doc that has a row matching expr (FTS5's syntax), in the file and in memory */
int
idb_match(Idb *db, const char *expr, void (*fn)(void *arg, int64_t doc), void *arg)
{
	if (match1(db, "main", expr, fn, arg) < 0)
		return -1;
	return db->scan ? match1(db, "scan", expr, fn, arg) : 0;
}

/* a write failed: is the store now in memory (so the caller tries again there)? */
int
idb_fault(Idb *db)
{
	int rc = db->lastrc, was = db->scan;

	db->lastrc = 0;
	return fault(db, rc) && !was;
}

/*
 * The phrase tables, on the writer connection, in memory: tok splits a
 * text into the words the store has (its own tokenizer, through
 * fts5vocab), chk holds one message's rows at a time, with places, to
 * see a phrase in it.
 */
static int
phrasetables(Idb *db)
{
	if (db->chkdel)
		return 0;
	if (exec(db->wr, "CREATE VIRTUAL TABLE IF NOT EXISTS temp.tok USING fts5(x, " TOKENIZE ");"
			 "CREATE VIRTUAL TABLE IF NOT EXISTS temp.tokv USING fts5vocab(temp, tok, instance);"
			 "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chk USING fts5(" COLUMNS ", " TOKENIZE ");") < 0)
		return -1;
	if (!(db->tokadd = prep(db->wr, "INSERT INTO temp.tok(rowid, x) VALUES(1, ?)")) ||
	    !(db->tokget = prep(db->wr, "SELECT term FROM temp.tokv ORDER BY offset")) ||
	    !(db->tokdel = prep(db->wr, "DELETE FROM temp.tok")) ||
	    !(db->chkadd = prep(db->wr, "INSERT INTO temp.chk(" COLUMNS ") VALUES(?, ?, ?, ?, ?, ?, ?)")) ||
	    !(db->chkdel = prep(db->wr, "DELETE FROM temp.chk")))
		return -1;
	return 0;
}

static int
step1(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* text's words as the store has them, each NUL-terminated, in order: how many, or -1 + err */
int
idb_tokens(Idb *db, const char *text, Buf *out)
{
	int n = 0;

	if (phrasetables(db) < 0)
		return -1;
	sqlite3_bind_text(db->tokadd, 1, text, -1, SQLITE_STATIC);
	if (step1(db->tokadd) < 0)
		return seterr(EIO, "index: %s", sqlite3_errmsg(db->wr));
	while (sqlite3_step(db->tokget) == SQLITE_ROW) {
		bufputs(out, (const char *)sqlite3_column_text(db->tokget, 0));
		bufputc(out, 0);
		n++;
	}
	sqlite3_reset(db->tokget);
	step1(db->tokdel);
	return n;
}

/* do one message's rows (n of them) have a row matching expr (with phrases)?  1, 0, or -1 + err */
int
idb_phrase(Idb *db, const Wrow *rows, size_t n, const char *expr)
{
	if (phrasetables(db) < 0)
		return -1;
	for (size_t r = 0; r < n; r++) {
		for (int i = 0; i < Ncols; i++)
			sqlite3_bind_text(db->chkadd, i + 1, rows[r].cols[i].p ? rows[r].cols[i].p : "", rows[r].cols[i].n,
				SQLITE_STATIC);
		if (step1(db->chkadd) < 0)
			return seterr(EIO, "index: %s", sqlite3_errmsg(db->wr));
	}
	sqlite3_stmt *st = NULL;
	int found = -1;
	if (sqlite3_prepare_v2(db->wr, "SELECT 1 FROM temp.chk WHERE chk MATCH ? LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		found = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
	}
	if (found < 0)
		seterr(EINVAL, "bad query: %s", sqlite3_errmsg(db->wr));
	sqlite3_finalize(st);
	step1(db->chkdel);
	return found;
}
