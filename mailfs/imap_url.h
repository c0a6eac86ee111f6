/*
 * What the IMAP backend shares with its helpers (imap_url.c, imap_tls.c):
 * only box_imap.c includes this.
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
