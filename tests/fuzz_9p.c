/*
 * libFuzzer target for the 9P transport: each input is decoded on its
 * own, then sent whole as a connection's byte stream to the server,
 * which serves the sample mailbox.  Built and run by make fuzz.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tree/tree.h"
#include "srv/p9.h"
#include "srv/srv.h"

static void *
drain(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[65536];

	while (read(fd, buf, sizeof buf) > 0)
		;
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *src = getenv("SRCDIR");
	char path[4096], copy[] = "/tmp/fuzz_9p.XXXXXX";

	/* a copy: fuzzed ctl writes and removes really delete and flag mail */
	snprintf(path, sizeof path, "%s/testdata/sample.mbox", src && *src ? src : ".");
	int in = open(path, O_RDONLY), out = mkstemp(copy);
	char buf[65536];
	ssize_t n;
	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, n) != n)
			break;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	tree_init();
	msg_init(0);
	if (box_open(copy, "mbox") == NULL) {
		fprintf(stderr, "fuzz_9p: %s\n", errmsg());
		exit(1);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static char strs[65536];
	Fcall f;
	int sv[2];
	pthread_t t;

	p9_unpack(data, n, &f, strs, sizeof strs);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	pthread_create(&t, NULL, drain, (void *)(intptr_t)sv[0]);
	for (size_t done = 0; done < n;) {
		ssize_t w = write(sv[0], data + done, n - done);
		if (w <= 0)
			break;
		done += w;
	}
	shutdown(sv[0], SHUT_WR);
	srv_9p_conn(sv[1]);	/* closes sv[1] */
	pthread_join(t, NULL);
	close(sv[0]);
	return 0;
}
