/*
 * threadbench: thread a mailbox in-process, the way mailfs makes its
 * threads file: the box opened with mailfs's own backend, the summaries
 * read from every header once (timed apart), then threads_make five
 * times over them, which is the threading with the summaries at hand.
 *
 *	threadbench MBOX
 *
 * Prints "threads: N messages, T threads, median S s of 5 runs (min A,
 * max B); summaries read in R s".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "tree/tree.h"
#include "timing.h"

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: threadbench MBOX\n");
		return 2;
	}
	tree_init();
	msg_init(0);
	Box *b = box_open(argv[1], "mbox");
	if (b == NULL) {
		fprintf(stderr, "threadbench: %s: %s\n", argv[1], errmsg());
		return 1;
	}
	Buf out = { 0 };
	double t[5], t0 = now();
	tree_lock();
	threads_make(&out, b, 0);	/* reads and keeps every message's summary */
	double summ = now() - t0;
	for (int i = 0; i < 5; i++) {
		bufreset(&out);
		t0 = now();
		threads_make(&out, b, 0);
		t[i] = now() - t0;
	}
	tree_unlock();
	size_t roots = 0;
	for (size_t i = 0; i < out.n; i++)
		roots += out.p[i] == '0' && (i == 0 || out.p[i - 1] == '\n');
	qsort(t, 5, sizeof *t, cmp);
	printf("threads: %zu messages, %zu threads, median %.3f s of 5 runs (min %.3f, max %.3f); summaries read in %.1f s\n",
		b->nmsgs, roots, t[2], t[0], t[4], summ);
	return 0;
}
