# mailfs for plan9 mk (Debian's 9base: /usr/lib/plan9/bin/mk).
# The source list must match the Makefile's (tests/buildlists.sh).

MKSHELL=sh
PKGS=gmime-3.0 libetpan libxml-2.0 fuse3 libcrypto sqlite3
CC=cc
CFLAGS='-std=gnu11' -D_GNU_SOURCE -Wall -Wextra -Imailfs -O2 -g
TARG=mailfs/mailfs

OFILES=\
	mailfs/lib/util.o\
	mailfs/lib/err.o\
	mailfs/box/box.o\
	mailfs/box/flags.o\
	mailfs/box/box_mbox.o\
	mailfs/box/box_mboxwrite.o\
	mailfs/box/box_maildir.o\
	mailfs/box/maildir_deliver.o\
	mailfs/box/maildir_folders.o\
	mailfs/box/box_imap.o\
	mailfs/box/imap_url.o\
	mailfs/box/imap_tls.o\
	mailfs/box/imap_skel.o\
	mailfs/box/imap_conn.o\
	mailfs/box/imap_sasl.o\
	mailfs/box/imap_cache.o\
	mailfs/box/imap_parts.o\
	mailfs/box/imap_idle.o\
	mailfs/model/msg.o\
	mailfs/model/part.o\
	mailfs/model/hdr.o\
	mailfs/model/body.o\
	mailfs/model/html.o\
	mailfs/model/text.o\
	mailfs/tree/info.o\
	mailfs/tree/files.o\
	mailfs/tree/tree.o\
	mailfs/tree/prefetch.o\
	mailfs/tree/ctl.o\
	mailfs/tree/watch.o\
	mailfs/tree/container.o\
	mailfs/tree/ofile.o\
	mailfs/tree/thread.o\
	mailfs/tree/threads.o\
	mailfs/tree/index.o\
	mailfs/tree/index_db.o\
	mailfs/tree/index_sum.o\
	mailfs/tree/index_words.o\
	mailfs/tree/index_query.o\
	mailfs/srv/srv_fuse.o\
	mailfs/srv/fuse_backing.o\
	mailfs/srv/p9.o\
	mailfs/srv/srv_9p.o\
	mailfs/srv/plumb.o\
	mailfs/srv/p9dial.o\
	mailfs/srv/keys.o\
	mailfs/srv/sdnotify.o\
	mailfs/main.o\

HFILES=mailfs/dat.h mailfs/lib/lib.h mailfs/box/box.h mailfs/model/model.h mailfs/model/gm.h mailfs/tree/tree.h mailfs/srv/srv.h mailfs/srv/fuse_backing.h mailfs/srv/p9.h mailfs/box/box_mbox.h mailfs/box/box_imap.h mailfs/box/box_maildir.h

all:V: $TARG

$TARG: $OFILES
	$CC -o $target $prereq `pkg-config --libs $PKGS` -lpthread

%.o: %.c $HFILES
	$CC $CFLAGS `pkg-config --cflags $PKGS` -c -o $target $stem.c

# DESTDIR and PREFIX from the environment, as for make install
install:V: $TARG
	tools/install

uninstall:V:
	tools/install -u

clean:V:
	rm -f $OFILES $TARG
