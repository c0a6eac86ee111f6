/* The mbox scanner: envelope lines, boundaries, separators and quoting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

typedef struct Found Found;
struct Found {
	int	n;
	Msgent	m[16];
	uint64_t	sum;	/* of every message's bounds, in order */
};

static void
collect(void *arg, const Msgent *m)
{
	Found *f = arg;

	if (f->n < 16)
		f->m[f->n] = *m;
	f->n++;
	f->sum = f->sum * 1000003 + (m->off ^ m->len << 20 ^ m->envlen);
}

static Found
scan(const char *s)
{
	Found f = { 0 };

	ck_assert_int_eq(mbox_scan(s, strlen(s), 1, collect, &f), 0);
	return f;
}

/* message i of s as the scanner bounds it */
static char *
msgtext(const char *s, Found *f, int i)
{
	static char buf[4096];

	snprintf(buf, sizeof buf, "%.*s", (int)f->m[i].len, s + f->m[i].off);
	return buf;
}

START_TEST(fromline_shapes)
{
	static const struct { const char *line; int ok; long long t; } cases[] = {
		{ "From alice@example.org Thu Jul  2 08:48:02 2026", 1, 1782982082 },
		{ "From alice@example.org Thu Jul 2 08:48:02 2026", 1, 1782982082 },
		{ "From alice@example.org Thu Jul  2 08:48 2026", 1, 1782982080 },
		{ "From MAILER-DAEMON Thu Jul  2 08:48:02 2026", 1, 1782982082 },
		{ "From  Thu Jul  2 08:48:02 2026", 1, 1782982082 },
		{ "From \"a b\"@example.org Thu Jul  2 08:48:02 2026", 1, 1782982082 },
		{ "From alice@example.org Thu Jul  2 08:48:02 EDT 2026", 1, 1782982082 },
		{ "From alice@example.org Thu Jul  2 08:48:02 2026 +0200", 1, 1782974882 },
		{ "From alice@example.org Thu Jul  2 08:48:02 +0200 2026", 1, 1782974882 },
		{ "From here on we use the new process", 0, 0 },
		{ "From: alice@example.org", 0, 0 },
		{ "From alice@example.org Thu Jul 32 08:48:02 2026", 0, 0 },
		{ "From alice@example.org Thu Foo  2 08:48:02 2026", 0, 0 },
		{ "From alice@example.org Thu Jul  2 8:48:02 2026", 0, 0 },
		{ "From alice@example.org Thu Jul  2 08:48:02", 0, 0 },
		{ ">From alice@example.org Thu Jul  2 08:48:02 2026", 0, 0 },
		{ "From", 0, 0 },
	};
	for (size_t i = 0; i < nelem(cases); i++) {
		int64_t t = 0;
		int ok = mbox_fromline(cases[i].line, strlen(cases[i].line), &t);
		ck_assert_msg(ok == cases[i].ok, "%s: got %d", cases[i].line, ok);
		if (ok && cases[i].t > 10000000)
			ck_assert_msg(t == cases[i].t, "%s: date %lld", cases[i].line, (long long)t);
	}
}
END_TEST

START_TEST(boundaries_and_separator)
{
	const char *s =
		"From a@x Thu Jul  2 08:48:02 2026\nSubject: one\n\nbody one\n\n"
		"From b@x Thu Jul  2 09:48:02 2026\nSubject: two\n\nbody two\n";
	Found f = scan(s);

	ck_assert_int_eq(f.n, 2);
	ck_assert_str_eq(msgtext(s, &f, 0), "From a@x Thu Jul  2 08:48:02 2026\nSubject: one\n\nbody one\n");
	ck_assert_str_eq(msgtext(s, &f, 1), "From b@x Thu Jul  2 09:48:02 2026\nSubject: two\n\nbody two\n");
	ck_assert_int_eq(f.m[0].envlen, strlen("From a@x Thu Jul  2 08:48:02 2026\n"));
	ck_assert_int_eq(f.m[1].date - f.m[0].date, 3600);
	ck_assert(!f.m[0].crlf);
}
END_TEST

START_TEST(unquoted_from_in_body)
{
	const char *s =
		"From a@x Thu Jul  2 08:48:02 2026\nSubject: one\n\n"
		"From here on, we...\n\nFrom the desk of nobody\nend\n";
	Found f = scan(s);

	ck_assert_int_eq(f.n, 1);
	ck_assert_int_eq(f.m[0].len, strlen(s));
}
END_TEST

START_TEST(crlf_file)
{
	const char *s =
		"From a@x Thu Jul  2 08:48:02 2026\r\nSubject: one\r\n\r\nbody\r\n\r\n"
		"From b@x Thu Jul  2 09:48:02 2026\r\nSubject: two\r\n\r\nbody\r\n";
	Found f = scan(s);

	ck_assert_int_eq(f.n, 2);
	ck_assert(f.m[0].crlf && f.m[1].crlf);
	ck_assert_str_eq(msgtext(s, &f, 0), "From a@x Thu Jul  2 08:48:02 2026\r\nSubject: one\r\n\r\nbody\r\n");
}
END_TEST

START_TEST(no_final_newline)
{
	const char *s = "From a@x Thu Jul  2 08:48:02 2026\nSubject: one\n\nlast line";
	Found f = scan(s);

	ck_assert_int_eq(f.n, 1);
	ck_assert_int_eq(f.m[0].len, strlen(s));
}
END_TEST

START_TEST(empty_and_blank)
{
	ck_assert_int_eq(scan("").n, 0);
	ck_assert_int_eq(scan("\n\n").n, 0);
	Found f = scan("\nFrom a@x Thu Jul  2 08:48:02 2026\n\nx\n");
	ck_assert_int_eq(f.n, 1);
	ck_assert_int_eq(f.m[0].off, 1);
}
END_TEST

START_TEST(not_an_mbox)
{
	const char *s = "Subject: hello\n\nFrom a@x Thu Jul  2 08:48:02 2026\n";
	Found f = { 0 };

	ck_assert_int_eq(mbox_scan(s, strlen(s), 1, collect, &f), -1);
	ck_assert_ptr_nonnull(strstr(errmsg(), "not an mbox"));
	ck_assert_int_eq(f.n, 0);
}
END_TEST

START_TEST(envelope_only)
{
	const char *s = "From a@x Thu Jul  2 08:48:02 2026\n\nFrom b@x Thu Jul  2 08:48:02 2026\nSubject: x\n\ny\n";
	Found f = scan(s);

	ck_assert_int_eq(f.n, 2);
	ck_assert_str_eq(msgtext(s, &f, 0), "From a@x Thu Jul  2 08:48:02 2026\n");
}
END_TEST

START_TEST(mboxrd_unquote)
{
	const char *in = ">From a\n>>From b\n>Frome\n> From c\nFrom: d\n>From e";
	Buf b = { 0 };

	mbox_unquote(&b, in, strlen(in));
	ck_assert_str_eq(b.p, "From a\n>From b\n>Frome\n> From c\nFrom: d\nFrom e");
	buffree(&b);
}
END_TEST

/*
 * A file large enough to be scanned by two threads, with envelope lines
 * right at and just before the point where their shares meet (32 MB):
 * both scans must find the same messages.
 */
static void
append(Buf *b, size_t id, size_t bodylen)
{
	bufprint(b, "From a%zu@x Thu Jul  2 08:48:02 2026\nSubject: %zu\n\n", id, id);
	for (size_t k = 0; k < bodylen; k++)
		bufputc(b, k % 61 == 60 ? '\n' : 'a' + k % 26);
	bufputs(b, "\n\n");
}

static Found *
scanall(const Buf *b, int nthreads)
{
	static Found f[2];
	Found *r = &f[nthreads - 1];

	memset(r, 0, sizeof *r);
	ck_assert_int_eq(mbox_scan(b->p, b->n, nthreads, collect, r), 0);
	return r;
}

START_TEST(two_threads_agree)
{
	const size_t meet = 32 << 20;
	Buf b = { 0 };
	size_t id = 0;

	for (int edge = 0; edge < 2; edge++) {
		/* fill up to just short of the meeting point, then land a From_ line on it */
		size_t target = meet - (edge ? 3 : 0) + (edge ? 40 << 20 : 0);
		while (b.n + 2000 < target)
			append(&b, id++, 1500);
		size_t pad = target - b.n - strlen("From a@x Thu Jul  2 08:48:02 2026\nSubject: \n\n\n\n") - 20;
		append(&b, id++, pad);
		ck_assert_int_ge(b.n, target - 64);
	}
	while (b.n < (72u << 20))
		append(&b, id++, 3000);
	Found *one = scanall(&b, 1), *two = scanall(&b, 2);
	ck_assert_int_eq(one->n, (int)id);
	ck_assert_int_eq(two->n, one->n);
	ck_assert(one->sum == two->sum);
	buffree(&b);
}
END_TEST

/* the corpus files, through the backend: counts and stored bytes */
START_TEST(corpus_counts)
{
	static const struct { const char *box; size_t n; } cases[] = {
		{ "format-mboxrd", 2 }, { "format-mboxo", 2 }, { "format-crlf", 3 },
		{ "format-nofinalnl", 2 }, { "format-empty", 0 }, { "format-fromonly", 3 },
		{ "malformed-truncated", 3 }, { "malformed-deep", 2 }, { "malformed-nul", 3 },
		{ "nested", 5 }, { "sample", 5 },
	};
	for (size_t i = 0; i < nelem(cases); i++) {
		Box *b = tbox(cases[i].box);
		ck_assert_msg(b != NULL, "%s: %s", cases[i].box, errmsg());
		ck_assert_msg(b->nmsgs == cases[i].n, "%s: %zu messages", cases[i].box, b->nmsgs);
		for (size_t j = 0; j < b->nmsgs; j++)
			ck_assert_int_eq(b->msgs[j].id, j + 1);
	}
}
END_TEST

START_TEST(corpus_not_mbox)
{
	static const char *files[] = { "testdata/boxes/format-notmbox.txt", "testdata/boxes/format-notmbox.png" };

	for (size_t i = 0; i < nelem(files); i++) {
		ck_assert_ptr_null(box_open(files[i], "notmbox"));
		ck_assert_msg(strstr(errmsg(), "not an mbox") != NULL, "%s", errmsg());
	}
	ck_assert_ptr_null(box_open("testdata/boxes/no-such-file", "nofile"));
	ck_assert_int_eq(errcode(), ENOENT);
}
END_TEST

START_TEST(corpus_crlf_raw)
{
	Blob *raw = tfile("format-crlf/1/raw");
	Blob *uh = tfile("format-crlf/1/unixheader");

	ck_assert_ptr_nonnull(raw);
	ck_assert_ptr_null(memchr(raw->p, '\r', raw->n));
	ck_assert_int_eq(strncmp(raw->p, "From:", 5), 0);
	ck_assert_int_eq(strncmp(uh->p, "From ", 5), 0);
	ck_assert_int_eq(uh->p[uh->n - 1], '\n');
	ck_assert_ptr_null(memchr(uh->p, '\r', uh->n));
	blobunref(raw);
	blobunref(uh);
}
END_TEST

START_TEST(corpus_quoting)
{
	Blob *raw = tfile("format-mboxrd/1/raw");
	Blob *body = tfile("format-mboxrd/1/body");

	ck_assert_ptr_nonnull(strstr(raw->p, "\n>From the desk of Alice\n"));
	ck_assert_ptr_nonnull(strstr(raw->p, "\n>>>From deeper\n"));
	ck_assert_ptr_nonnull(strstr(body->p, "\nFrom the desk of Alice\n"));
	ck_assert_ptr_nonnull(strstr(body->p, "\n>From a quoted line\n"));
	ck_assert_ptr_nonnull(strstr(body->p, "\n>>From deeper\n"));
	ck_assert_ptr_nonnull(strstr(body->p, "\n>Frome is a town"));
	ck_assert_ptr_nonnull(strstr(body->p, "\n> From with a space"));
	blobunref(raw);
	blobunref(body);
}
END_TEST

/* the one header/body split: a blank line of LF or CRLF ends the header */
START_TEST(header_split)
{
	static const struct {
		const char	*msg;
		size_t	hdrlen, bodyoff;
	} t[] = {
		{ "A: 1\nB: 2\n\nbody\n", 10, 11 },		/* LF */
		{ "A: 1\r\nB: 2\r\n\r\nbody\r\n", 12, 14 },	/* CRLF */
		{ "A: 1\r\nB: 2\n\r\nbody\n", 11, 13 },	/* mixed: a CRLF blank line after an LF one */
		{ "A: 1\nB: 2\r\n\nbody\n", 11, 12 },	/* mixed the other way */
		{ "A: 1\nB: 2\n", 10, 10 },			/* a header with no body */
		{ "\nbody\n", 0, 1 },				/* an empty header */
		{ "\r\nbody\r\n", 0, 2 },			/* an empty header, CRLF */
		{ "", 0, 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		size_t hl, bo;
		hdrsplit(t[i].msg, strlen(t[i].msg), &hl, &bo);
		ck_assert_msg(hl == t[i].hdrlen && bo == t[i].bodyoff, "case %zu: %zu %zu, want %zu %zu",
			i, hl, bo, t[i].hdrlen, t[i].bodyoff);
	}
	ck_assert(iscrlf("A: 1\r\n", 7));
	ck_assert(!iscrlf("A: 1\n", 5));
	ck_assert(!iscrlf("", 0));
}
END_TEST

/* an LF From_ line above a CRLF message: the message's own lines decide */
START_TEST(crlf_under_lf_envelope)
{
	char path[] = "/tmp/check_mbox.XXXXXX";
	const char *mbox = "From a@b.c Mon Jan  1 00:00:00 2024\nFrom: a@b.c\r\nSubject: crlf\r\n\r\nhello\r\n\n"
		"From a@b.c Mon Jan  1 00:00:01 2024\r\nSubject: lf\n\nthere\n";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, mbox, strlen(mbox)), (ssize_t)strlen(mbox));
	close(fd);
	Box *b = box_open(path, "crlfenv");
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(b->nmsgs, 2);
	Buf raw = { 0 }, env = { 0 };
	ck_assert_int_eq(b->ops->fetch(b, &b->msgs[0], &raw, &env), 0);
	ck_assert_str_eq(raw.p, "From: a@b.c\nSubject: crlf\n\nhello\n");
	ck_assert_str_eq(env.p, "From a@b.c Mon Jan  1 00:00:00 2024\n");
	ck_assert_int_eq(b->ops->fetch(b, &b->msgs[1], &raw, &env), 0);
	ck_assert_str_eq(raw.p, "Subject: lf\n\nthere\n");
	ck_assert_str_eq(env.p, "From a@b.c Mon Jan  1 00:00:01 2024\n");	/* its CR is gone too */
	buffree(&raw);
	buffree(&env);
	unlink(path);
}
END_TEST

Suite *
mbox_suite(void)
{
	Suite *s = suite_create("mbox");
	TCase *t = tcase_create("scanner");

	tcase_add_test(t, fromline_shapes);
	tcase_add_test(t, boundaries_and_separator);
	tcase_add_test(t, unquoted_from_in_body);
	tcase_add_test(t, crlf_file);
	tcase_add_test(t, no_final_newline);
	tcase_add_test(t, empty_and_blank);
	tcase_add_test(t, not_an_mbox);
	tcase_add_test(t, envelope_only);
	tcase_add_test(t, mboxrd_unquote);
	tcase_add_test(t, two_threads_agree);
	suite_add_tcase(s, t);
	t = tcase_create("corpus");
	tcase_add_test(t, corpus_counts);
	tcase_add_test(t, corpus_not_mbox);
	tcase_add_test(t, corpus_crlf_raw);
	tcase_add_test(t, corpus_quoting);
	suite_add_tcase(s, t);
	t = tcase_create("header split");
	tcase_add_test(t, header_split);
	tcase_add_test(t, crlf_under_lf_envelope);
	suite_add_tcase(s, t);
	return s;
}
