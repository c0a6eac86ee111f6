/*
 * The base every layer stands on: allocation, byte strings, blobs and
 * the error record.  Functions returning int give 0 on success and -1
 * with the error record (err.c) set; pointers returned are borrowed.
 */
#ifndef MAILFS_LIB_H
#define MAILFS_LIB_H

#include <stdarg.h>
#include <sys/types.h>
#include "dat.h"

#define nelem(a) (sizeof(a) / sizeof((a)[0]))

/* util.c: allocation aborts on failure rather than returning NULL */
void	*xmalloc(size_t n);
void	*xzalloc(size_t n);
void	*xrealloc(void *p, size_t n);
char	*xstrdup(const char *s);
void	bufadd(Buf *b, const void *p, size_t n);
void	bufputs(Buf *b, const char *s);
void	bufputc(Buf *b, int c);
void	bufprint(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void	bufreset(Buf *b);
void	buffree(Buf *b);
void	linkout(Link *l);
void	linkfront(Link *head, Link *l);
size_t	crlftolf(char *p, size_t n);	/* in place; the new length */
size_t	utf8bidi(const char *s);	/* the bytes of a bidirectional control at s, or 0 */
int	utf8valid(const char *p, size_t n);	/* valid UTF-8, shortest forms, no NUL */
void	hdrsplit(const char *p, size_t n, size_t *hdrlen, size_t *bodyoff);	/* LF or CRLF blank line */
int	iscrlf(const char *p, size_t n);	/* its first line ends in CRLF */
Blob	*blobnew(const void *p, size_t n);	/* caller holds the one reference */
Blob	*blobfrombuf(Buf *b);			/* empties b */
Blob	*blobref(Blob *b);
int	tokenize(char *s, char **f, int max);	/* Plan 9's: in place, '...' quotes; the count */
void	blobunref(Blob *b);

/* err.c: one error record per thread; code is an errno value */
int	seterr(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int	errcode(void);
const char	*errmsg(void);

#endif
