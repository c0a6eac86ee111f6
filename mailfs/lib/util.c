/*
 * Allocation that cannot fail, growable buffers, shared blobs, list
 * links and line ends.
 * Running out of memory is not a condition mailfs can serve through,
 * so it aborts here instead of threading NULL checks everywhere.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/lib.h"

static void
nomem(size_t n)
{
	fprintf(stderr, "mailfs: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		nomem(n);
	return p;
}

void *
xzalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (p == NULL)
		nomem(n);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		nomem(n);
	return p;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

static void
bufgrow(Buf *b, size_t n)
{
	if (b->n + n + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->n + n + 1)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void
bufadd(Buf *b, const void *p, size_t n)
{
	bufgrow(b, n);
	if (n)
		memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = 0;
}

void
bufputs(Buf *b, const char *s)
{
	bufadd(b, s, strlen(s));
}

void
bufputc(Buf *b, int c)
{
	char ch = c;

	bufadd(b, &ch, 1);
}

void
bufprint(Buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	bufgrow(b, n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, n + 1, fmt, ap);
	va_end(ap);
	b->n += n;
}

void
bufreset(Buf *b)
{
	b->n = 0;
	if (b->cap)
		b->p[0] = 0;
}

void
buffree(Buf *b)
{
	free(b->p);
	b->p = NULL;
	b->n = b->cap = 0;
}

void
linkout(Link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
}

void
linkfront(Link *head, Link *l)
{
	l->next = head->next;
	l->prev = head;
	head->next->prev = l;
	head->next = l;
}

/*
 * Where the header block of a message or part ends: hdrlen bytes, the
 * line end of its last field included, and the body from bodyoff.  The
 * blank line between them may end in LF or CRLF, whatever the other
 * lines do, so that a message stored with CRLF lines is split too.
 */
void
hdrsplit(const char *p, size_t n, size_t *hdrlen, size_t *bodyoff)
{
	size_t blank = n > 0 && p[0] == '\n' ? 1 : n > 1 && p[0] == '\r' && p[1] == '\n' ? 2 : 0;

	if (blank) {	/* no header at all */
		*hdrlen = 0;
		*bodyoff = blank;
		return;
	}
	for (const char *q = p; (q = memchr(q, '\n', p + n - q)) != NULL; q++) {
		size_t rest = p + n - q - 1;
		blank = rest > 0 && q[1] == '\n' ? 1 : rest > 1 && q[1] == '\r' && q[2] == '\n' ? 2 : 0;
		if (blank) {
			*hdrlen = q - p + 1;
			*bodyoff = *hdrlen + blank;
			return;
		}
	}
	*hdrlen = *bodyoff = n;
}

/* does a message end its lines in CRLF?  Its first line says */
int
iscrlf(const char *p, size_t n)
{
	const char *nl = memchr(p, '\n', n);

	return nl && nl > p && nl[-1] == '\r';
}

size_t
crlftolf(char *p, size_t n)
{
	size_t j = 0;

	for (size_t i = 0; i < n; i++)
		if (!(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))
			p[j++] = p[i];
	return j;
}

Blob *
blobnew(const void *p, size_t n)
{
	Blob *b = xmalloc(sizeof *b + n + 1);

	b->ref = 1;
	b->n = n;
	if (n)
		memcpy(b->p, p, n);
	b->p[n] = 0;
	return b;
}

Blob *
blobfrombuf(Buf *b)
{
	Blob *r = blobnew(b->p, b->n);

	bufreset(b);
	return r;
}

Blob *
blobref(Blob *b)
{
	__atomic_add_fetch(&b->ref, 1, __ATOMIC_RELAXED);
	return b;
}

void
blobunref(Blob *b)
{
	if (b && __atomic_sub_fetch(&b->ref, 1, __ATOMIC_ACQ_REL) == 0)
		free(b);
}

/*
 * Plan 9's tokenize: blanks separate fields, '...' quotes, and '' inside
 * quotes is one quote.  The fields point into s, which is changed.
 */
int
tokenize(char *s, char **f, int max)
{
	int n = 0;

	while (*s && n < max) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s)
			break;
		char *w = s, *o = s;
		f[n++] = w;
		int quoting = 0;
		for (; *s; s++) {
			if (!quoting && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
				break;
			if (*s == '\'') {
				if (quoting && s[1] == '\'')
					*o++ = *s++;
				else
					quoting = !quoting;
				continue;
			}
			*o++ = *s;
		}
		if (*s)
			s++;
		*o = 0;
	}
	return n;
}

/*
 * The length of the UTF-8 bidirectional control at s, or 0: the
 * embeddings and overrides U+202A-202E, the isolates U+2066-2069, the
 * marks U+200E, U+200F and U+061C.
 */
size_t
utf8bidi(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] == 0xE2 && u[1] == 0x80 && ((u[2] >= 0xAA && u[2] <= 0xAE) || u[2] == 0x8E || u[2] == 0x8F))
		return 3;
	if (u[0] == 0xE2 && u[1] == 0x81 && u[2] >= 0xA6 && u[2] <= 0xA9)
		return 3;
	return u[0] == 0xD8 && u[1] == 0x9C ? 2 : 0;
}

/* is p[0..n) UTF-8 text: valid sequences, shortest forms, no NUL? */
int
utf8valid(const char *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p, *e = s + n;

	while (s < e) {
		unsigned c = *s++;
		int more = c < 0x80 ? 0 : c >= 0xC2 && c < 0xE0 ? 1 : c >= 0xE0 && c < 0xF0 ? 2 : c >= 0xF0 && c < 0xF5 ? 3 : -1;
		if (c == 0 || more < 0 || e - s < more)
			return 0;
		unsigned v = c & (0x3F >> more);
		for (int i = 0; i < more; i++, s++) {
			if ((*s & 0xC0) != 0x80)
				return 0;
			v = v << 6 | (*s & 0x3F);
		}
		if ((more == 2 && (v < 0x800 || (v >= 0xD800 && v < 0xE000))) || (more == 3 && (v < 0x10000 || v > 0x10FFFF)))
			return 0;
	}
	return 1;
}
