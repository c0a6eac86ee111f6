/*
 * The index: every summary file it serves is byte for byte the model's,
 * for every message of every box in testdata; the search language finds
 * what it must and nothing it must not, across charsets and transfer
 * encodings; a store of another schema, or a broken one, is made again.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glob.h>
#include <sqlite3.h>
#include "check.h"
#include "tree/index.h"

static char storedir[] = "/tmp/check_index.XXXXXX";

static void
setup(void)
{
	static int done;

	if (!done) {
		ck_assert_ptr_nonnull(mkdtemp(storedir));
		index_setdir(storedir);
		part_init();
		done = 1;
	}
}

static Box *
openbox(const char *path, const char *name)
{
	Box *b = box_byname(name);

	return b ? b : box_open(path, name);
}

/* every summary kind of every message of b: the index's equals the model's */
static size_t
compareall(Box *b)
{
	size_t compared = 0;

	ck_assert_int_eq(index_sync(b), 0);
	tree_lock();
	for (size_t i = 0; i < b->nmsgs; i++) {
		Msgent *e = &b->msgs[i];
		for (int k = 1; k <= file_count(); k++) {
			if (!sum_kind(k))
				continue;
			int64_t mtime = 0;
			Blob *got = index_file(b, e, k, &mtime);
			Msg *m = msg_get(b, e->id);
			ck_assert_ptr_nonnull(m);
			Blob *want = file_content(m->parts[0], k);
			ck_assert_msg(got != NULL, "%s/%u/%s: not served from the index", b->name, e->id, file_name(k));
			ck_assert_msg(got->n == want->n && memcmp(got->p, want->p, got->n) == 0,
				"%s/%u/%s: index %zu bytes \"%s\", model %zu bytes \"%s\"",
				b->name, e->id, file_name(k), got->n, got->p, want->n, want->p);
			ck_assert_int_eq(mtime, m->date ? m->date : e->date ? e->date : b->mtime);
			blobunref(got);
			blobunref(want);
			msg_put(m);
			compared++;
		}
		msg_flush();	/* the next message's model is made afresh */
	}
	tree_unlock();
	return compared;
}

START_TEST(summaries_match_the_model)
{
	const char *src = getenv("SRCDIR");
	char pat[4096];
	glob_t g;
	size_t compared = 0, boxes = 0;

	setup();
	snprintf(pat, sizeof pat, "%s/testdata/boxes/*.mbox", src && *src ? src : ".");
	ck_assert_int_eq(glob(pat, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char name[64];
		snprintf(name, sizeof name, "ix%zu", i);
		Box *b = openbox(g.gl_pathv[i], name);
		if (b == NULL)
			continue;	/* not a mailbox on purpose (format-notmbox) */
		compared += compareall(b);
		boxes++;
	}
	globfree(&g);
	snprintf(pat, sizeof pat, "%s/testdata/search.mbox", src && *src ? src : ".");
	compared += compareall(openbox(pat, "ixsearch"));
	ck_assert_uint_ge(boxes, 20);
	ck_assert_uint_ge(compared, 1000);
}
END_TEST

/* flags changed here (not yet in the store) are the ones info and flags say */
START_TEST(flags_of_the_moment)
{
	setup();
	Box *b = tbox("sample");
	ck_assert_int_eq(index_sync(b), 0);
	ck_assert_int_eq(msg_setflags(b, 2, Fflagged | Fanswered, 0), 0);
	tree_lock();
	int64_t t;
	Blob *f = index_file(b, box_msg(b, 2), file_kind("flags"), &t);
	Blob *info = index_file(b, box_msg(b, 2), file_kind("info"), &t);
	Msg *m = msg_get(b, 2);
	Blob *want = file_content(m->parts[0], file_kind("info"));
	tree_unlock();
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->p, "a--fr--");
	ck_assert_str_eq(info->p, want->p);
	ck_assert_ptr_nonnull(strstr(info->p, "\nflags a--fr--\n"));
	blobunref(f);
	blobunref(info);
	blobunref(want);
	tree_lock();
	msg_put(m);
	tree_unlock();
	ck_assert_int_eq(msg_setflags(b, 2, 0, Fflagged | Fanswered), 0);
}
END_TEST

static Box *
searchbox(void)
{
	const char *src = getenv("SRCDIR");
	char path[4096];

	setup();
	snprintf(path, sizeof path, "%s/testdata/search.mbox", src && *src ? src : ".");
	return openbox(path, "ixsearch");
}

/* the answer to q, or the error text */
static char *
ask(Box *b, const char *q)
{
	Blob *r = index_search(b, q, strlen(q));
	char *s = xstrdup(r ? r->p : errmsg());

	blobunref(r);
	return s;
}

#define ANSWER(b, q, want) do { \
	char *got_ = ask(b, q); \
	ck_assert_msg(strcmp(got_, want) == 0, "search %s: got \"%s\", want \"%s\"", q, got_, want); \
	free(got_); \
} while (0)

START_TEST(words_across_encodings)
{
	Box *b = searchbox();

	ANSWER(b, "quadrilateral", "1 4");	/* a QP soft break inside it; windows-1252 around it */
	ANSWER(b, "quadrilat", "");	/* whole words */
	ANSWER(b, "quadrilat*", "1 4");
	ANSWER(b, "café", "1");		/* ISO-8859-1 */
	ANSWER(b, "cafe", "1");		/* accents folded */
	ANSWER(b, "CAFÉ", "1");
	ANSWER(b, "hippopotamus", "2");	/* base64 line breaks inside it */
	ANSWER(b, "resume", "2");	/* an encoded word */
	ANSWER(b, "subject:résumé", "2");
	ANSWER(b, "from:jurgen", "2");
	ANSWER(b, "from:bäcker", "2");
	ANSWER(b, "naive", "4");	/* a raw Latin-1 subject */
	ANSWER(b, "okapi", "3");		/* HTML's text */
	ANSWER(b, "zebracss", "");	/* its style */
	ANSWER(b, "giraffescript", "");	/* its script */
	ANSWER(b, "aardvark", "3");	/* octet-stream that is text */
	ANSWER(b, "attachment:aardvark", "3");
	ANSWER(b, "body:aardvark", "");
	ANSWER(b, "pangolin", "");	/* octet-stream that is not */
	ANSWER(b, "attachment:quarterly", "3");	/* its file name */
	ANSWER(b, "filename:minutes", "3");
	ANSWER(b, "body:okapi", "3");
	ANSWER(b, "\"like these\"", "4");
	ANSWER(b, "\"these like\"", "");
	ANSWER(b, "\"soft breaks\"", "1");	/* a phrase in a subject */
	ANSWER(b, "subject:\"soft breaks\"", "1");
	ANSWER(b, "body:\"soft breaks\"", "");	/* in the words of the body, not next to each other */
	ANSWER(b, "\"like the*\"", "4");	/* a phrase ending in a prefix */
	ANSWER(b, "attachment:quarterly-report", "3");	/* one term of two words: a phrase */
	ANSWER(b, "quarterly-bin", "");
}
END_TEST

START_TEST(language)
{
	Box *b = searchbox();

	ANSWER(b, "quadrilateral okapi", "");
	ANSWER(b, "quadrilateral OR okapi", "1 3 4");
	ANSWER(b, "quadrilateral -naive", "1");
	ANSWER(b, "NOT quadrilateral", "2 3");
	ANSWER(b, "(okapi OR hippopotamus) example", "2 3");
	ANSWER(b, "is:flagged", "4");
	ANSWER(b, "is:read", "4");
	ANSWER(b, "is:unread", "1 2 3");
	ANSWER(b, "is:replied", "");
	ANSWER(b, "date:2025-02-04", "2");
	ANSWER(b, "date:2025-02..2025-03", "2 3");
	ANSWER(b, "date:2025-03..", "3 4");
	ANSWER(b, "date:..2025-01", "1");
	ANSWER(b, "date:2024", "");
	ANSWER(b, "cc:carol", "3");
	ANSWER(b, "to:carol", "");
	ANSWER(b, "qp:example", "1");	/* not a field: words, here the phrase "qp example" */
	ANSWER(b, "quadrilateral ; .", "1 4");	/* punctuation alone is no term */
	ANSWER(b, "bad \"phrase", "a phrase is not closed: \"phrase");
	ANSWER(b, "", "empty query: give words to search for");
	ANSWER(b, "is:bogus", "unknown flag is:bogus: want unread, read, flagged, replied, deleted or draft");
	ANSWER(b, "date:2025-13-01", "bad date in date:2025-13-01: want YYYY-MM-DD, YYYY-MM or YYYY, or two joined by ..");
	ANSWER(b, "okapi OR", "nothing after OR");
	ANSWER(b, "OR okapi", "OR with nothing before it");
	ANSWER(b, "(okapi", "a ( is not closed");
	ANSWER(b, "okapi)", "a ) that closes nothing");
	ANSWER(b, "subject:", "nothing after subject:");
	ANSWER(b, "- okapi", "nothing after -");
	ANSWER(b, "*", "nothing to search for in *");
}
END_TEST

/* a root search: box/number lines over every box */
START_TEST(root_search)
{
	searchbox();
	char *got = ask(NULL, "hippopotamus");
	ck_assert_ptr_nonnull(strstr(got, "ixsearch/2\n"));
	free(got);
}
END_TEST

static char *
storefile(const char *name)
{
	char pat[4096];
	glob_t g;
	char *r = NULL;

	snprintf(pat, sizeof pat, "%s/%s-*.db", storedir, name);
	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc == 1)
		r = xstrdup(g.gl_pathv[0]);
	globfree(&g);
	return r;
}

/* a store of another schema, and one that is not a database: made again, with one line on stderr */
START_TEST(stores_made_again)
{
	setup();
	Idb *db = idb_open(storedir, "/nowhere/x", "schematest");
	idb_close(db);
	char *path = storefile("schematest");
	ck_assert_ptr_nonnull(path);
	sqlite3 *s;
	ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(s, "PRAGMA user_version=99; CREATE TABLE stale(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
	db = idb_open(storedir, "/nowhere/x", "schematest");
	ck_assert_str_eq(idb_path(db), path);
	ck_assert(idb_ondisk(db));
	idb_close(db);
	ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
	sqlite3_stmt *st;
	ck_assert_int_eq(sqlite3_prepare_v2(s, "SELECT count(*) FROM sqlite_master WHERE name = 'stale'", -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(s);

	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(write(fd, "this is no database, just bytes. ", 32), 32);
	close(fd);
	db = idb_open(storedir, "/nowhere/x", "schematest");
	ck_assert_str_eq(idb_path(db), path);
	Idoc d = { 0 };
	Buf sum = { 0 };
	idb_wlock(db);
	ck_assert_int_eq(idb_begin(db), 0);
	ck_assert_int_gt(idb_add(db, "test 1", &d, &sum), 0);
	ck_assert_int_eq(idb_commit(db), 0);
	idb_wunlock(db);
	ck_assert_int_eq(idb_find(db, "test 1", &d), 1);
	idb_close(db);
	free(path);
}
END_TEST

Suite *
index_suite(void)
{
	Suite *s = suite_create("index");
	TCase *t = tcase_create("index");

	tcase_set_timeout(t, 120);
	tcase_add_test(t, summaries_match_the_model);
	tcase_add_test(t, flags_of_the_moment);
	tcase_add_test(t, words_across_encodings);
	tcase_add_test(t, language);
	tcase_add_test(t, root_search);
	tcase_add_test(t, stores_made_again);
	suite_add_tcase(s, t);
	return s;
}
