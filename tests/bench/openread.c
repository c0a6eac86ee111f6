/*
 * openread: open, read and close one file, over and over, and print
 * the median and the quartiles of one round in microseconds: what a
 * small already-cached file costs through a file system.
 *
 *	openread [-n ROUNDS] FILE
 *
 * Prints "openread FILE: median M us, quartiles Q1-Q3 us, N rounds".
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int
main(int argc, char **argv)
{
	static char buf[1 << 16];
	int n = 20000, c;

	while ((c = getopt(argc, argv, "n:")) != -1)
		if (c == 'n' && (n = atoi(optarg)) > 0)
			continue;
		else {
			fprintf(stderr, "usage: openread [-n ROUNDS] FILE\n");
			return 2;
		}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: openread [-n ROUNDS] FILE\n");
		return 2;
	}
	const char *path = argv[optind];
	double *t = malloc(n * sizeof *t);
	if (t == NULL)
		return 1;
	for (int i = -n / 10; i < n; i++) {	/* a tenth more first, to warm up */
		double t0 = now();
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			perror(path);
			return 1;
		}
		while (read(fd, buf, sizeof buf) > 0)
			;
		close(fd);
		if (i >= 0)
			t[i] = now() - t0;
	}
	qsort(t, n, sizeof *t, cmp);
	printf("openread %s: median %.1f us, quartiles %.1f-%.1f us, %d rounds\n",
		path, t[n / 2], t[n / 4], t[3 * n / 4], n);
	free(t);
	return 0;
}
