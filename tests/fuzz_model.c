/*
 * libFuzzer target for the message model and every file made from it:
 * the input is one message (mbox-quoted into a mailbox of its own);
 * mailfs opens it and reads every file of every directory of its tree,
 * as a reader opening them would (bounded: 12 levels, 4000 files).
 * Every file's stat length must be the length read.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tree/tree.h"

enum { Walkdepth = 12, Walkfiles = 4000 };

static char path[64];
static int files;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof path, "/tmp/fuzz_model.%d", (int)getpid());
	setenv("TZ", "UTC", 1);
	tree_init();
	msg_init(8 << 20);
	return 0;
}

typedef struct Entries Entries;
struct Entries {
	char	name[256][32];
	int	isdir[256];
	int	n;
};

/* readdir's callback runs with the tree locked: the names only, for after */
static int
entry(void *arg, const Dirinfo *d, uint64_t next)
{
	Entries *e = arg;

	(void)next;
	if (e->n == 256)
		return 1;
	snprintf(e->name[e->n], sizeof e->name[0], "%s", d->name);
	e->isdir[e->n++] = d->isdir;
	return 0;
}

/* every file below dir read, its length checked against its stat */
static void
walkdir(Qpath dir, int depth)
{
	Entries *e = calloc(1, sizeof *e);

	if (depth > Walkdepth || files >= Walkfiles || e == NULL) {
		free(e);
		return;
	}
	tree_readdir(dir, 0, entry, e);
	for (int i = 0; i < e->n && files < Walkfiles; i++) {
		Qpath q;
		Dirinfo st;
		if (tree_walk(dir, e->name[i], &q) < 0 || tree_stat(q, &st) < 0)
			continue;
		if (e->isdir[i]) {
			walkdir(q, depth + 1);
			continue;
		}
		files++;
		int how = tree_how(q);
		if (how != Hread && how != Hflags && how != Hlive)
			continue;
		Blob *b = tree_read(q);
		if (b && how != Hlive && st.length != b->n)
			abort();	/* a stat that says otherwise than the read */
		blobunref(b);
	}
	free(e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Buf mbox = { 0 };

	bufputs(&mbox, "From fuzz@example.org Thu Jan  1 00:00:00 2026\n");
	mbox_quote(&mbox, (const char *)data, size);
	bufputs(&mbox, "\n\n");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, mbox.p, mbox.n) != (ssize_t)mbox.n)
		abort();
	close(fd);
	buffree(&mbox);
	if (box_open(path, "mbox")) {
		Qpath box;
		files = 0;
		if (tree_walk(QROOT, "mbox", &box) == 0)
			walkdir(box, 0);
	}
	Box *b = box_byname("mbox");
	if (b)
		threads_forgetbox(b);
	msg_flush();
	box_closeall();
	unlink(path);
	return 0;
}
