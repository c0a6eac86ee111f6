/*
 * Read-ahead: a message read away from the cache and parsed unlocked
 * is cached as if a reader had made it, unless its store changed
 * meanwhile; and the thread, following a reader message by message,
 * makes the same bytes the reader would have.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static int
same(const Blob *a, const Blob *b)
{
	return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* message id of b, read with the cache empty and detached, and its info made as the thread does */
static Msg *
detachinfo(Box *b, uint32_t id, Blob **info)
{
	tree_lock();
	msg_flush();
	Msg *m = msg_detach(b, id);
	tree_unlock();
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(part_build(m), 0);
	*info = file_content(m->parts[0], file_kind("info"));
	ck_assert_ptr_nonnull(*info);
	return m;
}

START_TEST(detached_is_adopted)
{
	Box *b = tbox("sample");
	int info = file_kind("info");
	Blob *made;

	ck_assert_ptr_nonnull(b);
	uint32_t id = b->msgs[0].id;
	Msg *m = detachinfo(b, id, &made);
	tree_lock();
	ck_assert_int_eq(msg_adopt(m), 1);
	Msg *c = msg_get(b, id);
	ck_assert_ptr_eq(c, m);
	ck_assert_ptr_nonnull(c->parts[0]->files[info]);
	msg_put(c);
	ck_assert_ptr_null(msg_detach(b, id));	/* cached: nothing to read ahead */
	tree_unlock();
	Blob *read = tfile("sample/1/info");
	ck_assert_ptr_nonnull(read);
	ck_assert(same(made, read));
	blobunref(made);
	blobunref(read);
}
END_TEST

START_TEST(changed_meanwhile_is_dropped)
{
	Box *b = tbox("sample");
	Blob *stale;

	ck_assert_ptr_nonnull(b);
	uint32_t id = b->msgs[1].id;
	Msg *m = detachinfo(b, id, &stale);
	tree_lock();
	ck_assert_int_eq(msg_setflags(b, id, Fflagged, 0), 0);	/* while it was being made */
	ck_assert_int_eq(msg_adopt(m), 0);
	tree_unlock();
	char path[64];
	snprintf(path, sizeof path, "sample/%u/info", id);
	Blob *fresh = tfile(path);
	ck_assert_ptr_nonnull(fresh);
	ck_assert(!same(stale, fresh));
	ck_assert_msg(strstr(fresh->p, "\nflags ---f") != NULL, "%s", fresh->p);
	blobunref(stale);
	blobunref(fresh);
}
END_TEST

/*
 * Nothing made unlocked looks at the box's index, which new mail or a
 * re-read may move meanwhile: here it is freed while the message is
 * made (AddressSanitizer reports any look), and put back before adopt.
 */
START_TEST(detached_never_reads_the_index)
{
	static const char *files[] = { "info", "body", "digest", "raw", "lines", "size", "flags" };
	Box *b = tbox("sample");

	ck_assert_ptr_nonnull(b);
	tree_lock();
	msg_flush();
	Msg *m = msg_detach(b, b->msgs[2].id);
	ck_assert_ptr_nonnull(m);
	Msgent *copy = xmalloc(b->capmsgs * sizeof *copy);
	memcpy(copy, b->msgs, b->nmsgs * sizeof *copy);
	free(b->msgs);	/* dangling until put back: as if moved by a realloc */
	tree_unlock();
	ck_assert_int_eq(part_build(m), 0);
	for (size_t i = 0; i < nelem(files); i++)
		blobunref(file_content(m->parts[0], file_kind(files[i])));
	tree_lock();
	b->msgs = copy;
	ck_assert_int_eq(msg_adopt(m), 1);
	tree_unlock();
}
END_TEST

/* read every message's FILE in order (dir 1) or backwards (-1), pausing so the thread can run */
static Blob **
readall(Box *b, const char *file, int dir, int pause)
{
	Blob **out = xzalloc(b->nmsgs * sizeof *out);

	for (size_t k = 0; k < b->nmsgs; k++) {
		size_t i = dir > 0 ? k : b->nmsgs - 1 - k;
		char path[128];
		snprintf(path, sizeof path, "%s/%u/%s", b->name, b->msgs[i].id, file);
		out[i] = tfile(path);
		ck_assert_msg(out[i] != NULL, "%s: %s", path, errmsg());
		if (pause)
			usleep(20000);
	}
	return out;
}

START_TEST(reader_gets_the_same_bytes)
{
	static const char *files[] = { "info", "body", "subject" };
	Box *b = tbox("charsets");

	ck_assert_ptr_nonnull(b);
	for (size_t f = 0; f < nelem(files); f++) {
		tree_lock();
		msg_flush();
		tree_unlock();
		Blob **want = readall(b, files[f], 1, 0);	/* no thread yet: the reader's own */
		prefetch_start();
		for (int dir = 1; dir >= -1; dir -= 2) {
			size_t before = prefetch_made();
			tree_lock();
			msg_flush();
			tree_unlock();
			Blob **got = readall(b, files[f], dir, 1);
			ck_assert_msg(prefetch_made() > before, "%s, direction %d: nothing made ahead", files[f], dir);
			for (size_t i = 0; i < b->nmsgs; i++) {
				ck_assert_msg(same(want[i], got[i]), "%s of message %u differs", files[f], b->msgs[i].id);
				blobunref(got[i]);
			}
			free(got);
		}
		for (size_t i = 0; i < b->nmsgs; i++)
			blobunref(want[i]);
		free(want);
	}
	prefetch_stop();
}
END_TEST

Suite *
prefetch_suite(void)
{
	Suite *s = suite_create("prefetch");
	TCase *t = tcase_create("read-ahead");

	tcase_add_test(t, detached_is_adopted);
	tcase_add_test(t, changed_meanwhile_is_dropped);
	tcase_add_test(t, detached_never_reads_the_index);
	tcase_add_test(t, reader_gets_the_same_bytes);
	suite_add_tcase(s, t);
	return s;
}
