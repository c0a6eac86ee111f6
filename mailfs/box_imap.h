/*
 * What the IMAP backend (box_imap.c) shares with its helpers,
 * imap_url.c, imap_tls.c and imap_skel.c: only they include this.
 */
typedef struct Imapurl Imapurl;
struct Imapurl {
	char	*text;		/* the URL, as given: for messages */
	int	tls;		/* imaps:// */
	char	*user;		/* decoded; $USER when the URL names none */
	char	*host;
	int	port;
	char	*folder;	/* decoded; INBOX when the URL names none */
};

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
