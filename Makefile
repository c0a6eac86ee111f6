# mailfs: GNU make.  Sources are listed one per line; mkfile lists the
# same ones (tests/buildlists.sh checks that they agree).

SRCS = \
	mailfs/lib/util.c \
	mailfs/lib/err.c \
	mailfs/box/box.c \
	mailfs/box/flags.c \
	mailfs/box/box_mbox.c \
	mailfs/box/box_mboxwrite.c \
	mailfs/box/box_maildir.c \
	mailfs/box/maildir_deliver.c \
	mailfs/box/maildir_folders.c \
	mailfs/box/box_imap.c \
	mailfs/box/imap_url.c \
	mailfs/box/imap_tls.c \
	mailfs/box/imap_skel.c \
	mailfs/box/imap_conn.c \
	mailfs/box/imap_sasl.c \
	mailfs/box/imap_cache.c \
	mailfs/box/imap_parts.c \
	mailfs/box/imap_idle.c \
	mailfs/model/msg.c \
	mailfs/model/part.c \
	mailfs/model/hdr.c \
	mailfs/model/body.c \
	mailfs/model/html.c \
	mailfs/model/text.c \
	mailfs/tree/info.c \
	mailfs/tree/files.c \
	mailfs/tree/tree.c \
	mailfs/tree/prefetch.c \
	mailfs/tree/ctl.c \
	mailfs/tree/watch.c \
	mailfs/tree/container.c \
	mailfs/tree/ofile.c \
	mailfs/tree/thread.c \
	mailfs/tree/threads.c \
	mailfs/tree/index.c \
	mailfs/tree/index_db.c \
	mailfs/tree/index_sum.c \
	mailfs/tree/index_words.c \
	mailfs/tree/index_query.c \
	mailfs/srv/srv_fuse.c \
	mailfs/srv/fuse_backing.c \
	mailfs/srv/p9.c \
	mailfs/srv/srv_9p.c \
	mailfs/srv/plumb.c \
	mailfs/srv/p9dial.c \
	mailfs/srv/keys.c \
	mailfs/srv/sdnotify.c \
	mailfs/main.c

HDRS = mailfs/dat.h mailfs/lib/lib.h mailfs/box/box.h mailfs/model/model.h mailfs/model/gm.h mailfs/tree/tree.h mailfs/tree/index.h mailfs/srv/srv.h mailfs/srv/fuse_backing.h mailfs/srv/p9.h mailfs/box/box_mbox.h mailfs/box/box_imap.h mailfs/box/box_maildir.h

TESTSRCS = \
	tests/check_main.c \
	tests/check_mbox.c \
	tests/check_model.c \
	tests/check_files.c \
	tests/check_maildir.c \
	tests/check_prefetch.c \
	tests/check_ctl.c \
	tests/check_container.c \
	tests/check_thread.c \
	tests/check_text.c \
	tests/check_index.c

# libfuse: the system's when it is 3.17 or newer, else the copy of
# Debian's fuse3 that tools/libfuse (make deps) built into build/fuse3,
# linked statically; failing both, the system's older one (no passthrough).
FUSEDIR = build/fuse3/inst/usr
FUSEBUILT = $(wildcard $(FUSEDIR)/lib/libfuse3.a)
ifneq ($(FUSEBUILT),)
PKGS = gmime-3.0 libetpan libxml-2.0 libcrypto sqlite3
FUSE_CFLAGS = -I$(FUSEDIR)/include/fuse3
FUSE_LIBS = $(FUSEBUILT) $(shell cat build/fuse3/libs 2>/dev/null) -ldl -lrt
FUSE_SAYS = libfuse $(shell cat build/fuse3/version) (Debian's fuse3 source package, built in build/fuse3, linked statically)
else
PKGS = gmime-3.0 libetpan libxml-2.0 fuse3 libcrypto sqlite3
FUSE_SAYS = libfuse $(shell pkg-config --modversion fuse3 2>/dev/null) (the system's)$(if $(shell pkg-config --atleast-version=3.17 fuse3 2>/dev/null && echo new),, without FUSE passthrough: make deps builds a newer one)
endif

CC ?= cc
OPT ?= -O2 -g
CFLAGS_ALL = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Imailfs $(OPT) $(FUSE_CFLAGS) $(shell pkg-config --cflags $(PKGS))
LIBS = $(shell pkg-config --libs $(PKGS)) $(FUSE_LIBS) -lpthread
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIBSRCS = $(filter-out mailfs/main.c mailfs/srv/srv_fuse.c mailfs/srv/fuse_backing.c mailfs/srv/srv_9p.c mailfs/srv/plumb.c mailfs/srv/p9dial.c mailfs/srv/keys.c mailfs/srv/sdnotify.c,$(SRCS))
OBJS = $(SRCS:%.c=build/%.o)

# The build's packages are checked first, so that a machine without them
# gets one line naming the command to run (make deps), not a compiler's
# errors; the build itself runs in a make of its own, after the check.
all:
	@tools/deps -c build
	@echo "mailfs: $(FUSE_SAYS)"
	@$(MAKE) --no-print-directory mailfs/mailfs

build/%.o: %.c $(HDRS) $(wildcard build/fuse3/version)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

mailfs/mailfs: $(OBJS)
	$(CC) -o $@ $(OBJS) $(LIBS)

# the same program with AddressSanitizer and UndefinedBehaviorSanitizer
build/asan/mailfs: $(SRCS) $(HDRS) $(wildcard build/fuse3/version)
	@mkdir -p build/asan
	$(CC) $(CFLAGS_ALL) $(SAN) -o $@ $(SRCS) $(LIBS)

build/check: $(TESTSRCS) $(LIBSRCS) $(HDRS) tests/check.h
	$(CC) $(CFLAGS_ALL) -Imailfs -o $@ $(TESTSRCS) $(LIBSRCS) $(LIBS) $(shell pkg-config --libs check)

build/asan/check: $(TESTSRCS) $(LIBSRCS) $(HDRS) tests/check.h
	@mkdir -p build/asan
	$(CC) $(CFLAGS_ALL) $(SAN) -Imailfs -o $@ $(TESTSRCS) $(LIBSRCS) $(LIBS) $(shell pkg-config --libs check)

# Unit suites, then the whole-tree and tool tests, plain and sanitized.
# As root, what the tests need is installed first if missing.
check:
	@tools/deps build test
	@tools/libfuse
	@$(MAKE) --no-print-directory mailfs/mailfs build/check build/asan/mailfs build/asan/check
	tests/run.sh

bench: all
	tests/bench/run.sh
	tests/bench/imap.sh mailfs/mailfs

# Install the Debian packages mailfs needs to build and test
# (tools/deps.build, tools/deps.test).
deps:
	@tools/deps build test
	@tools/libfuse

# make install [PREFIX=/usr/local] [DESTDIR=]: the program, the tools,
# the acme tools and plumbing, the manual pages (tools/install)
PREFIX ?= /usr/local
install: all
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" tools/install

uninstall:
	DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" tools/install -u

clean:
	rm -rf build mailfs/mailfs

.PHONY: all check bench deps install uninstall clean

# libFuzzer targets (clang, under ASan and UBSan): the 9P decoder and
# request handler, the HTML renderer, the mbox scanner, the model and
# every file made from it, the ctl grammar, the key file parser.  make
# fuzz runs each for FUZZTIME seconds from its seeds (tests/t-fuzz.sh).
FUZZTIME ?= 60
FUZZERS = 9p html mbox model ctl keys
FUZZ_9p = mailfs/srv/srv_9p.c
FUZZ_keys = mailfs/srv/keys.c mailfs/srv/p9dial.c mailfs/srv/srv_9p.c
build/fuzz_%: tests/fuzz_%.c $(LIBSRCS) $(HDRS) mailfs/srv/srv_9p.c mailfs/srv/keys.c mailfs/srv/p9dial.c
	@mkdir -p build
	clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		$(shell pkg-config --cflags $(PKGS)) -Imailfs -o $@ $< $(LIBSRCS) $(FUZZ_$*) $(LIBS)

fuzz: $(FUZZERS:%=build/fuzz_%)
	FUZZTIME=$(FUZZTIME) tests/t-fuzz.sh $(FUZZERS)

.PHONY: fuzz

# The long runs: 200 kill -9 rounds during deletes.
stress: all
	tests/t-delete.sh mailfs/mailfs --stress

.PHONY: stress
