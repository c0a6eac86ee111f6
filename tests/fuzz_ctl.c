/*
 * libFuzzer target for the ctl grammar (ctl.c): the input's lines are
 * commands, written to the box's ctl file or, when a line starts with
 * '@', to the root's, against a copy of the sample mailbox, and applied
 * as a close of the file would apply them; deletes really delete, so a
 * box worn down to one message gets the sample again.  Closing the
 * sample box is left out: each box opened takes a box number for good,
 * and a run has 255.  $HOME (where relative
 * save and open paths lead) is a directory of the fuzzer's own, and a
 * '/' that does not follow a digit becomes '_', so no command reaches a
 * file outside it ("12/" as acme Mail sends it stays).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tree/tree.h"

static char home[64], box[96], sample[4096];

/* from's bytes to to: in place of what it held (O_TRUNC), or after it (O_APPEND) */
static void
copy(const char *from, const char *to, int how)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | how, 0600);
	char buf[65536];
	ssize_t n;

	if (in < 0 || out < 0)
		abort();
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			abort();
	close(in);
	close(out);
}

/*
 * The sample box, open from the first run on; worn down below two
 * messages, the sample is delivered to it again (appended, and taken in
 * as new mail), so deletes always have something to delete.
 */
static void
fresh(void)
{
	Box *b = box_byname("mbox");

	if (b == NULL) {
		copy(sample, box, O_TRUNC);
		if ((b = box_open(box, "mbox")) == NULL) {
			fprintf(stderr, "fuzz_ctl: %s\n", errmsg());
			abort();
		}
	}
	if (b->nmsgs >= 2)
		return;
	copy(sample, box, O_APPEND);
	tree_lock();
	watch_sync(b);
	tree_unlock();
	if (b->nmsgs < 2)
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("SRCDIR");

	(void)argc;
	(void)argv;
	snprintf(home, sizeof home, "/tmp/fuzz_ctl.%d", (int)getpid());
	snprintf(box, sizeof box, "%s/box", home);
	snprintf(sample, sizeof sample, "%s/testdata/sample.mbox", src && *src ? src : ".");
	char mail[128];
	snprintf(mail, sizeof mail, "%s/mail", home);
	if ((mkdir(home, 0700) < 0 && access(home, W_OK) < 0) || (mkdir(mail, 0700) < 0 && access(mail, W_OK) < 0))
		abort();
	setenv("HOME", home, 1);
	setenv("TZ", "UTC", 1);
	tree_init();
	msg_init(4 << 20);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	Qpath boxctl, boxdir;

	for (size_t i = 0; i < size; i++)
		text[i] = data[i] == '/' && (i == 0 || data[i - 1] < '0' || data[i - 1] > '9') ? '_' : data[i];
	text[size] = 0;
	fresh();
	if (tree_walk(QROOT, "mbox", &boxdir) < 0 || tree_walk(boxdir, "ctl", &boxctl) < 0)
		abort();
	Qpath rootctl;
	if (tree_walk(QROOT, "ctl", &rootctl) < 0)
		abort();
	Ctlcmd *cmds[64];
	size_t n = 0;
	for (char *line = text, *nl; line < text + size && n < 64; line = nl + 1) {
		nl = memchr(line, '\n', text + size - line);
		if (nl == NULL)
			nl = text + size;
		int root = line < nl && *line == '@';
		char *cmd = line + root;
		if (nl - cmd >= 5 && strncmp(cmd, "close", 5) == 0)
			continue;
		Ctlcmd *c = ctl_parse(root ? rootctl : boxctl, cmd, nl - cmd);
		if (c)
			cmds[n++] = c;
	}
	ctl_apply(cmds, n);
	for (size_t i = 0; i < n; i++)
		ctl_free(cmds[i]);
	free(text);
	return 0;
}
