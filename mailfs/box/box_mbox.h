/*
 * What box_mbox.c (reading) and box_mboxwrite.c (changing) share of an
 * mbox: only the mbox backend includes this.
 */
typedef struct Mbox Mbox;
struct Mbox {
	int	fd;		/* the file our index describes */
	dev_t	dev;
	ino_t	ino;
	uint64_t	scanned;	/* bytes of it the index covers */
};

int	mbox_lock(int fd, const char *path, short type);
int	mbox_dotlocked(const char *lock);
void	mbox_unlock(int fd);
int	mbox_scanpart(Box *b, int fd, uint64_t from, uint64_t to);
int	mbox_sync(Box *b);
int	mbox_remove(Box *b, const uint32_t *ids, size_t n);
int	mbox_appendmsgs(const char *path, const Mailmsg *m, size_t n);
