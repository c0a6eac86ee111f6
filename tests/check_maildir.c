/*
 * The Maildir backend, on maildirs made for each test in a temporary
 * directory: delivery order, flags in file names both ways, deletes
 * that unlink only what was asked, and new or renamed files found by
 * a later look.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "check.h"

/* box_maildir.c's exports that fns.h does not declare yet */

static char top[64];

/* a fresh maildir under a fresh temporary directory: its path, good for four calls */
static const char *
mkmd(const char *sub)
{
	static char paths[4][256];
	static int next;
	char *path = paths[next++ % 4];

	if (top[0] == 0) {
		snprintf(top, sizeof top, "/tmp/check_maildir.XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(top));
	}
	snprintf(path, sizeof paths[0], "%s/%s", top, sub);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	const char *d[] = { "cur", "new", "tmp" };
	for (size_t i = 0; i < nelem(d); i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", path, d[i]);
		ck_assert_int_eq(mkdir(p, 0700), 0);
	}
	return path;
}

static void
rmtop(void)
{
	char cmd[128];

	if (top[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
		ck_assert_int_eq(system(cmd), 0);
		top[0] = 0;
	}
}

static void
put(const char *dir, const char *rel, const char *text)
{
	char p[1024];

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* a small message whose subject and body say tag */
static void
putmsg(const char *dir, const char *rel, const char *tag)
{
	char text[256];

	snprintf(text, sizeof text, "From: a@example.org\nSubject: %s\n\nbody %s\n", tag, tag);
	put(dir, rel, text);
}

static int
exists(const char *dir, const char *rel)
{
	char p[1024];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the names in dir/sub, sorted, each followed by a space */
static char *
ls(const char *dir, const char *sub)
{
	static char out[4096];
	char p[1024], *names[64];
	int n = 0;

	snprintf(p, sizeof p, "%s/%s", dir, sub);
	DIR *d = opendir(p);
	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; (e = readdir(d)) != NULL && n < 64;)
		if (e->d_name[0] != '.')
			names[n++] = xstrdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, namecmp);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		strcat(out, names[i]);
		strcat(out, " ");
		free(names[i]);
	}
	return out;
}

static char *
subject(Box *b, uint32_t id)
{
	static char s[256];
	char path[256];

	snprintf(path, sizeof path, "%s/%u/subject", b->name, id);
	Blob *x = tfile(path);
	ck_assert_msg(x != NULL, "%s: %s", path, errmsg());
	snprintf(s, sizeof s, "%s", x->p);
	blobunref(x);
	return s;
}

static char *
flagsfile(Box *b, uint32_t id)
{
	static char s[32];
	char path[256];

	snprintf(path, sizeof path, "%s/%u/flags", b->name, id);
	Blob *x = tfile(path);
	ck_assert_msg(x != NULL, "%s: %s", path, errmsg());
	snprintf(s, sizeof s, "%s", x->p);
	blobunref(x);
	return s;
}

static Box *
openmd(const char *dir, const char *name)
{
	Box *b = box_open(dir, name);

	ck_assert_msg(b != NULL, "%s: %s", dir, errmsg());
	ck_assert_str_eq(b->ops->name, "maildir");
	return b;
}

static void
setmtime(const char *dir, const char *rel, time_t t)
{
	char p[1024];
	struct timeval tv[2] = { { t, 0 }, { t, 0 } };

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	ck_assert_int_eq(utimes(p, tv), 0);
}

static void
ren(const char *dir, const char *from, const char *to)
{
	char a[1024], b[1024];

	snprintf(a, sizeof a, "%s/%s", dir, from);
	snprintf(b, sizeof b, "%s/%s", dir, to);
	ck_assert_int_eq(rename(a, b), 0);
}

static void
rm(const char *dir, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof p, "%s/%s", dir, rel);
	ck_assert_int_eq(unlink(p), 0);
}

/* five messages with their delivery order scrambled in new/ and cur/ */
static const char *
fivemsgs(const char *sub)
{
	const char *d = mkmd(sub);

	putmsg(d, "new/1700000300.M5P1.host", "five");
	putmsg(d, "cur/1700000100.M10P1.host:2,S", "two");
	putmsg(d, "cur/1700000100.M9P1.host:2,SRF", "one");
	putmsg(d, "cur/1700000200.x.host:2,TDa", "four");
	putmsg(d, "cur/nostamp", "three");
	setmtime(d, "cur/nostamp", 1700000150);
	return d;
}

START_TEST(probe)
{
	const char *d = mkmd("probe");
	char p[512];

	ck_assert(maildir_isdir(d));
	snprintf(p, sizeof p, "%s/tmp", d);
	rmdir(p);
	ck_assert(!maildir_isdir(d));
	ck_assert(!maildir_isdir("/nonexistent/maildir"));
	ck_assert_ptr_null(box_open(d, "notmd"));
	rmtop();
}
END_TEST

START_TEST(delivery_order)
{
	const char *d = fivemsgs("order");
	Box *b = openmd(d, "order");
	static const char *want[] = { "one", "two", "three", "four", "five" };
	static const int64_t dates[] = { 1700000100, 1700000100, 1700000150, 1700000200, 1700000300 };

	ck_assert_int_eq(b->nmsgs, 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_int_eq(b->msgs[i].id, i + 1);
		ck_assert_str_eq(subject(b, i + 1), want[i]);
		ck_assert_int_eq(b->msgs[i].date, dates[i]);
	}
	rmtop();
}
END_TEST

START_TEST(flags_from_names)
{
	const char *d = fivemsgs("fromnames");
	Box *b = openmd(d, "fromnames");

	ck_assert(b->ops->indexflags);
	ck_assert_int_eq(b->msgs[0].flags, Fseen | Fanswered | Fflagged);
	ck_assert_int_eq(b->msgs[1].flags, Fseen);
	ck_assert_int_eq(b->msgs[2].flags, 0);
	ck_assert_int_eq(b->msgs[3].flags, Fdraft | Fdeleted);
	ck_assert_int_eq(b->msgs[4].flags, Frecent);
	ck_assert_str_eq(flagsfile(b, 1), "a--f-s-");
	ck_assert_str_eq(flagsfile(b, 4), "-Dd----");
	ck_assert_str_eq(flagsfile(b, 5), "----r--");
	rmtop();
}
END_TEST

START_TEST(fetch_raw)
{
	const char *d = mkmd("fetch");

	put(d, "cur/1700000001.a.host:2,", "Subject: crlf\r\nX: y\r\n\r\nline\r\nlast\r\n");
	put(d, "cur/1700000002.b.host:2,", "Subject: lf\n\nstray\r\n cr\n");
	Box *b = openmd(d, "fetch");
	Buf raw = { 0 }, env = { 0 };
	bufputs(&env, "junk");
	ck_assert_int_eq(b->ops->fetch(b, &b->msgs[0], &raw, &env), 0);
	ck_assert_str_eq(raw.p, "Subject: crlf\nX: y\n\nline\nlast\n");
	ck_assert_int_eq(env.n, 0);
	ck_assert_int_eq(b->ops->fetch(b, &b->msgs[1], &raw, &env), 0);
	ck_assert_str_eq(raw.p, "Subject: lf\n\nstray\r\n cr\n");
	ck_assert_str_eq(subject(b, 1), "crlf");
	put(d, "new/1700000003.empty.host", "");
	ck_assert_int_eq(b->ops->sync(b), 0);
	ck_assert_int_eq(b->nmsgs, 3);
	ck_assert_int_eq(b->ops->fetch(b, &b->msgs[2], &raw, &env), 0);
	ck_assert_int_eq(raw.n, 0);
	buffree(&raw);
	buffree(&env);
	rmtop();
}
END_TEST

/* dirty flags go into the names: letters sorted, D and unknown ones kept, new/ to cur/ */
START_TEST(flags_to_names)
{
	const char *d = mkmd("tonames");

	putmsg(d, "cur/1700000001.a.host:2,TDa", "draft");
	putmsg(d, "cur/1700000002.b.host:2,PS", "passed");
	putmsg(d, "new/1700000003.c.host", "new");
	putmsg(d, "cur/1700000004.d.host:2,S", "untouched");
	Box *b = openmd(d, "tonames");
	ck_assert_int_eq(b->nmsgs, 4);
	ck_assert_int_eq(msg_setflags(b, 1, Fseen, Fdeleted), 0);
	ck_assert_int_eq(msg_setflags(b, 2, Fanswered | Fflagged, 0), 0);
	ck_assert_int_eq(msg_setflags(b, 3, Fseen, Frecent), 0);
	ck_assert(b->msgs[0].dirty);
	ck_assert_int_eq(b->ops->commit(b, NULL, 0), 0);
	ck_assert_str_eq(ls(d, "cur"),
		"1700000001.a.host:2,DSa 1700000002.b.host:2,FPRS 1700000003.c.host:2,S 1700000004.d.host:2,S ");
	ck_assert_str_eq(ls(d, "new"), "");
	for (size_t i = 0; i < b->nmsgs; i++)
		ck_assert(!b->msgs[i].dirty);
	ck_assert_int_eq(b->msgs[0].flags, Fdraft | Fseen);
	ck_assert_int_eq(b->msgs[2].flags, Fseen);
	ck_assert_str_eq(subject(b, 3), "new");	/* found where it went */
	/* a later look reads the same flags back */
	ck_assert_int_eq(b->ops->sync(b), 0);
	ck_assert_int_eq(b->nmsgs, 4);
	ck_assert_int_eq(b->msgs[1].flags, Fanswered | Fflagged | Fseen);
	ck_assert_int_eq(b->msgs[2].flags, Fseen);
	rmtop();
}
END_TEST

/* flags stored on a file another program renamed meanwhile: its letters kept */
START_TEST(flags_to_renamed)
{
	const char *d = mkmd("torenamed");

	putmsg(d, "cur/1700000001.a.host:2,", "one");
	Box *b = openmd(d, "torenamed");
	ren(d, "cur/1700000001.a.host:2,", "cur/1700000001.a.host:2,Fk");
	ck_assert_int_eq(msg_setflags(b, 1, Fseen | Fflagged, 0), 0);
	ck_assert_int_eq(b->ops->commit(b, NULL, 0), 0);
	ck_assert_str_eq(ls(d, "cur"), "1700000001.a.host:2,FSk ");
	rmtop();
}
END_TEST

START_TEST(remove_only_asked)
{
	const char *d = fivemsgs("remove");
	Box *b = openmd(d, "remove");

	putmsg(d, "new/1700000400.late.host", "late");	/* delivered after the look */
	put(d, "tmp/1700000500.partial.host", "half a deliv");
	uint32_t ids[] = { 2, 5 };
	ck_assert_int_eq(b->ops->commit(b, ids, 2), 0);
	ck_assert_str_eq(ls(d, "cur"), "1700000100.M9P1.host:2,SRF 1700000200.x.host:2,TDa nostamp ");
	ck_assert_str_eq(ls(d, "new"), "1700000400.late.host ");
	ck_assert_str_eq(ls(d, "tmp"), "1700000500.partial.host ");
	ck_assert_int_eq(b->nmsgs, 3);
	ck_assert_int_eq(b->msgs[0].id, 1);
	ck_assert_int_eq(b->msgs[1].id, 3);
	ck_assert_int_eq(b->msgs[2].id, 4);
	ck_assert_str_eq(subject(b, 3), "three");
	ck_assert_int_eq(b->ops->sync(b), 0);
	ck_assert_int_eq(b->nmsgs, 4);
	ck_assert_int_eq(b->msgs[3].id, 6);	/* numbers are never reused */
	ck_assert_str_eq(subject(b, 6), "late");
	rmtop();
}
END_TEST

/* a file renamed or deleted by another program is still found, or no error */
START_TEST(remove_renamed)
{
	const char *d = fivemsgs("removeren");
	Box *b = openmd(d, "removeren");

	ren(d, "new/1700000300.M5P1.host", "cur/1700000300.M5P1.host:2,S");
	rm(d, "cur/1700000100.M10P1.host:2,S");
	uint32_t ids[] = { 5, 2 };
	ck_assert_msg(b->ops->commit(b, ids, 2) == 0, "%s", errmsg());
	ck_assert_str_eq(ls(d, "cur"), "1700000100.M9P1.host:2,SRF 1700000200.x.host:2,TDa nostamp ");
	ck_assert_str_eq(ls(d, "new"), "");
	ck_assert_int_eq(b->nmsgs, 3);
	rmtop();
}
END_TEST

START_TEST(sync_new_and_renamed)
{
	const char *d = fivemsgs("sync");
	Box *b = openmd(d, "sync");

	putmsg(d, "new/1600000000.early.host", "early");	/* older stamp, still after the rest */
	putmsg(d, "new/1800000000.M2.host", "later2");
	putmsg(d, "new/1800000000.M10.host", "later10");
	ren(d, "new/1700000300.M5P1.host", "cur/1700000300.M5P1.host:2,RS");
	ren(d, "cur/1700000100.M10P1.host:2,S", "cur/1700000100.M10P1.host:2,");
	rm(d, "cur/nostamp");
	ck_assert_int_eq(b->ops->sync(b), 0);
	ck_assert_int_eq(b->nmsgs, 7);
	static const uint32_t ids[] = { 1, 2, 4, 5, 6, 7, 8 };
	for (size_t i = 0; i < b->nmsgs; i++)
		ck_assert_int_eq(b->msgs[i].id, ids[i]);
	ck_assert_str_eq(subject(b, 5), "five");
	ck_assert_int_eq(b->msgs[3].flags, Fanswered | Fseen);
	ck_assert_int_eq(b->msgs[1].flags, 0);
	ck_assert_str_eq(subject(b, 6), "early");
	ck_assert_str_eq(subject(b, 7), "later2");
	ck_assert_str_eq(subject(b, 8), "later10");
	ck_assert_ptr_null(box_msg(b, 3));
	/* a look that finds nothing new changes nothing */
	uint32_t vers = b->vers;
	ck_assert_int_eq(b->ops->sync(b), 0);
	ck_assert_int_eq(b->nmsgs, 7);
	ck_assert_int_eq(b->vers, vers);
	rmtop();
}
END_TEST

/* mail delivered in the same second as the last look is still seen */
START_TEST(sync_same_second)
{
	const char *d = mkmd("samesec");
	Box *b = openmd(d, "samesec");
	char name[64];

	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof name, "new/1700000000.M%dP1.host", i);
		putmsg(d, name, "x");
		ck_assert_int_eq(b->ops->sync(b), 0);
		ck_assert_int_eq(b->nmsgs, (size_t)i + 1);
	}
	rmtop();
}
END_TEST

START_TEST(vanished)
{
	const char *d = fivemsgs("vanished");
	Box *b = openmd(d, "vanished");
	char cmd[512];
	Buf raw = { 0 }, env = { 0 };

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(b->ops->sync(b), -1);
	ck_assert_int_eq(errcode(), ENOENT);
	ck_assert_msg(strstr(errmsg(), d) != NULL, "%s", errmsg());
	ck_assert_int_eq(b->nmsgs, 5);	/* an error drops nothing */
	ck_assert_int_eq(b->ops->fetch(b, &b->msgs[0], &raw, &env), -1);
	uint32_t id = 1;
	ck_assert_int_eq(b->ops->commit(b, &id, 1), -1);
	ck_assert_ptr_null(box_open(d, "gone"));
	buffree(&raw);
	buffree(&env);
	rmtop();
}
END_TEST

/* libetpan's maildirfolder marker does not stay in a top-level Maildir */
START_TEST(no_maildirfolder)
{
	const char *d = fivemsgs("folder");
	char sub[512];

	Box *b = openmd(d, "folder");
	ck_assert_int_eq(b->ops->sync(b), 0);
	ck_assert(!exists(d, "maildirfolder"));
	snprintf(sub, sizeof sub, "%s/.Sent", d);
	mkmd("folder/.Sent");
	put(sub, "maildirfolder", "");
	Box *s = openmd(sub, "folder-sent");
	ck_assert_int_eq(s->ops->sync(s), 0);
	ck_assert(exists(sub, "maildirfolder"));
	rmtop();
}
END_TEST

START_TEST(append)
{
	const char *d = mkmd("append");
	Box *b = openmd(d, "append");
	const char *m = "From: x@example.org\nSubject: appended\n\nhello\n";

	ck_assert_int_eq(maildir_append(d, m, strlen(m)), 0);
	ck_assert_int_eq(maildir_append(d, m, strlen(m)), 0);
	ck_assert(!exists(d, "maildirfolder"));
	ck_assert_str_eq(ls(d, "tmp"), "");
	ck_assert_int_eq(b->ops->sync(b), 0);
	ck_assert_int_eq(b->nmsgs, 2);
	ck_assert_str_eq(subject(b, 1), "appended");
	ck_assert_int_eq(b->msgs[0].flags, Frecent);
	ck_assert_int_eq(maildir_append("/nonexistent/md", m, strlen(m)), -1);
	rmtop();
}
END_TEST

/* a delivery whose name is taken in new/ is not left behind in tmp/ */
START_TEST(append_name_taken)
{
	const char *d = mkmd("taken");
	const char *m = "Subject: taken\n\nx\n";
	char host[256] = "", name[512];
	time_t now = time(NULL);

	gethostname(host, sizeof host);
	for (time_t t = now; t < now + 3; t++) {	/* libetpan's next name, whatever the second */
		snprintf(name, sizeof name, "new/%lu.%d_0.%s", (unsigned long)t, (int)getpid(), host);
		putmsg(d, name, "older");
	}
	ck_assert_int_eq(maildir_append(d, m, strlen(m)), 0);
	ck_assert_str_eq(ls(d, "tmp"), "");
	Box *b = openmd(d, "taken");
	ck_assert_int_eq(b->nmsgs, 4);
	int older = 0, taken = 0;
	for (uint32_t id = 1; id <= 4; id++) {
		older += strcmp(subject(b, id), "older") == 0;
		taken += strcmp(subject(b, id), "taken") == 0;
	}
	ck_assert_int_eq(older, 3);
	ck_assert_int_eq(taken, 1);
	rmtop();
}
END_TEST

START_TEST(subfolders)
{
	const char *d = mkmd("root");
	char root[256], *p;

	snprintf(root, sizeof root, "%s", d);
	mkmd("root/.Sent");
	mkmd("root/.Lists.linux");
	p = maildir_subfolder(root, "Sent");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(strcmp(p + strlen(root), "/.Sent"), 0);
	free(p);
	p = maildir_subfolder(root, "Lists/linux");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(strcmp(p + strlen(root), "/.Lists.linux"), 0);
	Box *b = openmd(p, "linux");
	ck_assert_int_eq(b->nmsgs, 0);
	free(p);
	p = maildir_subfolder(root, "INBOX.Lists.linux");
	ck_assert_ptr_nonnull(p);
	free(p);
	ck_assert_ptr_null(maildir_subfolder(root, "Drafts"));
	ck_assert_int_eq(errcode(), ENOENT);
	ck_assert_ptr_null(maildir_subfolder(root, "../../etc"));
	ck_assert_int_eq(errcode(), EINVAL);
	rmtop();
}
END_TEST

Suite *
maildir_suite(void)
{
	Suite *s = suite_create("maildir");
	TCase *t = tcase_create("backend");

	tcase_add_checked_fixture(t, NULL, rmtop);	/* the temporary maildirs go, even after a failure */

	tcase_add_test(t, probe);
	tcase_add_test(t, delivery_order);
	tcase_add_test(t, flags_from_names);
	tcase_add_test(t, fetch_raw);
	tcase_add_test(t, flags_to_names);
	tcase_add_test(t, flags_to_renamed);
	tcase_add_test(t, remove_only_asked);
	tcase_add_test(t, remove_renamed);
	tcase_add_test(t, sync_new_and_renamed);
	tcase_add_test(t, sync_same_second);
	tcase_add_test(t, vanished);
	tcase_add_test(t, no_maildirfolder);
	tcase_add_test(t, append);
	tcase_add_test(t, append_name_taken);
	tcase_add_test(t, subfolders);
	suite_add_tcase(s, t);
	return s;
}
