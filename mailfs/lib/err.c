/*
 * The error record.  Lower layers set a code (an errno value) and a
 * message; FUSE replies with the code, 9P with the message.  It is per
 * thread so that transports with worker threads do not mix errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include "lib/lib.h"

static _Thread_local int code;
static _Thread_local char msg[256];

int
seterr(int c, const char *fmt, ...)
{
	va_list ap;

	code = c;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return -1;
}

int
errcode(void)
{
	return code;
}

const char *
errmsg(void)
{
	return msg;
}
