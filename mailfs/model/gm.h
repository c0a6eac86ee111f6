/*
 * Inside the model: the GMime objects behind its opaque fields, with
 * their real types.  Only the model's files include this; above the
 * model, a Part is a tree of files, not of GMime objects.
 */
#ifndef MAILFS_GM_H
#define MAILFS_GM_H

#include <gmime/gmime.h>
#include "model/model.h"

GMimeObject	*part_mimeobj(Part *p);	/* with the content's MIME headers */
GMimeContentType	*part_ctype(Part *p);	/* or NULL */
GMimeContentDisposition	*part_cdisp(Part *p);	/* or NULL */
GMimeParserOptions	*part_opts(void);	/* what mailfs decodes with */
void	hdr_fromgmime(Hdr *h, GMimeMessage *m);
InternetAddressList	*hdr_addresses(Hdr *h, const char *name);	/* every such field's; the caller unrefs; or NULL */
void	body_serialize(Buf *out, GMimeObject *o);

#endif
