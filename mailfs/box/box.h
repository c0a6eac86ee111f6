/*
 * The mailbox backends: the table of Boxops and the registry of open
 * boxes.  A backend calls nothing above this header.
 */
#ifndef MAILFS_BOX_H
#define MAILFS_BOX_H

#include "lib/lib.h"

/* box.c: the open mailboxes and the backend registry */
Box	*box_open(const char *path, const char *name);
int	box_isurl(const char *s);
Box	*box_byid(uint32_t id);
Box	*box_byname(const char *name);
Box	*box_at(size_t i);	/* i-th box in the root listing, or NULL */
Msgent	*box_msg(Box *b, uint32_t id);	/* NULL if no such message */
size_t	box_msgindex(Box *b, uint32_t id);	/* index of the first id >= id */
void	box_add(Box *b, const Msgent *m);	/* assigns m's number */
void	box_closeall(void);
int	box_append(const char *path, const Mailmsg *m, size_t n);	/* by the kind of store at path */
char	*box_beside(Box *b, const char *name);	/* malloc'd, or NULL: b's kind has none */
void	box_plain(Box *b, Buf *out, const char *p, size_t n);	/* the bytes, b's quoting undone */
/*
 * Where credentials come from: set by the program (keys.c), asked by
 * backends.  fn fills c (a password, or a token its key's command
 * printed) and returns 0, or -1 with the error set.  fresh: the token
 * given last was refused, run the command again.
 */
typedef int Passfn(const char *service, const char *server, const char *user, int fresh, Cred *c);
void	box_setpassfn(Passfn *fn);
int	box_credential(const char *service, const char *server, const char *user, int fresh, Cred *c);
void	box_credfree(Cred *c);	/* wiped, then freed */
/*
 * How far a long piece of work on a box is (an IMAP folder listed at
 * open, an index built): set by the program, reported by the workers
 * as they go, done == total last.  doing: the verb's stem, "list".
 */
typedef void Progressfn(const char *what, const char *doing, size_t done, size_t total);
void	box_setprogress(Progressfn *fn);
void	box_progress(const char *what, const char *doing, size_t done, size_t total);

/* flags.c */
uint16_t	flags_fromfields(const char *status, const char *xstatus);
void	flags_string(Buf *out, uint16_t f);
void	flags_fields(Buf *out, uint16_t f);
int	flags_parse(const char *s, uint16_t *set, uint16_t *clear);

/* box_mbox.c */
extern const Boxops mboxops;
/* scanner, exposed for tests: calls fn for each message found in p[0..n) */
int	mbox_scan(const char *p, size_t n, int nthreads, void (*fn)(void *arg, const Msgent *m), void *arg);
int	mbox_fromline(const char *p, size_t n, int64_t *date);
void	mbox_unquote(Buf *dst, const char *p, size_t n);
void	mbox_quote(Buf *dst, const char *p, size_t n);

/* box_mboxwrite.c */
int	mbox_append(const char *path, const Buf *data);	/* whole mbox messages, under the locks */

/* box_maildir.c */
extern const Boxops maildirops;
int	maildir_isdir(const char *path);	/* has cur/, new/ and tmp/ */
int	maildir_append(const char *dir, const char *msg, size_t n);	/* one message, LF ends, no From_ line, into new/ */
char	*maildir_subfolder(const char *root, const char *name);	/* Maildir++ folder by name: malloc'd path, or NULL + err */

/* box_imap.c, imap_url.c, imap_tls.c */
extern const Boxops imapops;
void	imap_setca(const char *file);	/* trust this CA (a PEM file) for imaps://, not the system's */

#endif
