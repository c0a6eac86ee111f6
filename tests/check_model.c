/*
 * The message model, through the tree: part structure, the rfc822
 * model, and properties every file of every corpus message must have
 * (stat length equals content, info is never empty and has no empty
 * line, unixdate has the six fields acme Mail counts).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "model/gm.h"	/* the model's own: GMime's parse compared */

static char *
str(const char *path)
{
	static char buf[8192];
	Blob *b = tfile(path);

	ck_assert_msg(b != NULL, "%s: %s", path, errmsg());
	snprintf(buf, sizeof buf, "%s", b->p);
	blobunref(b);
	return buf;
}

typedef struct Names Names;
struct Names {
	char	list[4096];
};

static int
addname(void *arg, const Dirinfo *d, uint64_t next)
{
	Names *n = arg;

	(void)next;
	if (d->name[0] >= '0' && d->name[0] <= '9') {
		strcat(n->list, d->name);
		strcat(n->list, " ");
	}
	return 0;
}

/* the numbered entries of a directory, space-separated */
static char *
parts(const char *path)
{
	static Names n;
	Dirinfo d;

	memset(&n, 0, sizeof n);
	ck_assert_msg(tstat(path, &d) == 0, "%s: %s", path, errmsg());
	ck_assert_int_eq(tree_readdir(d.q, 0, addname, &n), 0);
	return n.list;
}

START_TEST(single_part_has_no_children)
{
	ck_assert_str_eq(parts("plain/2"), "");
	ck_assert_str_eq(str("plain/2/type"), "text/plain");
}
END_TEST

START_TEST(forward_model)
{
	ck_assert_str_eq(parts("nested/2"), "1 2 ");
	ck_assert_str_eq(str("nested/2/2/type"), "message/rfc822");
	ck_assert_str_eq(parts("nested/2/2"), "1 ");
	ck_assert_str_eq(str("nested/2/2/1/type"), "multipart/mixed");
	ck_assert_str_eq(parts("nested/2/2/1"), "1 2 ");
	/* the envelope shows at the rfc822 part and at its child 1 */
	ck_assert_str_eq(str("nested/2/2/from"), "'Alice Example' alice@example.org");
	ck_assert_str_eq(str("nested/2/2/1/subject"), "Quarterly numbers");
	ck_assert_str_eq(str("nested/2/2/1/2/filename"), "q2.csv");
	ck_assert_str_eq(str("nested/2/2/1/2/from"), "");
}
END_TEST

START_TEST(toplevel_rfc822)
{
	ck_assert_str_eq(str("nested/5/type"), "message/rfc822");
	ck_assert_str_eq(parts("nested/5"), "1 ");
	ck_assert_str_eq(str("nested/5/1/from"), "'Bob Builder' bob@example.org");
	ck_assert_str_eq(str("nested/5/1/2/1/from"), "'Dave Lister' dave@example.net");
}
END_TEST

START_TEST(deep_nesting)
{
	char path[8192] = "malformed-deep/1";
	int depth = 0;
	Dirinfo d;

	while (strlen(path) + 3 < sizeof path) {
		strcat(path, "/1");
		if (tstat(path, &d) < 0 || !d.isdir)
			break;
		depth++;
	}
	ck_assert_int_ge(depth, 1000);
}
END_TEST

START_TEST(walk_errors)
{
	Dirinfo d;

	ck_assert_int_eq(tstat("sample/0", &d), -1);
	ck_assert_int_eq(tstat("sample/01", &d), -1);
	ck_assert_int_eq(tstat("sample/6", &d), -1);
	ck_assert_int_eq(errcode(), ENOENT);
	ck_assert_int_eq(tstat("sample/1/nosuchfile", &d), -1);
	ck_assert_int_eq(tstat("sample/1/1", &d), -1);
	ck_assert_int_eq(tstat("sample/1/subject/x", &d), -1);
	ck_assert_int_eq(errcode(), ENOTDIR);
	/* top-level-only files are not in parts */
	ck_assert_int_eq(tstat("sample/4/1/unixheader", &d), -1);
	/* body.<ext> names body, as plumbed part paths need */
	ck_assert_int_eq(tstat("sample/4/2/body.pdf", &d), 0);
	ck_assert_str_eq(d.name, "body");
	ck_assert_int_eq(tstat("sample/4/2/..", &d), 0);
	ck_assert_str_eq(d.name, "4");
}
END_TEST

/* every file below dir, recursively: the invariants */
typedef struct Walk Walk;
struct Walk {
	Qpath	q[256];
	int	isdir[256];
	char	name[256][32];
	int	n;
};

static int
collect(void *arg, const Dirinfo *d, uint64_t next)
{
	Walk *w = arg;

	(void)next;
	if (w->n < 256) {
		w->q[w->n] = d->q;
		w->isdir[w->n] = d->isdir;
		snprintf(w->name[w->n], 32, "%s", d->name);
		w->n++;
	}
	return 0;
}

static void
checkinfo(const char *where, const Blob *b, int top)
{
	ck_assert_msg(b->n > 0, "%s: empty info", where);
	ck_assert_msg(b->p[0] != '\n' && strstr(b->p, "\n\n") == NULL, "%s: empty line in info", where);
	ck_assert_msg(strstr(b->p, "type ") != NULL, "%s: no type line", where);
	if (top) {
		ck_assert_msg(strncmp(b->p, "unixdate ", 9) == 0, "%s: no unixdate first", where);
		char *nl = strchr(b->p, '\n');
		int fields = 0;
		for (const char *c = b->p + 9, *e = nl; c < e; c++)
			if (*c != ' ' && (c == b->p + 9 || c[-1] == ' '))
				fields++;
		ck_assert_msg(fields == 7, "%s: unixdate has %d fields", where, fields);
		ck_assert_msg(strstr(b->p, "\ndigest ") != NULL, "%s: no digest", where);
	}
}

static int nfiles;

static void
walktree(Qpath dir, const char *where, int depth)
{
	Walk *w = xzalloc(sizeof *w);

	ck_assert_msg(tree_readdir(dir, 0, collect, w) == 0, "%s: %s", where, errmsg());
	for (int i = 0; i < w->n; i++) {
		char path[512];
		Dirinfo d;
		Qpath q;
		snprintf(path, sizeof path, "%s/%s", where, w->name[i]);
		ck_assert_msg(tree_walk(dir, w->name[i], &q) == 0 && q == w->q[i], "%s: walk", path);
		ck_assert_msg(tree_stat(q, &d) == 0, "%s: stat: %s", path, errmsg());
		ck_assert_str_eq(d.name, w->name[i]);
		if (w->isdir[i]) {
			if (depth < 8)
				walktree(q, path, depth + 1);
			continue;
		}
		Blob *b = tree_read(q);
		ck_assert_msg(b != NULL, "%s: read: %s", path, errmsg());
		/* a file made at each open (threads) is length 0, as ctl is */
		ck_assert_msg(tree_how(q) == Hlive ? d.length == 0 : b->n == d.length, "%s: stat %llu, read %zu", path,
			(unsigned long long)d.length, b->n);
		if (strcmp(w->name[i], "info") == 0)
			checkinfo(path, b, depth == 1);
		static const char *nonl[] = { "subject", "from", "to", "messageid", "inreplyto", "date", "type", "digest" };
		for (size_t k = 0; k < nelem(nonl); k++)
			if (strcmp(w->name[i], nonl[k]) == 0)
				ck_assert_msg(memchr(b->p, '\n', b->n) == NULL, "%s: newline", path);
		blobunref(b);
		nfiles++;
	}
	free(w);
}

static const char *corpus[] = {
	"sample", "plain", "alternative", "mixed", "nested", "rfc2047", "charsets", "headers",
	"format-mboxrd", "format-mboxo", "format-crlf", "format-nofinalnl", "format-empty",
	"format-fromonly", "malformed-boundary", "malformed-base64", "malformed-nocolon",
	"malformed-nul", "malformed-8bit-headers", "malformed-charset", "malformed-longheader",
	"malformed-truncated",
};

START_TEST(every_file_consistent)
{
	const char *name = corpus[_i];
	Box *b = tbox(name);
	Dirinfo d;

	ck_assert_msg(b != NULL, "%s: %s", name, errmsg());
	ck_assert_int_eq(tstat(name, &d), 0);
	nfiles = 0;
	walktree(d.q, name, 0);
	ck_assert_msg(nfiles >= (int)b->nmsgs * 20, "%s: only %d files", name, nfiles);
}
END_TEST

/*
 * A top-level file made from the header-only parse (how info is
 * usually first read) must equal the same file made after the full
 * parse (how a listing makes it).
 */
START_TEST(header_parse_equals_full)
{
	const char *name = corpus[_i];
	Box *b = tbox(name);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < b->nmsgs; i++) {
		for (int k = 1; k <= file_count(); k++) {
			char path[256];
			if (!(file_where(k) & Ftop))
				continue;
			snprintf(path, sizeof path, "%s/%u/%s", name, b->msgs[i].id, file_name(k));
			msg_flush();
			Blob *light = tfile(path);
			ck_assert_msg(light != NULL, "%s: %s", path, errmsg());
			msg_flush();
			Msg *m = msg_get(b, b->msgs[i].id);
			ck_assert_int_eq(part_full(m), 0);
			Blob *full = tfile(path);
			msg_put(m);
			ck_assert_msg(full != NULL, "%s: %s", path, errmsg());
			ck_assert_msg(light->n == full->n && (full->n == 0 || memcmp(light->p, full->p, full->n) == 0),
				"%s: header-only parse gives\n%s\nfull parse gives\n%s", path, light->p, full->p);
			blobunref(light);
			blobunref(full);
		}
	}
}
END_TEST

/*
 * The body of a top-level multipart is its stored body: made from the
 * header's word alone, with no parse of the MIME tree (what that parse
 * would give is header_parse_equals_full's to check).
 */
START_TEST(multipart_body_needs_no_parse)
{
	Box *b = tbox("alternative");

	ck_assert_ptr_nonnull(b);
	msg_flush();
	Blob *body = tfile("alternative/1/body");
	ck_assert_msg(body != NULL, "%s", errmsg());
	ck_assert_str_eq(str("alternative/1/type"), "multipart/alternative");
	Msg *m = msg_get(b, b->msgs[0].id);
	ck_assert_msg(!m->full, "reading the body parsed the whole MIME tree");
	ck_assert_ptr_nonnull(memmem(body->p, body->n, "Content-Type:", 13));
	msg_put(m);
	blobunref(body);
}
END_TEST

/*
 * Two Content-Type fields, multipart first: GMime's parse takes the
 * last, a text part, so the body is that text in UTF-8, as the full
 * parse makes it, and not the stored body.
 */
START_TEST(two_content_types_body_as_parsed)
{
	char path[] = "/tmp/check-dupct-XXXXXX";
	int fd = mkstemp(path);
	static const char mail[] =
		"From a@example.org Mon Jun 15 10:00:00 2026\n"
		"From: a@example.org\n"
		"Subject: two types\n"
		"Content-Type: multipart/mixed; boundary=x\n"
		"Content-Type: text/plain; charset=iso-8859-1\n"
		"\n"
		"caf\xe9\n";

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, mail, sizeof mail - 1), (ssize_t)(sizeof mail - 1));
	close(fd);
	Box *b = box_open(path, "dupct");
	unlink(path);
	ck_assert_ptr_nonnull(b);
	msg_flush();
	Blob *light = tfile("dupct/1/body");
	ck_assert_ptr_nonnull(light);
	Msg *m = msg_get(b, b->msgs[0].id);
	ck_assert_int_eq(part_full(m), 0);
	msg_put(m);
	ck_assert_str_eq(light->p, "caf\xc3\xa9\n");
	blobunref(light);
}
END_TEST

/* References: the ids in order, one a line; <...> with white space skipped; the last max kept */
START_TEST(references_ids)
{
	Buf raw = { 0 }, out = { 0 };
	Hdr h = { 0 };

	bufputs(&raw, "Subject: x\nReferences: <a@x> junk <not an id> <b@x>\n\t<c@x>(comment)<>\n\n");
	hdr_parse(&h, raw.p, raw.n);
	hdr_ids(&out, &h, "References", 64);
	ck_assert_str_eq(out.p, "<a@x>\n<b@x>\n<c@x>\n");
	bufreset(&out);
	hdr_ids(&out, &h, "References", 2);
	ck_assert_str_eq(out.p, "<b@x>\n<c@x>\n");
	bufreset(&out);
	hdr_ids(&out, &h, "In-Reply-To", 64);
	ck_assert_uint_eq(out.n, 0);
	hdr_free(&h);
	buffree(&raw);
	buffree(&out);
}
END_TEST

/* our split of a stored header agrees with GMime's parse of it */
START_TEST(header_split_agrees_with_gmime)
{
	const char *name = corpus[_i];
	Box *b = tbox(name);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < b->nmsgs; i++) {
		Msg *m = msg_get(b, b->msgs[i].id);
		ck_assert_int_eq(part_full(m), 0);
		Hdr ours = { 0 }, theirs = { 0 };
		hdr_parse(&ours, m->raw.p, m->hdrlen);
		hdr_fromgmime(&theirs, m->gm);
		Buf a = { 0 }, g = { 0 };
		hdr_all(&a, &ours);
		hdr_all(&g, &theirs);
		ck_assert_msg(a.n == g.n && (a.n == 0 || memcmp(a.p, g.p, a.n) == 0),
			"%s/%u: ours\n%s\nGMime's\n%s", name, m->id, a.p ? a.p : "", g.p ? g.p : "");
		buffree(&a);
		buffree(&g);
		hdr_free(&ours);
		hdr_free(&theirs);
		msg_put(m);
	}
}
END_TEST

Suite *
model_suite(void)
{
	Suite *s = suite_create("model");
	TCase *t = tcase_create("structure");

	tcase_add_test(t, single_part_has_no_children);
	tcase_add_test(t, forward_model);
	tcase_add_test(t, toplevel_rfc822);
	tcase_add_test(t, deep_nesting);
	tcase_add_test(t, walk_errors);
	tcase_add_test(t, references_ids);
	tcase_add_test(t, multipart_body_needs_no_parse);
	tcase_add_test(t, two_content_types_body_as_parsed);
	suite_add_tcase(s, t);
	t = tcase_create("invariants");
	tcase_set_timeout(t, 60);
	tcase_add_loop_test(t, every_file_consistent, 0, nelem(corpus));
	tcase_add_loop_test(t, header_parse_equals_full, 0, nelem(corpus));
	tcase_add_loop_test(t, header_split_agrees_with_gmime, 0, nelem(corpus));
	suite_add_tcase(s, t);
	return s;
}
