/* Shared by the Check suites: one per module, run by check_main.c. */
#include <check.h>
#include "tree/tree.h"

Suite	*mbox_suite(void);
Suite	*model_suite(void);
Suite	*files_suite(void);
Suite	*maildir_suite(void);
Suite	*prefetch_suite(void);
Suite	*ctl_suite(void);
Suite	*container_suite(void);
Suite	*thread_suite(void);
Suite	*text_suite(void);
Suite	*index_suite(void);

/* check_main.c: the corpus, served through the tree layer */
Box	*tbox(const char *name);	/* testdata/boxes/<name>.mbox, or testdata/sample.mbox */
Blob	*tfile(const char *path);	/* "box/1/2/body": content, or NULL + err */
int	tstat(const char *path, Dirinfo *d);
char	*tslurp(const char *file, size_t *n);	/* malloc'd, NUL-terminated */
