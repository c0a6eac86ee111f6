/*
 * mirrorfs: the thinnest FUSE server we can write, a read-only mirror
 * of one directory.  The benchmark runs the same reads through it as
 * through mailfs, so every run measures what the FUSE round trips alone
 * cost on the machine: the floor under any FUSE server.
 *
 *	mirrorfs [-d] [-f] [-u] [-t N] SRCDIR MOUNTPOINT
 *
 * -d	libfuse's trace of every request on stderr (implies -f): to count
 *	what a benchmark step asks of a FUSE server.
 * -f	stay in the foreground (else return once the mount is ready).
 * -t N	multithreaded loop with at most N threads (mailfs uses 8);
 *	default: single-threaded, the cheapest path for one reader.
 * -u	FUSE over io_uring (libfuse 3.18), where the kernel offers it
 *	(/sys/module/fuse/parameters/enable_uring): the same transport
 *	as a mailfs that runs on it.
 *
 * It caches as mailfs does (entries and attributes for an hour, pages
 * kept across opens, no flush on close) and answers readdirplus too, as
 * mailfs does, so that the kernel sends it the same kinds of requests.
 * Nodes are never forgotten: a benchmark run is short.
 */
#define FUSE_USE_VERSION 312

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const double Cachesecs = 3600;

/*
 * Inode number = index in nodes[]; 1 is the root (FUSE_ROOT_ID).  A
 * node holds its path relative to the source directory: paths, not
 * O_PATH descriptors, because 100,000 messages make 300,000 nodes.
 * The strings are never freed, so a pointer to one stays valid without
 * the lock after nodes[] is reallocated.
 */
typedef struct Node Node;
struct Node {
	char	*path;
	const char *name;	/* last element of path */
	fuse_ino_t next;	/* hash chain */
};

static pthread_mutex_t lk = PTHREAD_MUTEX_INITIALIZER;
static Node *nodes;
static size_t nnodes, nalloc;
static fuse_ino_t *hash;	/* full relative path -> first node of its chain */
static size_t nhash;
static int srcfd;

static void *
emalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		perror("mirrorfs");
		abort();
	}
	return p;
}

static size_t
strhash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* the path of ino, or NULL for a number we never gave out */
static const char *
pathof(fuse_ino_t ino)
{
	const char *p = NULL;

	pthread_mutex_lock(&lk);
	if (ino > 0 && ino < nnodes)
		p = nodes[ino].path;
	pthread_mutex_unlock(&lk);
	return p;
}

static void
rehash(size_t n)
{
	free(hash);
	hash = calloc(n, sizeof *hash);
	if (hash == NULL)
		abort();
	nhash = n;
	for (fuse_ino_t i = 1; i < nnodes; i++) {
		size_t h = strhash(nodes[i].path) % nhash;
		nodes[i].next = hash[h];
		hash[h] = i;
	}
}

/* dir/name into buf (PATH_MAX); 0 or -errno */
static int
mkpath(char *buf, fuse_ino_t dir, const char *name)
{
	const char *d = pathof(dir);

	if (d == NULL)
		return -ESTALE;
	if (snprintf(buf, PATH_MAX, "%s/%s", d, name) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* the node of path, made on first sight, so that a name keeps its number */
static fuse_ino_t
intern(const char *path, const char **namep)
{
	fuse_ino_t i;

	pthread_mutex_lock(&lk);
	size_t h = strhash(path) % nhash;
	for (i = hash[h]; i != 0; i = nodes[i].next)
		if (strcmp(nodes[i].path, path) == 0)
			break;
	if (i == 0) {
		if (nnodes == nalloc) {
			nalloc *= 2;
			if ((nodes = realloc(nodes, nalloc * sizeof *nodes)) == NULL)
				abort();
		}
		i = nnodes++;
		if ((nodes[i].path = strdup(path)) == NULL)
			abort();
		nodes[i].name = strrchr(nodes[i].path, '/') + 1;
		nodes[i].next = hash[h];
		hash[h] = i;
		if (nnodes > nhash)
			rehash(2 * nhash);
	}
	if (namep)
		*namep = nodes[i].name;
	pthread_mutex_unlock(&lk);
	return i;
}

static int
statino(fuse_ino_t ino, struct stat *st)
{
	const char *p = pathof(ino);

	if (p == NULL)
		return -ESTALE;
	if (fstatat(srcfd, p, st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	st->st_ino = ino;
	return 0;
}

/* fills e for dir/name, stat first so that missing names make no node; 0 or -errno */
static int
entry(fuse_ino_t dir, const char *name, struct fuse_entry_param *e)
{
	char path[PATH_MAX];
	int r;

	memset(e, 0, sizeof *e);
	if ((r = mkpath(path, dir, name)) < 0)
		return r;
	if (fstatat(srcfd, path, &e->attr, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	e->ino = intern(path, NULL);
	e->attr.st_ino = e->ino;
	e->generation = 1;
	e->attr_timeout = Cachesecs;
	e->entry_timeout = Cachesecs;
	return 0;
}

static void
fs_init(void *data, struct fuse_conn_info *conn)
{
	(void)data;
	/* as mailfs: cached pages stay valid without attribute checks */
	conn->want &= ~FUSE_CAP_AUTO_INVAL_DATA;
}

static void
fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int r;

	if ((r = entry(parent, name, &e)) < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_entry(req, &e);
}

static void
fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino; (void)nlookup;
	fuse_reply_none(req);
}

static void
fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	(void)count; (void)forgets;
	fuse_reply_none(req);
}

static void
fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int r;

	(void)fi;
	if ((r = statino(ino, &st)) < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_attr(req, &st, Cachesecs);
}

/*
 * An open directory is its whole listing, read at opendir: the offset
 * of entry i is then simply i + 1, with no telldir cookies to keep
 * valid between requests.  "." and ".." are left out (nobody here
 * needs them, and readdirplus would have to special-case them).
 */
typedef struct Dent Dent;
struct Dent {
	const char *name;	/* the node's, never freed */
	fuse_ino_t ino;
	mode_t	type;
};
typedef struct Dir Dir;
struct Dir {
	Dent	*e;
	size_t	n;
};

static void
fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const char *p = pathof(ino);
	int fd;
	DIR *dp;
	struct dirent *de;
	size_t na = 64;

	if (p == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((fd = openat(srcfd, p, O_RDONLY | O_DIRECTORY)) < 0 || (dp = fdopendir(fd)) == NULL) {
		fuse_reply_err(req, errno);
		if (fd >= 0)
			close(fd);
		return;
	}
	Dir *d = emalloc(sizeof *d);
	d->n = 0;
	d->e = emalloc(na * sizeof *d->e);
	while ((de = readdir(dp)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (d->n == na && (d->e = realloc(d->e, (na *= 2) * sizeof *d->e)) == NULL)
			abort();
		Dent *e = &d->e[d->n];
		char path[PATH_MAX];
		if (mkpath(path, ino, de->d_name) < 0)
			continue;
		e->ino = intern(path, &e->name);
		d->n++;
		e->type = de->d_type == DT_UNKNOWN ? 0 : DTTOIF(de->d_type);
	}
	closedir(dp);
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0) {
		free(d->e);
		free(d);
	}
}

static void
readdir1(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi, int plus)
{
	Dir *d = (Dir *)(uintptr_t)fi->fh;
	char *buf = emalloc(size);
	size_t len = 0, n;
	struct stat st;
	struct fuse_entry_param e;

	for (size_t i = off; i < d->n; i++) {
		if (plus) {
			if (entry(ino, d->e[i].name, &e) < 0)
				continue;	/* gone since opendir */
			n = fuse_add_direntry_plus(req, buf + len, size - len, d->e[i].name, &e, i + 1);
		} else {
			memset(&st, 0, sizeof st);
			st.st_ino = d->e[i].ino;
			st.st_mode = d->e[i].type;
			n = fuse_add_direntry(req, buf + len, size - len, d->e[i].name, &st, i + 1);
		}
		if (n > size - len)	/* did not fit: the next request starts here */
			break;
		len += n;
	}
	fuse_reply_buf(req, buf, len);
	free(buf);
}

static void
fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	readdir1(req, ino, size, off, fi, 0);
}

static void
fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	readdir1(req, ino, size, off, fi, 1);
}

static void
fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	Dir *d = (Dir *)(uintptr_t)fi->fh;

	(void)ino;
	free(d->e);
	free(d);
	fuse_reply_err(req, 0);
}

static void
fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	const char *p = pathof(ino);
	int fd;

	if (p == NULL) {
		fuse_reply_err(req, ESTALE);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if ((fd = openat(srcfd, p, O_RDONLY)) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	fi->fh = fd;
	fi->keep_cache = 1;	/* the same flags as mailfs's message files */
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) != 0)	/* interrupted: no release will come */
		close(fd);
}

static void
fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	/* one buffer per worker thread, kept: no malloc per read */
	static __thread char *buf;
	static __thread size_t cap;
	ssize_t n;

	(void)ino;
	if (size > cap) {
		free(buf);
		buf = emalloc(size);
		cap = size;
	}
	if ((n = pread(fi->fh, buf, size, off)) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, n);
}

static void
fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	close(fi->fh);
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops ops = {
	.init = fs_init,
	.lookup = fs_lookup,
	.forget = fs_forget,
	.forget_multi = fs_forget_multi,
	.getattr = fs_getattr,
	.opendir = fs_opendir,
	.readdir = fs_readdir,
	.readdirplus = fs_readdirplus,
	.releasedir = fs_releasedir,
	.open = fs_open,
	.read = fs_read,
	.release = fs_release,
};

static void
usage(void)
{
	fprintf(stderr, "usage: mirrorfs [-d] [-f] [-u] [-t threads] srcdir mountpoint\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	char opts[] = "fsname=mirrorfs,subtype=mirrorfs,ro,default_permissions,auto_unmount,noatime";
	char *fargv[] = { "mirrorfs", "-o", opts, NULL, NULL, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_session *se;
	int c, foreground = 0, threads = 0, ret = 1;

	while ((c = getopt(argc, argv, "dfut:")) != -1) {
		switch (c) {
		case 'u':	/* as mailfs asks for it: used where the kernel offers it */
			fargv[args.argc++] = "-oio_uring";
			break;
		case 'd':
			fargv[args.argc++] = "-d";
			foreground = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			if ((threads = atoi(optarg)) < 1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	/* opened now: fuse_daemonize changes to / */
	if ((srcfd = open(argv[optind], O_RDONLY | O_DIRECTORY)) < 0) {
		perror(argv[optind]);
		return 1;
	}
	nalloc = nhash = 1024;
	nodes = emalloc(nalloc * sizeof *nodes);
	hash = calloc(nhash, sizeof *hash);
	nodes[0] = (Node){ 0 };
	nodes[1] = (Node){ .path = ".", .name = "." };	/* paths below are "./a/b" */
	nnodes = 2;

	if ((se = fuse_session_new(&args, &ops, sizeof ops, NULL)) == NULL)
		return 1;
	if (fuse_set_signal_handlers(se) != 0)
		goto destroy;
	if (fuse_session_mount(se, argv[optind + 1]) != 0)
		goto signals;
	/*
	 * As in mailfs: if we are killed, fusermount3's auto_unmount only
	 * unmounts when it sees ENOTCONN, and it can see ECONNABORTED if the
	 * kernel drops the FUSE fd before the helper's socket.  A copy of the
	 * fd numbered above the socket makes the device go last.
	 */
	fcntl(fuse_session_fd(se), F_DUPFD_CLOEXEC, 200);
	if (fuse_daemonize(foreground) != 0)
		goto unmount;
	if (threads > 0) {
		struct fuse_loop_config *cfg = fuse_loop_cfg_create();
		fuse_loop_cfg_set_max_threads(cfg, threads);
		ret = fuse_session_loop_mt(se, cfg) < 0;
		fuse_loop_cfg_destroy(cfg);
	} else
		ret = fuse_session_loop(se) < 0;
unmount:
	fuse_session_unmount(se);
signals:
	fuse_remove_signal_handlers(se);
destroy:
	fuse_session_destroy(se);
	return ret;
}
