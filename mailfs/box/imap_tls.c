/*
 * Certificate checks for imaps://.  Debian's libetpan speaks TLS
 * through GnuTLS and checks nothing, so the chain the server sent is
 * verified here with OpenSSL, after the handshake and before the
 * password goes out: against the system's CAs, or the private CA
 * given with -C, and for the host name of the URL.
 */
#include <errno.h>
#include <string.h>
#include <libetpan/libetpan.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "box/box.h"
#include "box_imap.h"

static char *cafile;	/* NULL: the system's store */

void
imap_setca(const char *file)
{
	cafile = file ? xstrdup(file) : NULL;
}

static X509 *
der(MMAPString *s)
{
	const unsigned char *p = (const unsigned char *)s->str;

	return d2i_X509(NULL, &p, s->len);
}

int
imap_verify(void *stream, const Imapurl *u)
{
	carray *chain = mailstream_get_certificate_chain(stream);
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *rest = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = NULL;
	int ok = 0;

	if (chain == NULL || carray_count(chain) == 0) {
		seterr(EPROTO, "%s: the server sent no certificate", u->text);
		goto out;
	}
	leaf = der(carray_get(chain, 0));
	for (unsigned i = 1; i < carray_count(chain); i++) {
		X509 *x = der(carray_get(chain, i));
		if (x)
			sk_X509_push(rest, x);
	}
	if (cafile ? X509_STORE_load_file(store, cafile) != 1 : X509_STORE_set_default_paths(store) != 1) {
		seterr(EINVAL, "cannot load the CA certificates%s%s", cafile ? " of " : "", cafile ? cafile : "");
		goto out;
	}
	if (leaf == NULL || X509_STORE_CTX_init(ctx, store, leaf, rest) != 1) {
		seterr(EPROTO, "%s: unreadable server certificate", u->text);
		goto out;
	}
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
	if (X509_VERIFY_PARAM_set1_ip_asc(param, u->host) != 1)	/* not an address: a name */
		X509_VERIFY_PARAM_set1_host(param, u->host, 0);
	if (X509_verify_cert(ctx) == 1)
		ok = 1;
	else
		seterr(EACCES, "%s: certificate not trusted: %s", u->text,
			X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(rest, X509_free);
	X509_free(leaf);
	X509_STORE_free(store);
	if (chain)
		mailstream_certificate_chain_free(chain);
	return ok ? 0 : -1;
}
