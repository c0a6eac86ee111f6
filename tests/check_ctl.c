/*
 * The ctl grammar, through the open-file entry points both transports
 * use: every command, every error, the same answer with either policy,
 * and the transaction rule of an open through the mount.  The box is a
 * copy of the sample, since commands change it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"

static char dir[] = "/tmp/check_ctl.XXXXXX";
static Box *box;
static Qpath ctlq;

static void
setup(void)
{
	char path[64], cmd[256];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/box", dir);
	snprintf(cmd, sizeof cmd, "cp '%s/testdata/sample.mbox' '%s'", getenv("SRCDIR") ? getenv("SRCDIR") : ".", path);
	ck_assert_int_eq(system(cmd), 0);
	setenv("HOME", dir, 1);
	box = box_open(path, "ctltest");
	ck_assert_ptr_nonnull(box);
	Qpath bq;
	ck_assert_int_eq(tree_walk(QROOT, "ctltest", &bq), 0);
	ck_assert_int_eq(tree_walk(bq, "ctl", &ctlq), 0);
}

static void
teardown(void)
{
	char cmd[128];

	tree_lock();
	box->closed = 1;	/* out of the root; the box itself stays, as fids may refer to it */
	tree_unlock();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	system(cmd);
	strcpy(dir + strlen(dir) - 6, "XXXXXX");
}

/* one write to the box ctl with policy; its error text, or "" */
static const char *
say(int policy, const char *cmd)
{
	static char err[256];
	Ofile *f = ofile_open(ctlq, 1, policy);

	ck_assert_ptr_nonnull(f);
	int r = ofile_write(f, cmd, strlen(cmd));
	snprintf(err, sizeof err, "%s", r < 0 ? errmsg() : "");
	if (r == 0 && ofile_flush(f) < 0)
		snprintf(err, sizeof err, "%s", errmsg());
	ofile_close(f);
	return err;
}

static const struct {
	const char	*cmd;
	const char	*err;	/* "" for success */
} grammar[] = {
	{ "refresh", "" },
	{ "refresh extra fields", "" },
	{ "read 1", "" },
	{ "read 1/", "" },
	{ "replied 2", "" },
	{ "junk 3", "" },
	{ "nonjunk 3", "" },
	{ "flag +f-r 1", "" },
	{ "flag seen 2", "" },
	{ "delete", "" },
	{ "delete ctltest", "" },
	{ "delete 99", "" },		/* unknown numbers are skipped */
	{ "close", "" },
	{ "", "unknown control message" },
	{ "bogus 1", "unknown control message" },
	{ "delete 1x", "bad message number" },
	{ "delete -3", "bad message number" },
	{ "read 1x", "bad message number" },
	{ "read", "bad control message" },
	{ "read 99", "no such message" },
	{ "flag +q 1", "bad flag" },
	{ "flag +s", "bad control message" },
	{ "save stored", "bad control message" },
	{ "save stored 99", "no such message" },
	{ "open", "invalid arguments" },
	{ "open a b c", "invalid arguments" },
	{ "open x a/b", "/ not allowed in mailbox name" },
};

START_TEST(every_command_and_error)
{
	for (size_t i = 0; i < sizeof grammar / sizeof grammar[0]; i++) {
		const char *e = say(0, grammar[i].cmd);
		ck_assert_msg(strncmp(e, grammar[i].err, strlen(grammar[i].err)) == 0 && (*grammar[i].err || !*e),
			"'%s' over 9P: '%s', want '%s'", grammar[i].cmd, e, grammar[i].err);
		char line[128];
		snprintf(line, sizeof line, "%s\n", grammar[i].cmd);
		const char *m = say(Obatch, line);
		if (*grammar[i].cmd == 0)
			continue;	/* through the mount an empty line is no command */
		ck_assert_msg(strcmp(e, m) == 0, "'%s': over 9P '%s', through the mount '%s'", grammar[i].cmd, e, m);
	}
}
END_TEST

START_TEST(batch_is_one_transaction)
{
	Ofile *f = ofile_open(ctlq, 1, Obatch);

	ck_assert_int_eq(ofile_write(f, "delete 2\n", 9), 0);
	ck_assert_int_eq(ofile_write(f, "garbage\n", 8), -1);
	ck_assert_str_eq(errmsg(), "unknown control message");
	char buf[64] = { 0 };
	ck_assert_int_eq(ofile_read(f, buf, sizeof buf - 1, 0), 24);
	ck_assert_str_eq(buf, "unknown control message\n");
	ck_assert_int_eq(ofile_write(f, "delete 3\n", 9), -1);	/* void already */
	ck_assert_int_eq(ofile_flush(f), -1);
	ofile_close(f);
	tree_lock();
	ck_assert_ptr_nonnull(box_msg(box, 2));
	ck_assert_ptr_nonnull(box_msg(box, 3));
	tree_unlock();

	f = ofile_open(ctlq, 1, Obatch);
	ck_assert_int_eq(ofile_write(f, "delete 2\ndelete 3\n", 18), 0);
	tree_lock();
	ck_assert_ptr_nonnull(box_msg(box, 2));	/* at close, not before */
	tree_unlock();
	ck_assert_int_eq(ofile_flush(f), 0);
	ofile_close(f);
	tree_lock();
	ck_assert_ptr_null(box_msg(box, 2));
	ck_assert_ptr_null(box_msg(box, 3));
	tree_unlock();
}
END_TEST

START_TEST(each_write_a_command)
{
	Ofile *f = ofile_open(ctlq, 1, 0);

	ck_assert_int_eq(ofile_write(f, "delete 4/", 9), 0);
	tree_lock();
	ck_assert_ptr_null(box_msg(box, 4));	/* before the answer */
	tree_unlock();
	ck_assert_int_eq(ofile_write(f, "garbage", 7), -1);
	ck_assert_int_eq(ofile_write(f, "delete 5", 8), 0);	/* the next write is a command of its own */
	char buf[8];
	ck_assert_int_eq(ofile_read(f, buf, sizeof buf, 0), 0);	/* over 9P a ctl reads as nothing */
	ofile_close(f);
	tree_lock();
	ck_assert_ptr_null(box_msg(box, 5));
	tree_unlock();
}
END_TEST

START_TEST(flags_parser)
{
	static const struct {
		const char	*s;
		int	ok;
		uint16_t	set, clear;
	} t[] = {
		{ "+s-r", 1, Fseen, Frecent },
		{ "s", 1, Fseen, 0 },
		{ "-aDdfrsS", 1, 0, Fanswered | Fdeleted | Fdraft | Fflagged | Frecent | Fseen | Fstored },
		{ "+seen", 1, Fseen, 0 },
		{ "-replied", 1, 0, Fanswered },
		{ "+q", 0, 0, 0 },
		{ "+nosuchflag", 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint16_t set = 0, clear = 0;
		int r = flags_parse(t[i].s, &set, &clear);
		ck_assert_msg((r == 0) == t[i].ok, "%s: %d", t[i].s, r);
		if (t[i].ok)
			ck_assert_msg(set == t[i].set && clear == t[i].clear, "%s: +%#x -%#x", t[i].s, set, clear);
	}
}
END_TEST

Suite *
ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *t = tcase_create("grammar");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, every_command_and_error);
	tcase_add_test(t, batch_is_one_transaction);
	tcase_add_test(t, each_write_a_command);
	tcase_add_test(t, flags_parser);
	suite_add_tcase(s, t);
	return s;
}
