/*
 * libFuzzer target for the key file's parser (keys.c, and tokenize in
 * util.c, which splits its lines): each input line is matched as a key
 * for a few services, servers and users.  Nothing is run: the token
 * command a key names is only split, as the key file's reader splits
 * it, and its fields must be within the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tree/tree.h"
#include "srv/srv.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *who[][3] = {
		{ "imap", "mail.example.com", "alice" }, { "imaps", "MAIL.example.com", "bob" }, { "smtp", "", "" },
	};
	char *text = malloc(size + 1);

	memcpy(text, data, size);
	text[size] = 0;
	for (size_t w = 0; w < nelem(who); w++) {
		char *copy = strdup(text);
		for (char *line = copy, *nl; line; line = nl) {
			nl = strchr(line, '\n');
			if (nl)
				*nl++ = 0;
			const char *val = NULL;
			char *end = line + strlen(line);
			int kind = keys_match(line, who[w][0], who[w][1], who[w][2], &val);
			if (kind != Nokey && (val == NULL || val < line || val > end))
				abort();
			if (kind == Tokenkey) {
				char *argv[33], *cmd = strdup(val);
				int argc = tokenize(cmd, argv, 32);
				if (argc < 0 || argc > 32)
					abort();
				free(cmd);
			}
		}
		free(copy);
	}
	free(text);
	return 0;
}
