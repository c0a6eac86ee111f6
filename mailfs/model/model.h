/*
 * The message and MIME model (GMime lives here and nowhere else): the
 * cache of parsed messages, their part trees, header fields and decoded
 * bodies.  The model calls the backends, never the tree above it.
 */
#ifndef MAILFS_MODEL_H
#define MAILFS_MODEL_H

#include "box/box.h"

/* msg.c: the bounded cache of parsed messages */
void	msg_init(size_t cachebytes);
Msg	*msg_get(Box *b, uint32_t id);	/* counted reference; release with msg_put */
Msg	*msg_peek(Box *b, uint32_t id);	/* the same if cached, else NULL */
void	msg_put(Msg *m);
int	msg_whole(Msg *m);	/* raw is the whole message from here on */
Msg	*msg_detach(Box *b, uint32_t id);	/* read, kept out of the cache: to parse unlocked */
int	msg_adopt(Msg *m);	/* into the cache (1), or freed if its store changed (0) */
void	msg_drop(Msg *m);	/* a detached message freed, not cached */
Part	*msg_part(Msg *m, uint32_t idx);	/* NULL if no such part */
void	msg_charge(Msg *m, size_t n);
void	msg_flush(void);
uint16_t	msg_flags(Msg *m);
int	msg_setflags(Box *b, uint32_t id, uint16_t set, uint16_t clear);
void	msg_forget(Box *b, uint32_t id);	/* drop it from the cache: its bytes changed */

/* part.c: the MIME tree of a message */
int	part_build(Msg *m);	/* the top entity, from the header alone */
int	part_full(Msg *m);	/* the whole MIME tree */
int	part_fill(Part *p, int below);	/* a skeleton's content of p (and below): fetched */
void	part_free(Msg *m);
const char	*part_typename(Part *p, char *buf, size_t n);	/* lowercase type/subtype */
Hdr	*part_hdr(Part *p);	/* envelope fields, or NULL for a part that is no message */
void	part_init(void);	/* GMime set up: before two threads may parse */
void	part_raw(Buf *out, Part *p);	/* a part's bytes, as its message holds them */
const char	*part_disposition(Part *p);	/* Content-Disposition's word, or NULL */
const char	*part_filename(Part *p);	/* as sent (filename=, else name=), or NULL */

/* hdr.c: header fields, and their values as the spec's files want them */
void	hdr_parse(Hdr *h, const char *p, size_t n);	/* a raw header block */
void	hdr_free(Hdr *h);
const char	*hdr_get(Hdr *h, const char *name);	/* first raw value, or NULL */
int	hdr_count(Hdr *h, const char *name);	/* fields of that name */
void	hdr_pairs(Buf *out, Hdr *h, int which);
void	hdr_value(Buf *out, Hdr *h, const char *name);	/* unfolded, trimmed */
void	hdr_decoded(Buf *out, Hdr *h, const char *name);	/* RFC 2047-decoded too */
void	hdr_ids(Buf *out, Hdr *h, const char *name, int max);	/* its <ids>, one a line, the last max */
void	hdr_text(Buf *out, const char *raw);
void	hdr_all(Buf *out, Hdr *h);
void	hdr_ctime(Buf *out, int64_t secs);
char	*hdr_fold(const char *p, size_t n);	/* case-folded valid UTF-8, malloc'd */
int64_t	hdr_date(const char *value);	/* 0 when unparsable */
enum { Afrom, Ato, Acc, Abcc, Areplyto, Asender };

/* body.c: decoded bodies */
void	body_decode(Buf *out, Part *p);
void	body_bytes(Buf *out, Part *p);	/* a leaf's, transfer-decoded, in its own charset */
void	body_utf8(Buf *out, const char *p, size_t n, const char *charset);

/* html.c: HTML as readable text (libxml2 lives here only) */
void	html_init(void);	/* before two threads may parse */
void	html_text(Buf *out, const char *p, size_t n, const char *charset);	/* charset NULL: its <meta>'s */

/* text.c: the readable text of an entity, attachments listed after a message's */
void	text_make(Buf *out, Part *p);

#endif
