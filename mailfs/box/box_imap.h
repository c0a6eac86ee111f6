/*
 * What the IMAP backend (box_imap.c) shares with its parts: the
 * connection and commands (imap_conn.c), the on-disk cache
 * (imap_cache.c), parts and sections (imap_parts.c), the idler
 * (imap_idle.c), and the helpers imap_url.c, imap_tls.c, imap_skel.c.
 * Only they include this.
 */
#include <pthread.h>
#include <libetpan/libetpan.h>

typedef struct Imapurl Imapurl;
struct Imapurl {
	char	*text;		/* the URL, as given: for messages */
	int	tls;		/* imaps:// */
	char	*user;		/* decoded; $USER when the URL names none */
	char	*host;
	int	port;
	char	*folder;	/* decoded; INBOX when the URL names none */
};

enum {
	Timeout = 10,		/* seconds a server may keep us silent: two of them (the
			   IDLE connection's, then the command's) and a reconnect
			   fit in the 30 s the FUSE mount asks the kernel to wait,
			   so a stalled server costs a read 20 s, not the mount */
	Readahead = 64,		/* messages fetched in one round trip */
	Readbytes = 8 << 20,	/* ... or this many bytes */
	Hdrrun = 256,		/* headers fetched in one round trip */
	Bsrun = 64,		/* BODYSTRUCTUREs: dearer, the server parses each message */
	Idlesecs = 25 * 60,	/* RFC 2177: renew IDLE within 29 minutes */
};


typedef struct Imap Imap;
struct Imap {
	Imapurl	u;
	mailimap	*s;	/* the connection; NULL while down */
	uint32_t	uidvalidity;
	int	hasidle, hasuidplus;
	char	*cache;		/* directory of cached messages, or NULL */
	uint64_t	cached;	/* bytes in it */
	int	evfd;		/* the watcher's: written by the idler */
	uint32_t	hdruid[Hdrrun];	/* the last run of headers fetched, by UID */
	uint32_t	bsuid[Bsrun];	/* the last run of BODYSTRUCTUREs fetched, by UID */
	struct mailimap_body	*bs[Bsrun];	/* each until a skeleton takes it */
	size_t	lastmiss[3];	/* index of the last header, message, structure fetched: the reader's way */
	Buf	hdr[Hdrrun];
	pthread_t	idler;
	int	idling;
};


typedef struct Sections Sections;
struct Sections {
	struct mailimap_fetch_type	*type;
	char	**key;		/* "2.1.MIME": what was asked */
	Buf	*val;		/* what came; NULL p until it came */
	int	n;
};

typedef struct Fetch Fetch;
struct Fetch {
	struct mailimap_set	*set;
	struct mailimap_fetch_type	*type;
	clist	*result;
};


/* box_imap.c: the Boxops */
void	imap_forgetbs(Imap *im);
int	imapfetchhdr(Box *b, const Msgent *m, Buf *raw, int *whole);
void	imap_keep(Buf *raw, const char *p, size_t n);
struct mailimap_set	*imap_runset(Box *b, int kind, size_t i, size_t len);

/* imap_cache.c: the on-disk cache */
int	imap_cached(Imap *im, uint32_t uid);
void	imap_cachedrop(Imap *im, uint32_t uid);
int	imap_cacheget(Imap *im, uint32_t uid, const char *what, Buf *out);
void	imap_cacheopen(Imap *im);
void	imap_cacheput(Imap *im, uint32_t uid, const char *what, const char *p, size_t n);

/* imap_conn.c: the connection and commands */
int	imap_connect(Imap *im);
int	imap_run(Imap *im, int (*op)(Imap *im, void *arg), void *arg, int *lib);	/* once more on a new connection if it dropped */
int	imap_dial(Imap *im, mailimap **sp, uint32_t *validity);
int	imap_tokenlogin(mailimap *s, const Imapurl *u, Cred *c);	/* imap_sasl.c: OAUTHBEARER or XOAUTH2 */
uint32_t	imap_entryof(struct mailimap_msg_att *a, Msgent *e, const char **body, size_t *bodylen);
void	imap_fetchfree(Fetch *f);
int	imap_fetchindex(Imap *im, uint32_t first, Msgent **v, size_t *n);
struct mailimap_flag_list	*imap_flaglist(uint16_t f, int set);
void	imap_hangup(Imap *im);
int	imaperr(Imap *im, int r, const char *what);
int	imap_uidfetch(Imap *im, Fetch *f, const char *what);
struct mailimap_fetch_type	*imap_withuid(struct mailimap_fetch_att *a);

/* imap_idle.c: the idler */
int	imapwatch(Box *b);

/* imap_parts.c: parts and sections */
int	imapfetchpart(Box *b, const Msgent *m, const char *section, int exact, Buf *out);
int	imapfetchskel(Box *b, const Msgent *m, Buf *skel);

int	imap_parseurl(const char *s, Imapurl *u);
void	imap_freeurl(Imapurl *u);
/* the server's certificate chain must lead to a trusted CA and name u->host */
int	imap_verify(void *mailstream, const Imapurl *u);

/* imap_skel.c: a message's MIME skeleton from its BODYSTRUCTURE */
enum { Skeldepth = 100 };	/* deeper: no skeleton, the message is fetched whole */
typedef struct Skelhdrs Skelhdrs;
struct Skelhdrs {	/* the MIME header ("MIME") or message header ("HEADER") of a section */
	const char	*(*get)(void *arg, const char *section, const char *what);
	void	*arg;
};
void	imap_skelwants(void *bodystructure, void (*want)(void *arg, const char *section, const char *what), void *arg);
int	imap_skeleton(Buf *out, const char *top, void *bodystructure, Skelhdrs *hs);
