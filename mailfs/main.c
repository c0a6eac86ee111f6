/*
 * mailfs: serve a mailbox as a upas/fs file tree.  This file only reads
 * the command line, checks what it names and starts a transport.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "tree/tree.h"
#include "srv/srv.h"

static int p9fd = -1;	/* the posted 9P service's socket */

static void
usage(void)
{
	fprintf(stderr, "usage: mailfs [-f] [-r] [-D] [-S 9p|mount|both|none] [-m mountpoint] [-o fuseopts] [-s srvname] [-k keyfile] [-C cafile] [-i indexdir|none] [mailbox]\n");
	exit(2);
}

static const char *
defaultbox(char *buf, size_t n)
{
	const char *mail = getenv("MAIL"), *user = getenv("USER");

	if (mail && *mail)
		return mail;
	if (user == NULL || !*user) {
		struct passwd *pw = getpwuid(getuid());
		user = pw ? pw->pw_name : "unknown";
	}
	snprintf(buf, n, "/var/mail/%s", user);
	return buf;
}

/* a mount point must be an empty directory */
static int
checkmount(const char *mnt)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if (stat(mnt, &st) < 0 || (S_ISDIR(st.st_mode) && (d = opendir(mnt)) == NULL)) {
		fprintf(stderr, "mailfs: mount point %s: %s\n", mnt, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "mailfs: mount point %s is not a directory\n", mnt);
		return -1;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			closedir(d);
			fprintf(stderr, "mailfs: mount point %s is not an empty directory\n", mnt);
			return -1;
		}
	closedir(d);
	return 0;
}

static int
usable(const char *dir)
{
	return dir && *dir && access(dir, W_OK) == 0;
}

static int
inmemory(const char *dir)
{
	struct statfs fs;

	return statfs(dir, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

/*
 * The container cache lives with the serving process, so it starts
 * here.  It wants a memory file system: creating a file on a disk one
 * costs more than decoding the content again.
 */
static void
serving_cache(void)
{
	const char *dirs[] = { getenv("XDG_RUNTIME_DIR"), "/dev/shm", getenv("TMPDIR"), "/var/tmp" };

	size_t i;

	for (i = 0; i < nelem(dirs); i++)
		if (usable(dirs[i]) && container_init(dirs[i], 0) == 0)
			break;
	if (i == nelem(dirs))
		fprintf(stderr, "mailfs: no container cache (%s); serving from memory\n", errmsg());
	else if (inmemory(dirs[i]))	/* large contents read faster from a disk file system's page cache */
		for (i++; i < nelem(dirs); i++)
			if (usable(dirs[i]) && !inmemory(dirs[i]) && container_large(dirs[i], 0) == 0)
				break;
	prefetch_start();
	if (index_start() < 0)
		fprintf(stderr, "mailfs: %s; searches index what they need themselves\n", errmsg());
	if (watch_start() < 0)
		fprintf(stderr, "mailfs: %s; new mail shows only after refresh\n", errmsg());
	if (p9fd >= 0)	/* acme Mail hears of new mail through the plumber */
		plumb_start();
}

/*
 * Progress of a long open, on a terminal with -f: a line redrawn at most
 * ten times a second once the work has taken half a second, and ended
 * with its time; quick work says nothing.
 */
static void
progress(const char *what, const char *doing, size_t done, size_t total)
{
	static struct timespec start, last;
	static int shown;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done == 0 && !shown)
		start = last = now;
	double since = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
	double redraw = (now.tv_sec - last.tv_sec) + (now.tv_nsec - last.tv_nsec) / 1e9;
	if (done < total) {
		if (since < 0.5 || (shown && redraw < 0.1))
			return;
		fprintf(stderr, "\rmailfs: %s: %sing %zu of %zu messages", what, doing, done, total);
		shown = 1;
		last = now;
	} else if (shown) {
		fprintf(stderr, "\rmailfs: %s: %sed %zu messages in %.1f s\n", what, doing, total, since);
		shown = 0;
	}
}

/* once the FUSE mount is up, in the serving process: threads start here */
static void
serving(void)
{
	serving_cache();
	if (p9fd >= 0 && srv_9p_start(p9fd) < 0)
		fprintf(stderr, "mailfs: %s\n", errmsg());
	notify_ready();
}

/* with no mount, the 9P service alone: in the background unless -f */
static int
serve9p(int foreground)
{
	if (!foreground) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("mailfs: fork");
			return 1;
		}
		if (pid > 0)
			_exit(0);	/* the socket is already listening: clients may dial now */
		setsid();
		if (chdir("/") < 0) {}
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
	}
	serving_cache();
	notify_ready();
	srv_9p_serve(p9fd);
	return 0;
}

int
main(int argc, char **argv)
{
	int c, foreground = 0, readonly = 0, trace = 0;
	Fuseconf fc;
	/* where reading a message marks it seen: over 9P, as a person reads it in acme Mail */
	int seen9p = 1, seenmount = 0;
	const char *mnt = NULL, *srvname = NULL, *keyfile = NULL;
	char dflt[PATH_MAX], path[PATH_MAX];

	notify_init();
	srv_fuseconf(&fc);
	while ((c = getopt(argc, argv, "frDS:m:o:s:k:C:i:")) != -1)
		switch (c) {
		case 'f': foreground = 1; break;
		case 'r': readonly = 1; break;
		case 'D': trace = 1; break;
		case 'm': mnt = optarg; break;
		case 'o':
			if (srv_fuseopt(&fc, optarg) < 0) {
				fprintf(stderr, "mailfs: -o %s: %s\n", optarg, errmsg());
				return 2;
			}
			break;
		case 's': srvname = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'C': imap_setca(optarg); break;
		case 'i': index_setdir(optarg); break;
		case 'S':
			if (strcmp(optarg, "9p") && strcmp(optarg, "mount") && strcmp(optarg, "both") && strcmp(optarg, "none"))
				usage();
			seen9p = strcmp(optarg, "9p") == 0 || strcmp(optarg, "both") == 0;
			seenmount = strcmp(optarg, "mount") == 0 || strcmp(optarg, "both") == 0;
			break;
		default: usage();
		}
	if (argc - optind > 1)
		usage();
	const char *box = optind < argc ? argv[optind] : defaultbox(dflt, sizeof dflt);
	if (mnt == NULL && srvname == NULL)
		srvname = "mail";	/* what acme Mail dials */
	if (box_isurl(box))
		snprintf(path, sizeof path, "%s", box);
	else if (realpath(box, path) == NULL || access(path, R_OK) < 0) {
		fprintf(stderr, "mailfs: %s: %s\n", box, strerror(errno));
		return 1;
	}
	if (mnt && checkmount(mnt) < 0)
		return 1;
	/*
	 * One malloc arena: the tree lock serializes the work anyway, and
	 * an arena per FUSE or 9P thread only fragments memory.
	 */
	mallopt(M_ARENA_MAX, 1);
	tree_init();
	msg_init(0);
	if (readonly)
		ctl_readonly();
	keys_init(keyfile);
	if (foreground && isatty(2))
		box_setprogress(progress);
	if (box_open(path, "mbox") == NULL) {
		fprintf(stderr, "mailfs: %s\n", errmsg());
		return 1;
	}
	if (srvname && (p9fd = srv_9p_post(srvname, trace, seen9p)) < 0) {
		fprintf(stderr, "mailfs: %s\n", errmsg());
		return 1;
	}
	fc.foreground = foreground;
	fc.readonly = readonly;
	fc.trace = trace;
	fc.seen = seenmount;
	int r = mnt ? srv_fuse(mnt, &fc, serving) : serve9p(foreground);
	srv_9p_unpost();
	container_cleanup();
	/*
	 * Other threads (new mail, 9P, plumbing) may still run: keep the
	 * tree locked from here to the exit, so none of them sees a box
	 * being freed.
	 */
	prefetch_stop();
	index_stop();
	tree_lock();
	msg_flush();
	box_closeall();
	return r;
}
