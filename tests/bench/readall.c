/*
 * readall: read every file named on stdin, one path a line, in one
 * process (no spawn per file, so the timing is the file system's).
 *
 *	readall [-0] [-s] [-c SRCPREFIX DSTPREFIX] < paths
 *
 * -0	paths end in NUL instead of newline.
 * -s	check that each file's st_size equals the bytes read.
 * -c	also copy each file to DSTPREFIX + (path minus SRCPREFIX),
 *	creating directories as needed.
 *
 * Prints "files N bytes B" on stdout (plus "size-mismatch M" with -s).
 * Exits 1 if any file could not be read or copied, or a size differed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

enum { BUFSZ = 128 * 1024 };

static char buf[BUFSZ];
static char lastdir[4096];

static int
mkdirs(char *path)
{
	char *p;

	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0777) < 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	if (mkdir(path, 0777) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/* create the parent directory of path unless it was the last one made */
static int
parentdir(const char *path)
{
	char dir[4096];
	const char *sl;
	size_t n;

	sl = strrchr(path, '/');
	if (sl == NULL || sl == path)
		return 0;
	n = (size_t)(sl - path);
	if (n >= sizeof dir)
		return -1;
	memcpy(dir, path, n);
	dir[n] = 0;
	if (strcmp(dir, lastdir) == 0)
		return 0;
	if (mkdirs(dir) < 0)
		return -1;
	memcpy(lastdir, dir, n + 1);
	return 0;
}

static int
writeall(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	char *line, *src, *dst, out[8192];
	size_t cap, srclen;
	ssize_t len, r;
	unsigned long long bytes, fbytes;
	unsigned long files, errs, mism;
	int fd, ofd, i, delim, checksize;
	struct stat st;

	delim = '\n';
	checksize = 0;
	src = dst = NULL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-0") == 0)
			delim = 0;
		else if (strcmp(argv[i], "-s") == 0)
			checksize = 1;
		else if (strcmp(argv[i], "-c") == 0 && i + 2 < argc) {
			src = argv[++i];
			dst = argv[++i];
		} else {
			fprintf(stderr, "usage: readall [-0] [-s] [-c SRCPREFIX DSTPREFIX] < paths\n");
			return 2;
		}
	}
	srclen = src ? strlen(src) : 0;
	line = NULL;
	cap = 0;
	bytes = 0;
	files = errs = mism = 0;
	while ((len = getdelim(&line, &cap, delim, stdin)) > 0) {
		if (line[len - 1] == delim)
			line[--len] = 0;
		if (len == 0)
			continue;
		fd = open(line, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "readall: open %s: %s\n", line, strerror(errno));
			errs++;
			continue;
		}
		ofd = -1;
		if (dst) {
			if (strncmp(line, src, srclen) != 0
			    || (size_t)snprintf(out, sizeof out, "%s%s", dst, line + srclen) >= sizeof out) {
				fprintf(stderr, "readall: %s: not under %s\n", line, src);
				errs++;
				close(fd);
				continue;
			}
			if (parentdir(out) < 0
			    || (ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0) {
				fprintf(stderr, "readall: create %s: %s\n", out, strerror(errno));
				errs++;
				close(fd);
				continue;
			}
		}
		fbytes = 0;
		while ((r = read(fd, buf, BUFSZ)) != 0) {
			if (r < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "readall: read %s: %s\n", line, strerror(errno));
				errs++;
				break;
			}
			fbytes += (unsigned long long)r;
			if (ofd >= 0 && writeall(ofd, buf, (size_t)r) < 0) {
				fprintf(stderr, "readall: write %s: %s\n", out, strerror(errno));
				errs++;
				break;
			}
		}
		if (checksize && fstat(fd, &st) == 0 && (unsigned long long)st.st_size != fbytes) {
			if (mism < 5)
				fprintf(stderr, "readall: %s: st_size %lld, read %llu bytes\n",
				    line, (long long)st.st_size, fbytes);
			mism++;
		}
		close(fd);
		if (ofd >= 0 && close(ofd) < 0) {
			fprintf(stderr, "readall: close %s: %s\n", out, strerror(errno));
			errs++;
		}
		bytes += fbytes;
		files++;
	}
	free(line);
	printf("files %lu bytes %llu", files, bytes);
	if (checksize)
		printf(" size-mismatch %lu", mism);
	printf("\n");
	if (errs)
		fprintf(stderr, "readall: %lu errors\n", errs);
	return errs || mism ? 1 : 0;
}
