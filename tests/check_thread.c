/*
 * Threads from summaries: parents from References then In-Reply-To,
 * placeholders for missing parents, no loops, duplicate ids kept apart,
 * subject grouping only for loose messages, siblings by date, newest
 * thread first, and every message exactly once whatever the headers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"

/* a summary: number, date, id, subject, then parent ids, NULL-ended */
static Tmsg
msg(uint32_t num, int64_t date, const char *id, const char *subject, ...)
{
	static const char *pool[64][8];
	static int used;
	const char **refs = pool[used++ % 64];
	va_list ap;
	size_t n = 0;

	va_start(ap, subject);
	for (const char *r; (r = va_arg(ap, const char *)) != NULL && n < 8;)
		refs[n++] = r;
	va_end(ap);
	return (Tmsg){ num, date, id, refs, n, subject };
}

static char *
threads(const Tmsg *m, size_t n, uint32_t only)
{
	static char text[4096];
	Buf out = { 0 };

	thread_make(&out, m, n, only);
	snprintf(text, sizeof text, "%.*s", (int)out.n, out.p ? out.p : "");
	buffree(&out);
	return text;
}

START_TEST(references_then_inreplyto)
{
	Tmsg m[] = {
		msg(1, 100, "<a>", "x", NULL),
		msg(2, 200, "<b>", "Re: x", "<a>", NULL),
		msg(3, 300, "<c>", "Re: x", "<a>", "<b>", NULL),
		msg(4, 250, "<d>", "Re: x", "<b>", NULL),	/* In-Reply-To only */
	};
	ck_assert_str_eq(threads(m, 4, 0), "0\t1\n1\t2\n2\t4\n2\t3\n");
}
END_TEST

START_TEST(placeholder_keeps_siblings)
{
	Tmsg m[] = {
		msg(1, 100, "<b>", "Re: lost", "<gone>", NULL),
		msg(2, 50, "<c>", "Re: lost", "<gone>", NULL),
		msg(3, 300, "<d>", "other", NULL),
	};
	ck_assert_str_eq(threads(m, 3, 0), "0\t3\n0\t-\n1\t2\n1\t1\n");
	/* a placeholder between two others goes: its child moves up */
	Tmsg n[] = { msg(1, 100, "<c>", "x", "<a>", "<b>", NULL), msg(2, 200, "<e>", "x", "<a>", NULL) };
	ck_assert_str_eq(threads(n, 2, 0), "0\t-\n1\t1\n1\t2\n");
}
END_TEST

START_TEST(no_cycles)
{
	Tmsg m[] = {
		msg(1, 100, "<a>", "x", "<b>", NULL),
		msg(2, 200, "<b>", "x", "<a>", NULL),
		msg(3, 300, "<c>", "x", "<c>", NULL),	/* its own parent */
	};
	char *t = threads(m, 3, 0);
	ck_assert_msg(strstr(t, "\t1\n") && strstr(t, "\t2\n") && strstr(t, "\t3\n"), "%s", t);
	ck_assert_str_eq(t, "0\t3\n0\t2\n1\t1\n");
}
END_TEST

START_TEST(duplicate_ids_apart)
{
	Tmsg m[] = {
		msg(1, 100, "<d>", "first", NULL),
		msg(2, 200, "<d>", "second", NULL),
		msg(3, 300, "<e>", "Re: first", "<d>", NULL),
	};
	ck_assert_str_eq(threads(m, 3, 0), "0\t1\n1\t3\n0\t2\n");
}
END_TEST

START_TEST(subject_only_for_loose)
{
	Tmsg m[] = {
		msg(1, 100, "<a>", "Lunch", NULL),
		msg(2, 200, "<b>", "Re: Lunch", NULL),	/* loose: joins 1 */
		msg(3, 300, "<c>", "RE[2]: [team] lunch", NULL),	/* loose too */
		msg(4, 400, "<x>", "Lunch", NULL),	/* not a reply: its own thread */
		msg(5, 500, "<y>", "Re: Lunch", "<x>", NULL),	/* headers say 4 */
		msg(6, 600, "<z>", "Re: Lunch", "<elsewhere>", NULL),	/* headers: a placeholder */
	};
	ck_assert_str_eq(threads(m, 6, 0), "0\t-\n1\t6\n0\t4\n1\t5\n0\t1\n1\t2\n1\t3\n");
}
END_TEST

START_TEST(newest_thread_first_and_one_thread)
{
	Tmsg m[] = {
		msg(1, 100, "<a>", "old", NULL),
		msg(2, 200, "<b>", "new", NULL),
		msg(3, 300, "<c>", "Re: old", "<a>", NULL),	/* new mail bumps thread 1 */
	};
	ck_assert_str_eq(threads(m, 3, 0), "0\t1\n1\t3\n0\t2\n");
	ck_assert_str_eq(threads(m, 3, 3), "0\t1\n1\t3\n");
	ck_assert_str_eq(threads(m, 3, 2), "0\t2\n");
	ck_assert_str_eq(threads(m, 3, 9), "");
	ck_assert_str_eq(threads(NULL, 0, 0), "");	/* an empty mailbox */
}
END_TEST

/* random headers, cycles and duplicates included: every message exactly once */
START_TEST(every_message_once)
{
	enum { N = 3000 };
	static Tmsg m[N];
	static char ids[N][16], *refs[N][4];
	srandom(7);
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "<%ld>", random() % (N / 2));
		int nr = random() % 4;
		for (int r = 0; r < nr; r++)
			refs[i][r] = ids[random() % N];
		m[i] = (Tmsg){ (uint32_t)i + 1, random() % 1000, ids[i], (const char **)refs[i], (size_t)nr,
			random() % 3 ? "Re: same" : "same" };
	}
	Buf out = { 0 };
	thread_make(&out, m, N, 0);
	bufputc(&out, 0);
	static int seen[N + 1];
	int lines = 0, bad = 0;
	for (char *l = out.p; *l; l = strchr(l, '\n') + 1) {
		char *tab = strchr(l, '\t');
		if (tab[1] != '-') {
			int k = atoi(tab + 1);
			bad += k < 1 || k > N || seen[k]++;
		}
		lines++;
	}
	for (int k = 1; k <= N; k++)
		bad += seen[k] != 1;
	ck_assert_msg(bad == 0, "%d numbers missing or twice in %d lines", bad, lines);
	buffree(&out);
}
END_TEST

Suite *
thread_suite(void)
{
	Suite *s = suite_create("thread");
	TCase *t = tcase_create("jwz");

	tcase_add_test(t, references_then_inreplyto);
	tcase_add_test(t, placeholder_keeps_siblings);
	tcase_add_test(t, no_cycles);
	tcase_add_test(t, duplicate_ids_apart);
	tcase_add_test(t, subject_only_for_loose);
	tcase_add_test(t, newest_thread_first_and_one_thread);
	tcase_add_test(t, every_message_once);
	suite_add_tcase(s, t);
	return s;
}
