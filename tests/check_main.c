/*
 * The unit test runner, and the fixtures the suites share: the test
 * corpus opened as boxes and reached by path through the tree layer,
 * as a transport would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

static char *
srcdir(void)
{
	char *d = getenv("SRCDIR");

	return d && *d ? d : ".";
}

char *
tslurp(const char *file, size_t *np)
{
	FILE *f = fopen(file, "rb");
	Buf b = { 0 };
	char tmp[65536];
	size_t n;

	if (f == NULL)
		return NULL;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		bufadd(&b, tmp, n);
	fclose(f);
	bufadd(&b, "", 0);
	if (np)
		*np = b.n;
	return b.p;
}

Box *
tbox(const char *name)
{
	char path[4096];
	Box *b = box_byname(name);

	if (b)
		return b;
	if (strcmp(name, "sample") == 0)
		snprintf(path, sizeof path, "%s/testdata/sample.mbox", srcdir());
	else
		snprintf(path, sizeof path, "%s/testdata/boxes/%s.mbox", srcdir(), name);
	return box_open(path, name);
}

static int
twalk(const char *path, Qpath *q)
{
	char *p = xstrdup(path), *save = NULL;
	int r = 0;

	*q = QROOT;
	char *first = strtok_r(p, "/", &save);
	if (first == NULL || tbox(first) == NULL)
		r = -1;
	for (char *e = first; r == 0 && e; e = strtok_r(NULL, "/", &save))
		r = tree_walk(*q, e, q);
	free(p);
	return r;
}

Blob *
tfile(const char *path)
{
	Qpath q;

	return twalk(path, &q) < 0 ? NULL : tree_read(q);
}

int
tstat(const char *path, Dirinfo *d)
{
	Qpath q;

	return twalk(path, &q) < 0 ? -1 : tree_stat(q, d);
}

int
main(void)
{
	setenv("TZ", "UTC", 1);
	tree_init();
	msg_init(4 << 20);	/* small, so the suites also exercise eviction */
	SRunner *sr = srunner_create(mbox_suite());
	srunner_add_suite(sr, model_suite());
	srunner_add_suite(sr, files_suite());
	srunner_add_suite(sr, maildir_suite());
	srunner_add_suite(sr, prefetch_suite());
	srunner_add_suite(sr, ctl_suite());
	srunner_add_suite(sr, container_suite());
	srunner_add_suite(sr, thread_suite());
	srunner_add_suite(sr, text_suite());
	srunner_add_suite(sr, index_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	msg_flush();
	box_closeall();
	return failed ? 1 : 0;
}
