/*
 * Maildir++ folders: a folder beside a Maildir by name, and the
 * "maildirfolder" marker libetpan leaves in every Maildir it reads.
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
 * libetpan's maildir_update creates an empty "maildirfolder" file in
 * every maildir it reads.  That file tells Dovecot and Courier that
 * the directory is a Maildir++ subfolder, so a top-level Maildir must
 * not keep one: if it was not there before us, it goes again.
 */
void
unfolder(const char *dir, int hadfolder)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof p, "%s/maildirfolder", dir);
	if (!hadfolder && lstat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
		unlink(p);
}

int
hasfolder(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof p, "%s/maildirfolder", dir);
	return lstat(p, &st) == 0;
}

/*
 * A Maildir++ folder of the maildir root, by name: "Sent", "Lists/linux"
 * or "Lists.linux" (an "INBOX." prefix allowed) is root/.Sent,
 * root/.Lists.linux.  The path, malloc'd, or NULL + err.
 */
char *
maildir_subfolder(const char *root, const char *name)
{
	Buf p = { 0 };

	if (strncasecmp(name, "INBOX.", 6) == 0 || strncasecmp(name, "INBOX/", 6) == 0)
		name += 6;
	if (*name == '.')	/* given as the folder's directory name */
		name++;
	if (*name == 0 || *name == '/' || *name == '.' || strstr(name, "..") || strstr(name, "//") ||
	    strstr(name, "./") || strstr(name, "/."))
		return seterr(EINVAL, "%s: not a folder name", name), NULL;
	bufprint(&p, "%s/.", root);
	for (const char *s = name; *s; s++)
		bufputc(&p, *s == '/' ? '.' : *s);
	if (p.p[p.n - 1] == '.')
		p.p[--p.n] = 0;
	if (!maildir_isdir(p.p)) {
		seterr(ENOENT, "%s: no such folder in %s", name, root);
		buffree(&p);
		return NULL;
	}
	return p.p;
}

/* Boxops.beside: the Maildir++ folder name of b, if it has one */
char *
mdbeside(Box *b, const char *name)
{
	return maildir_subfolder(b->path, name);
}
