/*
 * libFuzzer target for the HTML renderer (model/html.c): the first
 * byte picks the MIME charset (none, so the <meta> decides, or one
 * of a few), the rest is the HTML.  Besides not crashing, the text must
 * keep the renderer's promises: valid UTF-8, no trailing spaces, at
 * most one blank line in a row, one newline at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include "model/model.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	part_init();
	return 0;
}

static void
promises(const Buf *t)
{
	if (t->n == 0)
		return;
	if (!g_utf8_validate(t->p, t->n, NULL) || t->p[t->n - 1] != '\n' || t->p[0] == '\n')
		abort();
	if (memmem(t->p, t->n, "\n\n\n", 3) || memmem(t->p, t->n, " \n", 2))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *charsets[] = { NULL, "utf-8", "windows-1251", "shift_jis", "x-no-such-charset" };
	Buf out = { 0 };

	if (size == 0)
		return 0;
	html_text(&out, (const char *)data + 1, size - 1, charsets[data[0] % nelem(charsets)]);
	promises(&out);
	buffree(&out);
	return 0;
}
