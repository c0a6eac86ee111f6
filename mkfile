# mailfs for plan9 mk (Debian's 9base: /usr/lib/plan9/bin/mk).
# The source list must match the Makefile's (tests/buildlists.sh).

MKSHELL=sh
PKGS=gmime-3.0 libetpan fuse3 libcrypto
CC=cc
CFLAGS='-std=gnu11' -D_GNU_SOURCE -Wall -Wextra -O2 -g
TARG=mailfs/mailfs

OFILES=\
	mailfs/util.o\
	mailfs/err.o\
	mailfs/box.o\
	mailfs/flags.o\
	mailfs/box_mbox.o\
	mailfs/box_mboxwrite.o\
	mailfs/box_maildir.o\
	mailfs/maildir_deliver.o\
	mailfs/maildir_folders.o\
	mailfs/box_imap.o\
	mailfs/imap_url.o\
	mailfs/imap_tls.o\
	mailfs/imap_skel.o\
	mailfs/imap_conn.o\
	mailfs/imap_cache.o\
	mailfs/imap_parts.o\
	mailfs/imap_idle.o\
	mailfs/msg.o\
	mailfs/part.o\
	mailfs/hdr.o\
	mailfs/body.o\
	mailfs/info.o\
	mailfs/files.o\
	mailfs/tree.o\
	mailfs/prefetch.o\
	mailfs/ctl.o\
	mailfs/watch.o\
	mailfs/container.o\
	mailfs/ofile.o\
	mailfs/srv_fuse.o\
	mailfs/p9.o\
	mailfs/srv_9p.o\
	mailfs/plumb.o\
	mailfs/p9dial.o\
	mailfs/keys.o\
	mailfs/main.o\

HFILES=mailfs/dat.h mailfs/fns.h mailfs/srv.h mailfs/p9.h mailfs/box_mbox.h mailfs/box_imap.h mailfs/box_maildir.h

all:V: $TARG

$TARG: $OFILES
	$CC -o $target $prereq `pkg-config --libs $PKGS` -lpthread

%.o: %.c $HFILES
	$CC $CFLAGS `pkg-config --cflags $PKGS` -c -o $target $stem.c

clean:V:
	rm -f $OFILES $TARG
