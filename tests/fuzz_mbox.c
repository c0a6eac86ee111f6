/*
 * libFuzzer target for the mbox scanner (box_mbox.c): any bytes as a
 * mailbox file.  Besides not crashing, the scan must keep its promises:
 * messages in order, each within the file and after the one before,
 * its envelope inside it; the same messages whatever the number of
 * threads; and quoting undone gives back what quoting was given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "box/box.h"

typedef struct Found Found;
struct Found {
	Msgent	m[4096];
	size_t	n;
};

static void
collect(void *arg, const Msgent *m)
{
	Found *f = arg;

	if (f->n < nelem(f->m))
		f->m[f->n] = *m;
	f->n++;
}

static void
promises(const Found *f, size_t size)
{
	uint64_t end = 0;

	for (size_t i = 0; i < f->n && i < nelem(f->m); i++) {
		const Msgent *m = &f->m[i];
		if (m->off < end || m->off + m->len > size || m->envlen > m->len)
			abort();
		end = m->off + m->len;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Found one, two;
	const char *p = (const char *)data;

	one.n = two.n = 0;
	int r1 = mbox_scan(p, size, 1, collect, &one);
	int r2 = mbox_scan(p, size, 2, collect, &two);
	if (r1 != r2 || one.n != two.n)
		abort();
	if (r1 == 0) {
		promises(&one, size);
		for (size_t i = 0; i < one.n && i < nelem(one.m); i++)
			if (one.m[i].off != two.m[i].off || one.m[i].len != two.m[i].len)
				abort();
	}
	Buf q = { 0 }, u = { 0 };
	mbox_quote(&q, p, size);
	mbox_unquote(&u, q.p ? q.p : "", q.n);
	if (u.n != size || (size && memcmp(u.p, p, size) != 0))
		abort();
	buffree(&q);
	buffree(&u);
	return 0;
}
