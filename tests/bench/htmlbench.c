/*
 * htmlbench: mailfs's HTML renderer (html_text, as the text file uses
 * it) over every text/html part of the given mailboxes, in-process:
 * each part rendered five times, its time the median of the five; then
 * one part of at least 1 MB, made of the first mailbox's largest HTML
 * part repeated, rendered five times.  With -w DIR, the parts are also
 * written there (part-N.html, every step-th one, at most 200, and
 * big.html) for w3m -dump to render the same bytes.
 *
 *	htmlbench [-w DIR] MBOX...
 *
 * Prints "html: N parts, median B bytes; per part median U us (p90 V
 * us); 1 MB part: median S s of 5 (min A, max B)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "timing.h"
#include "model/gm.h"	/* the part's MIME charset, as the text file takes it */

enum { Maxparts = 20000, Sample = 200, Runs = 5 };

typedef struct Html Html;
struct Html {
	Buf	bytes;
	char	charset[64];
};

static Html parts[Maxparts];
static int nparts;

static void
collect(const char *path)
{
	Box *b = box_open(path, path);

	if (b == NULL) {
		fprintf(stderr, "htmlbench: %s: %s\n", path, errmsg());
		exit(1);
	}
	for (size_t i = 0; i < b->nmsgs && nparts < Maxparts; i++) {
		Msg *m = msg_get(b, b->msgs[i].id);
		if (m == NULL || part_full(m) < 0)
			continue;
		for (uint32_t k = 0; k < m->nparts && nparts < Maxparts; k++) {
			char t[128];
			Part *p = m->parts[k];
			if (p->nkids || strcmp(part_typename(p, t, sizeof t), "text/html") != 0)
				continue;
			Html *h = &parts[nparts++];
			body_bytes(&h->bytes, p);
			GMimeContentType *ct = part_ctype(p);
			const char *cs = ct ? g_mime_content_type_get_parameter(ct, "charset") : NULL;
			snprintf(h->charset, sizeof h->charset, "%s", cs ? cs : "");
		}
		msg_put(m);
		msg_flush();
	}
}

/* Runs renderings of html: their times in t, sorted */
static void
render(const Buf *html, const char *charset, double *t)
{
	Buf out = { 0 };

	for (int r = 0; r < Runs; r++) {
		bufreset(&out);
		double t0 = now();
		html_text(&out, html->p ? html->p : "", html->n, *charset ? charset : NULL);
		t[r] = now() - t0;
	}
	buffree(&out);
	qsort(t, Runs, sizeof *t, cmp);
}

static void
save(const char *dir, const char *name, const Buf *b)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(b->p, 1, b->n, f) != b->n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	const char *dir = NULL;
	int c;

	while ((c = getopt(argc, argv, "w:")) != -1)
		if (c == 'w')
			dir = optarg;
		else
			return 2;
	if (optind >= argc) {
		fprintf(stderr, "usage: htmlbench [-w DIR] MBOX...\n");
		return 2;
	}
	msg_init(64 << 20);
	part_init();
	for (int i = optind; i < argc; i++)
		collect(argv[i]);
	if (nparts == 0) {
		fprintf(stderr, "htmlbench: no text/html parts\n");
		return 1;
	}
	double *t = xmalloc(nparts * sizeof *t), *sz = xmalloc(nparts * sizeof *sz);
	int largest = 0;
	for (int i = 0; i < nparts; i++) {
		double r[Runs];
		render(&parts[i].bytes, parts[i].charset, r);
		t[i] = r[Runs / 2];
		sz[i] = parts[i].bytes.n;
		if (parts[i].bytes.n > parts[largest].bytes.n)
			largest = i;
	}
	int step = nparts > Sample ? nparts / Sample : 1;
	for (int i = 0, k = 0; dir && i < nparts && k < Sample; i += step, k++) {
		char name[64];
		snprintf(name, sizeof name, "part-%d.html", k);
		save(dir, name, &parts[i].bytes);
	}
	qsort(t, nparts, sizeof *t, cmp);
	qsort(sz, nparts, sizeof *sz, cmp);

	Buf big = { 0 };
	const Buf *seed = &parts[largest].bytes;
	while (big.n < (1 << 20))
		bufadd(&big, seed->p, seed->n);
	if (dir)
		save(dir, "big.html", &big);
	double bt[Runs];
	render(&big, parts[largest].charset, bt);
	printf("html: %d parts, median %.0f bytes; per part median %.1f us (p90 %.1f us); "
		"1 MB part (%zu bytes): median %.3f s of %d (min %.3f, max %.3f)\n",
		nparts, sz[nparts / 2], 1e6 * t[nparts / 2], 1e6 * t[nparts * 9 / 10],
		big.n, bt[Runs / 2], Runs, bt[0], bt[Runs - 1]);
	return 0;
}
