/*
 * Delivery into a Maildir, as an agent delivers: written in tmp/, then
 * linked into new/ (save, and Boxops.append).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libetpan/libetpan.h>
#include <libetpan/maildir.h>
#include "box/box.h"
#include "box_maildir.h"

/*
 * libetpan names a delivery <time>.<pid>_<counter>.<host> with a
 * counter that starts at 0 for each struct maildir, so two deliveries
 * of this process in one second would get one name; and when linking
 * tmp/<name> into new/ fails because the name is taken, it says
 * nothing and leaves the message in tmp/.  So the counter is kept for
 * the whole process, and a message still in tmp/ afterwards is taken
 * out and delivered again under the next name.
 */
static uint32_t delivered;

static int
addone(struct maildir *md, const char *msg, size_t n)
{
	char uid[PATH_MAX], p[2 * PATH_MAX + 8];
	struct stat st;

	md->mdir_counter = delivered;
	errno = 0;
	int r = maildir_message_add_uid(md, msg, n, uid, sizeof uid - 1), saved = errno;
	uid[sizeof uid - 1] = 0;
	delivered = md->mdir_counter;
	if (r != MAILDIR_NO_ERROR)
		return seterr(saved ? saved : EIO, "%s: cannot deliver: %s", md->mdir_path, strerror(saved ? saved : EIO));
	snprintf(p, sizeof p, "%s/tmp/%s", md->mdir_path, uid);
	if (lstat(p, &st) == 0) {
		unlink(p);
		return seterr(EEXIST, "%s: cannot deliver: new/%s exists", md->mdir_path, uid);
	}
	return 0;
}

/*
 * maildir_message_add first lists the whole maildir, which a delivery
 * does not need and which costs a readdir of every message for each
 * one saved: telling libetpan that it has looked at the directories as
 * they are now makes its look a stat of each.
 */
static void
skiplisting(struct maildir *md)
{
	char p[PATH_MAX + 8];
	struct stat st;

	snprintf(p, sizeof p, "%s/new", md->mdir_path);
	if (stat(p, &st) == 0)
		md->mdir_mtime_new = st.st_mtime;
	snprintf(p, sizeof p, "%s/cur", md->mdir_path);
	if (stat(p, &st) == 0)
		md->mdir_mtime_cur = st.st_mtime;
}

/*
 * Deliver one message (LF line ends, no From_ line) into dir's new/,
 * as a delivery agent does: written in tmp/, then linked into new/.
 */
int
maildir_append(const char *dir, const char *msg, size_t n)
{
	if (!maildir_isdir(dir))
		return seterr(ENOTDIR, "%s: not a maildir (it needs cur/, new/ and tmp/)", dir);
	if (n == 0)
		return seterr(EINVAL, "%s: an empty message is not delivered", dir);
	if (strlen(dir) >= PATH_MAX - 64)
		return seterr(ENAMETOOLONG, "%s: path too long", dir);
	int had = hasfolder(dir), r = -1;
	struct maildir *md = maildir_new(dir);
	if (md == NULL)
		return seterr(ENOMEM, "%s: out of memory", dir);
	skiplisting(md);
	for (int i = 0; i < Tries && r < 0; i++)
		if ((r = addone(md, msg, n)) < 0 && errcode() != EEXIST)
			break;
	maildir_free(md);
	unfolder(dir, had);
	return r;
}

/* Boxops.append: one file a message, as delivered */
int
mdappend(const char *path, const Mailmsg *m, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++)
		r = maildir_append(path, m[i].p, m[i].n);
	return r;
}
