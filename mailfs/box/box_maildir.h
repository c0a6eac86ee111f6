/*
 * What the Maildir backend (box_maildir.c) shares with its parts,
 * maildir_deliver.c and maildir_folders.c: only they include this.
 */
enum { Tries = 4 };	/* renames by others that one change puts up with */

/* maildir_folders.c */
void	unfolder(const char *dir, int hadfolder);	/* the maildirfolder file we made goes */
int	hasfolder(const char *dir);
char	*mdbeside(Box *b, const char *name);	/* Boxops.beside */

/* maildir_deliver.c */
int	mdappend(const char *path, const Mailmsg *m, size_t n);	/* Boxops.append */
