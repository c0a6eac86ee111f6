/*
 * The service manager's readiness protocol (sd_notify(3), systemd's
 * Type=notify), without libsystemd: one datagram, "READY=1", to the
 * socket $NOTIFY_SOCKET names, once the mount and the 9P service are
 * up, so "systemctl --user start mailfs@NAME" returns when the mailbox
 * can be read.  Without the variable, nothing.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "srv/srv.h"

static struct sockaddr_un addr;
static socklen_t addrlen;

/* at start-up, one thread: taken from the environment, so no child (a token command) inherits it */
void
notify_init(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	size_t n = p ? strlen(p) : 0;

	if (n == 0 || n >= sizeof addr.sun_path || (p[0] != '/' && p[0] != '@')) {
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, p, n);
	if (addr.sun_path[0] == '@')	/* the abstract namespace */
		addr.sun_path[0] = 0;
	addrlen = offsetof(struct sockaddr_un, sun_path) + n;
	unsetenv("NOTIFY_SOCKET");
}

void
notify_ready(void)
{
	if (addrlen == 0)
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *)&addr, addrlen) < 0) {}	/* no manager listening: nothing to tell */
	close(fd);
	addrlen = 0;
}
