/*
 * The IMAP backend's new mail: a second connection in IDLE stirs the
 * watcher's descriptor.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <libetpan/libetpan.h>
#include "box/box.h"
#include "box_imap.h"

/* ---- new mail: the idler ---- */

static void
stir(Imap *im)
{
	uint64_t one = 1;

	if (write(im->evfd, &one, sizeof one) < 0) {}
}

static void
dropconn(void *arg)
{
	mailimap **s = arg;

	if (*s)
		mailimap_free(*s);
}

/*
 * Its own connection sits in IDLE; anything the server says there
 * means a look is due.  A drop is redialled after a pause, and stirs
 * too, since mail may have come meanwhile.
 */
static void *
idler(void *arg)
{
	Imap *im = arg;
	mailimap *s = NULL;
	uint32_t validity;

	pthread_cleanup_push(dropconn, &s);
	for (;;) {
		int old;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		if (s == NULL && imap_dial(im, &s, &validity) < 0)
			s = NULL;
		int ok = s && mailimap_idle(s) == MAILIMAP_NO_ERROR;
		pthread_setcancelstate(old, NULL);
		if (!ok) {
			if (s)
				mailimap_free(s);
			s = NULL;
			sleep(5);
			stir(im);
			continue;
		}
		struct pollfd p = { mailimap_idle_get_fd(s), POLLIN, 0 };
		int r = poll(&p, 1, Idlesecs * 1000);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
		if (mailimap_idle_done(s) != MAILIMAP_NO_ERROR) {
			mailimap_free(s);
			s = NULL;
			r = 1;
		}
		pthread_setcancelstate(old, NULL);
		if (r != 0)
			stir(im);
	}
	pthread_cleanup_pop(1);
	return NULL;
}

/*
 * Servers cap a user's connections (Dovecot at 10), so only the first
 * folder watched on a server gets a connection to sit in IDLE; the
 * others have the watcher's periodic look.
 */
static int
firstonserver(Imap *im)
{
	static char **servers;
	static size_t n;
	char key[1024];

	snprintf(key, sizeof key, "%s@%s:%d", im->u.user, im->u.host, im->u.port);
	for (size_t i = 0; i < n; i++)
		if (strcmp(servers[i], key) == 0)
			return 0;
	servers = xrealloc(servers, (n + 1) * sizeof *servers);
	servers[n++] = xstrdup(key);
	return 1;
}

int
imapwatch(Box *b)
{
	Imap *im = b->aux;

	if (!im->hasidle || !firstonserver(im))
		return -1;	/* the watcher's periodic look will do */
	im->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (im->evfd < 0)
		return -1;
	if (pthread_create(&im->idler, NULL, idler, im) != 0) {
		close(im->evfd);
		return im->evfd = -1;
	}
	im->idling = 1;
	return im->evfd;
}
