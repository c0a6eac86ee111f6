/*
 * ixquery: the index's search, in-process: the box opened with mailfs's
 * own backend, its index (already built under DIR) brought up to date,
 * then each query answered REPS times.
 *
 *	ixquery DIR MBOX REPS QUERY...
 *
 * Prints, a query a line, "query Q: N matches, median M ms of REPS (min
 * A, max B)", after "ready in S s" (the time to know every message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tree/tree.h"
#include "timing.h"

int
main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: ixquery DIR MBOX REPS QUERY...\n");
		return 2;
	}
	tree_init();
	msg_init(0);
	part_init();
	index_setdir(argv[1]);
	Box *b = box_open(argv[2], "mbox");
	if (b == NULL) {
		fprintf(stderr, "ixquery: %s: %s\n", argv[2], errmsg());
		return 1;
	}
	int reps = atoi(argv[3]);
	double t0 = now();
	index_sync(b);
	printf("ready in %.3f s\n", now() - t0);
	double *t = malloc((reps + 1) * sizeof *t);
	for (int q = 4; q < argc; q++) {
		size_t matches = 0;
		for (int i = 0; i < reps; i++) {
			t0 = now();
			Blob *r = index_search(b, argv[q], strlen(argv[q]));
			t[i] = now() - t0;
			if (r == NULL) {
				fprintf(stderr, "ixquery: %s: %s\n", argv[q], errmsg());
				return 1;
			}
			matches = 0;
			for (size_t k = 0; k < r->n; k++)
				matches += (k == 0 || r->p[k - 1] == ' ') && r->p[k] != ' ';
			blobunref(r);
		}
		qsort(t, reps, sizeof *t, cmp);
		printf("query %s: %zu matches, median %.3f ms of %d (min %.3f, max %.3f)\n", argv[q], matches,
			t[reps / 2] * 1e3, reps, t[0] * 1e3, t[reps - 1] * 1e3);
	}
	return 0;
}
