/*
 * New mail, noticed by itself: a thread watches the directory of every
 * mailbox with inotify and, when the file changes or is replaced, asks
 * the backend to take in what was delivered; a check every Pollsecs
 * seconds covers file systems where inotify says nothing (NFS).  New
 * messages reach the transports through tree_changed.
 */
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fns.h"

enum { Pollsecs = 10 };

static int ifd = -1;

/* take in b's new mail; called with the tree locked */
int
watch_sync(Box *b)
{
	size_t n = b->nmsgs;
	uint32_t *before = xmalloc((n + 1) * sizeof *before);

	for (size_t i = 0; i < n; i++)
		before[i] = b->msgs[i].id;
	int r = b->ops->sync ? b->ops->sync(b) : 0;
	if (r == 0) {	/* both lists ascend: walk them together */
		size_t i = 0, k = 0;
		while (i < n || k < b->nmsgs) {
			if (k == b->nmsgs || (i < n && before[i] < b->msgs[k].id)) {
				tree_changed(b, before[i++], 0);
			} else if (i == n || b->msgs[k].id < before[i]) {
				tree_changed(b, b->msgs[k++].id, 1);
			} else
				i++, k++;
		}
	}
	free(before);
	return r;
}

static void
syncall(void)
{
	tree_lock();
	for (size_t i = 0; box_at(i); i++)
		if (watch_sync(box_at(i)) < 0)
			fprintf(stderr, "mailfs: %s\n", errmsg());
	tree_unlock();
}

static void *
watcher(void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)arg;
	for (;;) {
		struct pollfd p = { ifd, POLLIN, 0 };
		int r = poll(&p, 1, Pollsecs * 1000);
		if (r > 0 && read(ifd, buf, sizeof buf) <= 0)
			continue;
		/* any event, or the time: look at every box; a look that finds nothing costs a stat */
		syncall();
	}
	return NULL;
}

/* the directory, since a rewrite renames a new file over the old */
void
watch_add(Box *b)
{
	char *copy = xstrdup(b->path);

	if (ifd >= 0)
		inotify_add_watch(ifd, dirname(copy), IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_CREATE);
	free(copy);
}

/* watch the boxes open now; 0, or -1 if no thread could be started */
int
watch_start(void)
{
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	for (size_t i = 0; box_at(i); i++)
		watch_add(box_at(i));
	pthread_t t;
	if (pthread_create(&t, NULL, watcher, NULL) != 0)
		return seterr(EAGAIN, "cannot start the new-mail watcher");
	pthread_detach(t);
	return 0;
}
