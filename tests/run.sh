#!/usr/bin/env bash
# make check: every test, plain and under AddressSanitizer and
# UndefinedBehaviorSanitizer.  Each step prints TAP lines or Check's
# summary; the last line counts every check: "N passed, N failed, N
# skipped".  A skip ("ok N - ... # SKIP why") is counted as a skip, never
# as a pass.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
export SRCDIR=$top TZ=UTC
san=$(mktemp -d)
# the index's stores: each run its own, none of the user's
export XDG_CACHE_HOME=$(mktemp -d)
trap 'rm -rf "$san" "$XDG_CACHE_HOME"' EXIT
# sanitizer reports go to files: the mounted daemon has no stderr
# a small quarantine: the memory-flatness checks measure the server, not ASan
export ASAN_OPTIONS="log_path=$san/asan:detect_leaks=1:abort_on_error=1:quarantine_size_mb=8"
export UBSAN_OPTIONS="log_path=$san/ubsan:print_stacktrace=1:halt_on_error=1"
passed=0 failed=0 skipped=0

count() {	# count the checks in a step's output
	local out=$1 rc=$2 p f s=0
	if grep -q '^[0-9]*%: Checks:' "$out"; then
		p=$(sed -n 's/^[0-9]*%: Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\)/\1 \2 \3/p' "$out")
		set -- $p
		f=$(($2 + $3)); p=$(($1 - f))
	else
		s=$(grep -c '^ok .*# SKIP' "$out")
		p=$(($(grep -c '^ok ' "$out") - s)); f=$(grep -c '^not ok ' "$out")
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

step() {
	local name=$1 out rc
	shift
	echo "== $name"
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if ls "$san"/* >/dev/null 2>&1; then
		echo "not ok - sanitizer reports:"; cat "$san"/* | head -60
		echo "not ok - $name: sanitizer report" >>"$out"
		rm -f "$san"/*
		rc=1
	fi
	count "$out" "$rc"
	rm -f "$out"
}

step "build lists" tests/buildlists.sh
step "every program the scripts call is installed by the project" python3 tests/t-progs.py
step "unit suites" build/check
step "unit suites, sanitized" build/asan/check
step "whole trees over FUSE" tests/t-tree.sh mailfs/mailfs
step "whole trees over FUSE, sanitized" tests/t-tree.sh build/asan/mailfs
step "the page cache: filled at open, refilled when dropped" tests/t-pagecache.sh mailfs/mailfs
step "page cache, sanitized" tests/t-pagecache.sh build/asan/mailfs
step "message files handed to the kernel (FUSE passthrough)" python3 tests/t-passthrough.py mailfs/mailfs
step "passthrough, sanitized" python3 tests/t-passthrough.py build/asan/mailfs
step "no hung mount: the kernel's request timeout" tests/t-timeout.sh mailfs/mailfs
step "built on an older libfuse: no passthrough, said so" tests/t-buildfallback.sh
step "manual pages: they render, lint clean, and cover the interface" tests/t-man.sh mailfs/mailfs
step "make install and uninstall, and mk" tests/t-install.sh
step "the systemd user unit: verify, start, restart, stop" tests/t-systemd.sh
step "command line and mount" tests/t-cli.sh mailfs/mailfs
step "command line and mount, sanitized" tests/t-cli.sh build/asan/mailfs
step "OAuth2 for IMAP: token commands, OAUTHBEARER and XOAUTH2 against Dovecot" python3 tests/t-oauth.py mailfs/mailfs
step "OAuth2, sanitized" python3 tests/t-oauth.py build/asan/mailfs
step "9P conversations, conformance and trees" python3 tests/t-9p.py mailfs/mailfs
step "9P, sanitized" python3 tests/t-9p.py build/asan/mailfs
step "nobody else let in: another user and the 9P socket and mount" tests/t-others.sh mailfs/mailfs
step "full file systems and scarce descriptors" tests/t-full.sh mailfs/mailfs
step "full file systems, sanitized" tests/t-full.sh build/asan/mailfs
step "mailbox locks" tests/t-lock.sh mailfs/mailfs
step "fuzzing: 9P, HTML, mbox, the model, ctl, the key file" tests/t-fuzz.sh
step "acme Mail's ctl writes and search" python3 tests/t-mailctl.py mailfs/mailfs
step "ctl and reading, sanitized" python3 tests/t-mailctl.py build/asan/mailfs
step "the index: searches, restarts, kill -9, broken stores, a full disk" python3 tests/t-index.py mailfs/mailfs
step "the index, sanitized" python3 tests/t-index.py build/asan/mailfs
step "threads: the JWZ algorithm as files, over the mount and 9P" python3 tests/t-threads.py mailfs/mailfs
step "threads, sanitized" python3 tests/t-threads.py build/asan/mailfs
step "text: HTML as text, alternatives, attachments, over the mount and 9P" python3 tests/t-text.py mailfs/mailfs
step "text, sanitized" python3 tests/t-text.py build/asan/mailfs
step "a CRLF message under an LF From_ line" python3 tests/t-crlf.py mailfs/mailfs
step "CRLF, sanitized" python3 tests/t-crlf.py build/asan/mailfs
step "a mailbox rewritten by another program" tests/t-reread.sh mailfs/mailfs
step "new mail plumbed to acme Mail" python3 tests/t-plumb.py mailfs/mailfs
step "acme launcher" tests/t-acme.sh
step "deletes that lose nothing" tests/t-delete.sh mailfs/mailfs
step "deletes, sanitized" tests/t-delete.sh build/asan/mailfs
step "a Maildir: flags in names, deletes that unlink only what was asked" tests/t-maildir.sh mailfs/mailfs
step "Maildir, sanitized" tests/t-maildir.sh build/asan/mailfs
step "IMAP folders on a real Dovecot" python3 tests/t-imap.py mailfs/mailfs
step "IMAP, sanitized" python3 tests/t-imap.py build/asan/mailfs
step "IMAP faults: a cut literal, garbage, BYE; served meanwhile, reconnected after" python3 tests/t-imapfaults.py mailfs/mailfs
step "IMAP faults, sanitized" python3 tests/t-imapfaults.py build/asan/mailfs
step "IMAP BINARY: parts with NULs as exact as from an mbox" python3 tests/t-binary.py mailfs/mailfs
step "IMAP BINARY, sanitized" python3 tests/t-binary.py build/asan/mailfs
step "progress of a long first open, on a terminal" python3 tests/t-progress.py mailfs/mailfs
step "scripting tools" tests/t-tools.sh mailfs/mailfs
step "README commands" tests/t-readme.sh
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
