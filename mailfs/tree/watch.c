/*
 * New mail, noticed by itself: a thread waits on the descriptor each
 * backend gives for its box (inotify on a directory, an IMAP IDLE) and,
 * when one stirs, asks the backends to take in what was delivered; a
 * look every Pollsecs seconds covers stores that cannot say (NFS, an
 * IMAP server without IDLE).  New messages reach the transports
 * through tree_changed.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tree/tree.h"

enum { Pollsecs = 10 };

static int wakefd = -1;	/* written when a box joins the watched set */

/*
 * Take in b's new mail; called with the tree locked.  Where flags live
 * in the store's index (Maildir names, IMAP), another program may have
 * changed them: those messages' files are made again.
 */
int
watch_sync(Box *b)
{
	size_t n = b->nmsgs;
	uint32_t *before = xmalloc((n + 1) * sizeof *before);
	uint16_t *flags = xmalloc((n + 1) * sizeof *flags);

	for (size_t i = 0; i < n; i++) {
		before[i] = b->msgs[i].id;
		flags[i] = b->msgs[i].flags;
	}
	int r = b->ops->sync ? b->ops->sync(b) : 0;
	if (r == 0) {	/* both lists ascend: walk them together */
		size_t i = 0, k = 0;
		while (i < n || k < b->nmsgs) {
			if (k == b->nmsgs || (i < n && before[i] < b->msgs[k].id)) {
				tree_changed(b, before[i++], 0);
			} else if (i == n || b->msgs[k].id < before[i]) {
				tree_changed(b, b->msgs[k++].id, 1);
			} else {
				if (b->ops->indexflags && flags[i] != b->msgs[k].flags) {
					msg_forget(b, before[i]);
					tree_modified(b, before[i]);
				}
				i++, k++;
			}
		}
	}
	free(before);
	free(flags);
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

/* the descriptors to wait on: the wake-up, then each box's */
static size_t
pollset(struct pollfd **p, size_t *cap)
{
	size_t n = 0;

	tree_lock();
	for (size_t i = 0;; i++) {
		if (n == *cap) {
			*cap = *cap ? 2 * *cap : 16;
			*p = xrealloc(*p, *cap * sizeof **p);
		}
		if (i == 0) {
			(*p)[n++] = (struct pollfd){ wakefd, POLLIN, 0 };
			continue;
		}
		Box *b = box_at(i - 1);
		if (b == NULL)
			break;
		if (b->notify >= 0)
			(*p)[n++] = (struct pollfd){ b->notify, POLLIN, 0 };
	}
	tree_unlock();
	return n;
}

static void *
watcher(void *arg)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd *p = NULL;
	size_t cap = 0;

	(void)arg;
	for (;;) {
		size_t n = pollset(&p, &cap);
		int r = poll(p, n, Pollsecs * 1000);
		for (size_t i = 0; r > 0 && i < n; i++)
			if (p[i].revents & POLLIN)
				while (read(p[i].fd, buf, sizeof buf) > 0)
					;
		if (r > 0 && p[0].revents & POLLIN)
			continue;	/* a box came: watch it too */
		/* any event, or the time: look at every box; a look that finds nothing is cheap */
		syncall();
	}
	return NULL;
}

/* watch b too; the tree locked, or before the watcher starts */
void
watch_add(Box *b)
{
	if (wakefd < 0 || b->notify >= 0 || b->ops->watch == NULL)
		return;
	b->notify = b->ops->watch(b);
	uint64_t one = 1;
	if (write(wakefd, &one, sizeof one) < 0) {}
}

/* watch the boxes open now; 0, or -1 if no thread could be started */
int
watch_start(void)
{
	wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	tree_lock();
	for (size_t i = 0; box_at(i); i++)
		watch_add(box_at(i));
	tree_unlock();
	pthread_t t;
	if (pthread_create(&t, NULL, watcher, NULL) != 0)
		return seterr(EAGAIN, "cannot start the new-mail watcher");
	pthread_detach(t);
	return 0;
}
