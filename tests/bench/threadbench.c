/*
 * threadbench: thread a mailbox in-process with mailfs's thread.c, the
 * summaries at hand: the header fields threading needs are read out of
 * the mbox first (not timed), then thread_make runs five times.
 *
 *	threadbench MBOX
 *
 * Prints "threads: N messages, T threads, median S s of 5 runs (min A,
 * max B)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "tree/tree.h"

static char *
field(char *hdr, const char *name)
{
	size_t n = strlen(name);

	for (char *l = hdr; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
			Buf v = { 0 };
			for (char *p = l + n + 1;; p++) {	/* unfolded */
				if (*p == '\n' && (p[1] == ' ' || p[1] == '\t'))
					continue;
				if (*p == '\n' || !*p)
					break;
				bufputc(&v, *p);
			}
			bufputc(&v, 0);
			return v.p;
		}
	return NULL;
}

/* the <ids> of v, into a malloc'd array */
static size_t
ids(char *v, const char ***out)
{
	size_t n = 0;

	*out = NULL;
	for (char *lt = v ? strchr(v, '<') : NULL; lt; lt = strchr(lt + 1, '<')) {
		char *gt = strchr(lt, '>');
		if (gt == NULL)
			break;
		*out = realloc(*out, (n + 1) * sizeof **out);
		(*out)[n++] = strndup(lt, gt - lt + 1);
	}
	return n;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: threadbench MBOX\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (f == NULL) {
		perror(argv[1]);
		return 1;
	}
	Tmsg *m = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	Buf hdr = { 0 };
	int inhdr = 0;
	for (ssize_t k; (k = getline(&line, &lcap, f)) >= 0;) {
		if (strncmp(line, "From ", 5) == 0 && !inhdr) {
			inhdr = 1;
			bufreset(&hdr);
			continue;
		}
		if (!inhdr)
			continue;
		if (line[0] != '\n') {
			bufadd(&hdr, line, k);
			continue;
		}
		inhdr = 0;
		bufputc(&hdr, 0);
		if (n == cap)
			m = realloc(m, (cap = cap ? 2 * cap : 1024) * sizeof *m);
		const char **mid, **refs;
		char *r = field(hdr.p, "References");
		size_t nm = ids(field(hdr.p, "Message-ID"), &mid);
		size_t nr = ids(r ? r : field(hdr.p, "In-Reply-To"), &refs);
		m[n] = (Tmsg){ (uint32_t)n + 1, (int64_t)n, nm ? mid[0] : NULL, refs, nr, field(hdr.p, "Subject") };
		n++;
	}
	double t[5];
	Buf out = { 0 };
	for (int i = 0; i < 5; i++) {
		bufreset(&out);
		double t0 = now();
		thread_make(&out, m, n, 0);
		t[i] = now() - t0;
	}
	size_t roots = 0;
	for (size_t i = 0; i < out.n; i++)
		roots += out.p[i] == '0' && (i == 0 || out.p[i - 1] == '\n');
	qsort(t, 5, sizeof *t, cmp);
	printf("threads: %zu messages, %zu threads, median %.3f s of 5 runs (min %.3f, max %.3f)\n",
		n, roots, t[2], t[0], t[4]);
	return 0;
}
