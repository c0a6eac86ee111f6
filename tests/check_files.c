/*
 * File formats against expected outputs: every file under
 * testdata/expected/<box>/<path> must equal what the tree serves at
 * <box>/<path>.  The expected files were checked by hand against the
 * spec (see testdata/README).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "check.h"

static int ncompared;

static void
compare(const char *file, const char *treepath)
{
	size_t n;
	char *want = tslurp(file, &n);
	Blob *got = tfile(treepath);

	ck_assert_msg(want != NULL, "%s: unreadable", file);
	ck_assert_msg(got != NULL, "%s: %s", treepath, errmsg());
	ck_assert_msg(got->n == n && memcmp(got->p, want, n) == 0,
		"%s differs from %s:\n--- got (%zu bytes)\n%s\n--- want (%zu bytes)\n%s",
		treepath, file, got->n, got->p, n, want);
	blobunref(got);
	free(want);
	ncompared++;
}

static void
walk(const char *dir, const char *treepath)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	ck_assert_msg(d != NULL, "%s: cannot open", dir);
	while ((e = readdir(d)) != NULL) {
		char file[4096], tp[4096];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
		snprintf(tp, sizeof tp, "%s%s%s", treepath, *treepath ? "/" : "", e->d_name);
		ck_assert_int_eq(stat(file, &st), 0);
		if (S_ISDIR(st.st_mode))
			walk(file, tp);
		else
			compare(file, tp);
	}
	closedir(d);
}

START_TEST(expected_outputs)
{
	char dir[4096];
	const char *src = getenv("SRCDIR");

	snprintf(dir, sizeof dir, "%s/testdata/expected", src && *src ? src : ".");
	ncompared = 0;
	walk(dir, "");
	ck_assert_int_ge(ncompared, 50);
}
END_TEST

Suite *
files_suite(void)
{
	Suite *s = suite_create("files");
	TCase *t = tcase_create("formats");

	tcase_set_timeout(t, 60);
	tcase_add_test(t, expected_outputs);
	suite_add_tcase(s, t);
	return s;
}
