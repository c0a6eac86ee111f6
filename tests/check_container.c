/*
 * Containers: a content kept in the cache reads back the same bytes;
 * small ones go to the small store, a megabyte and more to the large
 * one; each store keeps to its own budget, oldest dropped first, and a
 * descriptor on a dropped file still reads; cleanup removes the stores.
 * Each test runs in a process of its own (Check forks), so each starts
 * with no stores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

static char small[64], large[64];

static void
setup(void)
{
	snprintf(small, sizeof small, "/tmp/check-container.XXXXXX");
	snprintf(large, sizeof large, "/tmp/check-container.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(small));
	ck_assert_ptr_nonnull(mkdtemp(large));
}

static void
teardown(void)
{
	char cmd[256];

	snprintf(cmd, sizeof cmd, "rm -rf %s %s", small, large);
	ck_assert_int_eq(system(cmd), 0);
}

static Blob *
filled(size_t n, int c)
{
	char *p = xmalloc(n);

	memset(p, c, n);
	Blob *b = blobnew(p, n);
	free(p);
	return b;
}

/* the bytes behind fd, which it closes, equal b's */
static int
holds(int fd, const Blob *b)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || (size_t)st.st_size != b->n)
		return close(fd), 0;
	char *p = xmalloc(b->n + 1);
	ssize_t k = pread(fd, p, b->n + 1, 0);
	int r = k == (ssize_t)b->n && memcmp(p, b->p, b->n) == 0;
	free(p);
	close(fd);
	return r;
}

/* is q's file in the store under base? */
static int
stored(const char *base, Qpath q)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof p, "%s/mailfs-%u/%d/%016llx", base, (unsigned)getuid(), (int)getpid(),
		(unsigned long long)q);
	return stat(p, &st) == 0;
}

START_TEST(by_size)
{
	ck_assert_int_eq(container_init(small, 64 << 20), 0);
	ck_assert_int_eq(container_large(large, 64 << 20), 0);
	Blob *a = filled(1000, 'a'), *b = filled(2 << 20, 'b');
	ck_assert(holds(container_put(1, a, 1), a));
	ck_assert(holds(container_put(2, b, 1), b));
	ck_assert(stored(small, 1) && !stored(large, 1));
	ck_assert(stored(large, 2) && !stored(small, 2));
	ck_assert(holds(container_get(1), a));
	ck_assert(holds(container_get(2), b));
	blobunref(a);
	blobunref(b);
}
END_TEST

START_TEST(without_large_store)
{
	ck_assert_int_eq(container_init(small, 64 << 20), 0);
	Blob *b = filled(2 << 20, 'b');
	ck_assert(holds(container_put(2, b, 1), b));
	ck_assert(stored(small, 2));
	blobunref(b);
}
END_TEST

START_TEST(budgets)
{
	ck_assert_int_eq(container_init(small, 3000), 0);
	ck_assert_int_eq(container_large(large, 5 << 20), 0);
	Blob *s = filled(1000, 's'), *l = filled(2 << 20, 'l');
	int kept = container_put(1, s, 1);
	for (Qpath q = 2; q <= 4; q++)
		ck_assert_int_eq(container_put(q, s, 0), 0);
	ck_assert_int_eq(container_get(1), -1);	/* the oldest went */
	ck_assert(!stored(small, 1) && stored(small, 4));
	ck_assert(holds(kept, s));	/* but reads through its descriptor */
	for (Qpath q = 10; q <= 12; q++)
		ck_assert_int_eq(container_put(q, l, 0), 0);
	ck_assert(!stored(large, 10) && stored(large, 11) && stored(large, 12));
	ck_assert(stored(small, 2) && stored(small, 3));	/* the small store is untouched */
	blobunref(s);
	blobunref(l);
}
END_TEST

START_TEST(cleanup)
{
	char p[512];
	struct stat st;

	ck_assert_int_eq(container_init(small, 64 << 20), 0);
	ck_assert_int_eq(container_large(large, 64 << 20), 0);
	Blob *b = filled(2 << 20, 'b');
	ck_assert_int_eq(container_put(2, b, 0), 0);
	container_cleanup();
	while (wait(NULL) > 0)	/* the child that removes a full store */
		;
	snprintf(p, sizeof p, "%s/mailfs-%u/%d", large, (unsigned)getuid(), (int)getpid());
	ck_assert_int_ne(stat(p, &st), 0);
	snprintf(p, sizeof p, "%s/mailfs-%u/%d", small, (unsigned)getuid(), (int)getpid());
	ck_assert_int_ne(stat(p, &st), 0);
	blobunref(b);
}
END_TEST

Suite *
container_suite(void)
{
	Suite *s = suite_create("container");
	TCase *t = tcase_create("stores");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, by_size);
	tcase_add_test(t, without_large_store);
	tcase_add_test(t, budgets);
	tcase_add_test(t, cleanup);
	suite_add_tcase(s, t);
	return s;
}
