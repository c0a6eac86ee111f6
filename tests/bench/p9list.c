/*
 * p9list: what acme Mail asks of mailfs over 9P, timed.
 *
 *	p9list SOCKET BOX FIRST LAST	read BOX/n/info for n = LAST down to FIRST,
 *					one request at a time, as Mail's listing does
 *	p9list -q QUERY -r REPS [-p] SOCKET BOX
 *					open BOX/search, write QUERY, read the answer,
 *					clunk: REPS times; the median (-p: the answer)
 *	p9list -c FILE SOCKET		the bytes of FILE (a path from the root)
 *
 * Uses mailfs's own 9P codec (mailfs/srv/p9.c): it times the server,
 * it tests nothing (the tests use a client of their own).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "tree/tree.h"
#include "srv/p9.h"
#include "timing.h"

static int fd;

static double
median(double *t, int n)
{
	qsort(t, n, sizeof *t, cmp);
	return t[n / 2];
}

static uint8_t buf[65536];
static char strs[16384];

static void
die(const char *what)
{
	fprintf(stderr, "p9list: %s\n", what);
	exit(1);
}

static void
rpc(Fcall *t, Fcall *r)
{
	size_t n = p9_pack(t, buf, sizeof buf);
	uint8_t sz[4];

	if (n == 0 || write(fd, buf, n) != (ssize_t)n || read(fd, sz, 4) != 4)
		die("connection lost");
	uint32_t m = sz[0] | sz[1] << 8 | sz[2] << 16 | (uint32_t)sz[3] << 24;
	if (m < 7 || m > sizeof buf)
		die("bad reply size");
	memcpy(buf, sz, 4);
	for (size_t got = 4; got < m;) {
		ssize_t k = read(fd, buf + got, m - got);
		if (k <= 0)
			die("connection lost");
		got += k;
	}
	if (p9_unpack(buf, m, r, strs, sizeof strs) < 0)
		die("bad reply");
	if (r->type == Rerror) {
		fprintf(stderr, "p9list: %s\n", r->ename);
		exit(1);
	}
}

static void
dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	Fcall t = { 0 }, r;

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die(strerror(errno));
	t.type = Tversion, t.tag = NOTAG, t.msize = sizeof buf, t.version = "9P2000";
	rpc(&t, &r);
	memset(&t, 0, sizeof t);
	t.type = Tattach, t.tag = 1, t.fid = 0, t.afid = NOFID, t.uname = "bench", t.aname = "";
	rpc(&t, &r);
}

static void
walkopen(const char *box, const char *a, const char *b, int mode)
{
	Fcall t = { 0 }, r;

	t.type = Twalk, t.tag = 1, t.fid = 0, t.newfid = 1;
	t.wname[t.nwname++] = (char *)box;
	if (a)
		t.wname[t.nwname++] = (char *)a;
	if (b)
		t.wname[t.nwname++] = (char *)b;
	rpc(&t, &r);
	if (r.nwqid != t.nwname)
		die("walk failed");
	memset(&t, 0, sizeof t);
	t.type = Topen, t.tag = 1, t.fid = 1, t.mode = mode;
	rpc(&t, &r);
}

/* read fid 1 to its end, clunk it: the bytes */
static size_t
readclunk(Buf *out)
{
	Fcall t = { 0 }, r;
	size_t total = 0;

	for (;;) {
		t.type = Tread, t.tag = 1, t.fid = 1, t.offset = total, t.count = 8192;
		rpc(&t, &r);
		if (out)
			bufadd(out, r.data, r.count);
		total += r.count;
		if (r.count == 0)
			break;
	}
	memset(&t, 0, sizeof t);
	t.type = Tclunk, t.tag = 1, t.fid = 1;
	rpc(&t, &r);
	return total;
}

int
main(int argc, char **argv)
{
	const char *query = NULL, *cat = NULL;
	int reps = 1, print = 0, c;

	while ((c = getopt(argc, argv, "c:q:r:p")) != -1)
		switch (c) {
		case 'c': cat = optarg; break;
		case 'q': query = optarg; break;
		case 'r': reps = atoi(optarg); break;
		case 'p': print = 1; break;
		default: die("usage: p9list SOCKET BOX FIRST LAST | p9list -q QUERY -r REPS SOCKET BOX");
		}
	argv += optind;
	argc -= optind;
	if (cat && argc == 1) {
		char *p = strdup(cat), *parts[3] = { 0 };
		int n = 0;
		for (char *s = strtok(p, "/"); s && n < 3; s = strtok(NULL, "/"))
			parts[n++] = s;
		dial(argv[0]);
		walkopen(parts[0], parts[1], parts[2], 0);
		Buf out = { 0 };
		readclunk(&out);
		fwrite(out.p, 1, out.n, stdout);
		return 0;
	}
	if (argc < 2)
		die("usage: p9list SOCKET BOX FIRST LAST | p9list -q QUERY -r REPS SOCKET BOX");
	dial(argv[0]);
	if (query) {
		double *t = malloc(reps * sizeof *t);
		Buf ans = { 0 };
		for (int i = 0; i < reps; i++) {
			Fcall w = { 0 }, r;
			double t0 = now();
			walkopen(argv[1], "search", NULL, 2);
			w.type = Twrite, w.tag = 1, w.fid = 1, w.count = strlen(query), w.data = (const uint8_t *)query;
			rpc(&w, &r);
			bufreset(&ans);
			readclunk(&ans);
			t[i] = now() - t0;
		}
		int words = 0;
		for (size_t i = 0; i < ans.n; i++)
			words += (i == 0 || ans.p[i - 1] == ' ') && ans.p[i] != ' ';
		double med = median(t, reps);
		if (print)
			printf("%.*s\n", (int)ans.n, ans.p ? ans.p : "");
		printf("query %s: %d matches, median %.3f ms of %d (min %.3f, max %.3f)\n", query, words,
			med * 1e3, reps, t[0] * 1e3, t[reps - 1] * 1e3);
		return 0;
	}
	if (argc < 4)
		die("usage: p9list SOCKET BOX FIRST LAST");
	long first = atol(argv[2]), last = atol(argv[3]);
	size_t bytes = 0;
	double t0 = now();
	for (long n = last; n >= first; n--) {
		char num[24];
		snprintf(num, sizeof num, "%ld", n);
		walkopen(argv[1], num, "info", 0);
		bytes += readclunk(NULL);
	}
	printf("listed %ld infos, %zu bytes, in %.3f s\n", last - first + 1, bytes, now() - t0);
	return 0;
}
