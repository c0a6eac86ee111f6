#!/usr/bin/env bash
# IMAP benchmark: the benchmark mbox served by a throw-away Dovecot.
#
#	tests/bench/imap.sh [MAILFS [MBOX]]
#
# MAILFS defaults to mailfs/mailfs, MBOX to BENCH_DIR/bench-N.mbox with
# N = BENCH_N (100000), generated as tests/bench/run.sh does (same stamp,
# so either script reuses the other's) when missing.  Work files go to
# BENCH_DIR/imap (BENCH_DIR defaults to /var/tmp/mailfs-bench).
#
# Steps, each printing one line:
#	imapload	the mbox written into alice's INBOX (a Maildir)
#	dovecot-index	first SELECT + listing FETCH: Dovecot indexes the folder
#	fetch-list	SELECT + UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE),
#			warm: the floor for `ls MNT/mbox` over IMAP
#	fetch-all	every BODY.PEEK[], 100 UIDs per command: the floor for
#			reading every info over IMAP
#	maildir-load	the mbox written into a separate Maildir copy,
#			BENCH_DIR/imap/maildir-NAME (reused while the mbox is
#			unchanged)
#	imap-mount-ls	mailfs -m MNT imap://alice@127.0.0.1:PORT/INBOX, then
#			ls MNT/mbox (bench_imap)
#	imap-read-info	readall of every MNT/mbox/N/info
#	maildir-mount-ls, maildir-read-info
#			the same on the Maildir copy (bench_maildir)
# Lines read "NAME: S s, ..." (times in seconds).
# The mailfs steps report and go on if the mount fails (a backend or an
# option not there yet); the run then exits 1 at the end.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
N=${BENCH_N:-100000}
W=${BENCH_DIR:-/var/tmp/mailfs-bench}
mkdir -p "$W/imap"
W=$(cd "$W" && pwd)
MAILFS=${1:-$repo/mailfs/mailfs}
MBOX=${2:-$W/bench-$N.mbox}
I=$W/imap
DC=$I/dovecot		# the Dovecot instance (tests/dovecot.sh DIR)
MD=$I/maildir-$(basename "$MBOX" .mbox)	# Maildir copy of the mbox, for mailfs's Maildir backend
MNT=$I/mnt
RA=$I/readall		# own copy: run.sh may be running $W/readall
failures=()

fail() {
	echo "FAIL: $*" >&2
	failures+=("$*")
}

cleanup() {
	local rc=$?
	if mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || true
	fi
	"$repo/tests/dovecot.sh" stop "$DC" || true
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# seconds between two $EPOCHREALTIME values
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# 1. tools and mailbox, as run.sh makes them
cc -std=c11 -O2 -o "$RA" "$here/readall.c"
if [[ ! -f $MBOX ]]; then
	if [[ $MBOX != "$W/bench-$N.mbox" ]]; then
		echo "imap bench: no mbox $MBOX" >&2
		exit 1
	fi
	cc -std=c11 -O2 -o "$I/genmbox" "$here/genmbox.c"
	t0=$EPOCHREALTIME
	"$I/genmbox" -n "$N" -s 1 >"$MBOX.tmp" 2>"$MBOX.stats"
	mv "$MBOX.tmp" "$MBOX"
	echo "n=$N seed=1 gen=$(sha256sum <"$here/genmbox.c" | cut -c1-64)" >"$MBOX.stamp"
	echo "mbox: generated $MBOX in $(elapsed "$t0" "$EPOCHREALTIME") s"
fi
echo "imap bench: mbox $MBOX ($(stat -c %s "$MBOX") bytes), work dir $I"
cat "$MBOX" >/dev/null	# page cache: the loads then time the writing

# 2. Dovecot, fresh each run: the first SELECT's indexing is a figure
"$repo/tests/dovecot.sh" stop "$DC"
rm -rf "$DC"
eval "$("$repo/tests/dovecot.sh" start "$DC")"
echo "dovecot: imap port $IMAP_PORT, imaps port $IMAPS_PORT, maildir $IMAP_MAILDIR"

t0=$EPOCHREALTIME
python3 "$repo/tests/imapload.py" -v "$MBOX" "$IMAP_MAILDIR" 2>"$I/imapload.out"
t1=$EPOCHREALTIME
nload=$(sed -n 's/^imapload: \([0-9]*\) messages.*/\1/p' "$I/imapload.out")
echo "imapload: $nload messages in $(elapsed "$t0" "$t1") s"

fetch() {
	python3 "$here/imapfetch.py" "$@" 127.0.0.1 "$IMAP_PORT" alice secret INBOX
}
out=$(fetch)
echo "dovecot-index: ${out#fetch-list: } (first SELECT: Dovecot reads the new files)"
fetch >"$I/fetch.out"
cat "$I/fetch.out"
nfetch=$(sed -n 's/.*, \([0-9]*\) messages$/\1/p' "$I/fetch.out")
[[ $nfetch == "$nload" ]] || fail "FETCH lists $nfetch messages, $nload were loaded"
fetch --all | grep '^fetch-all' | tee "$I/fetchall.out"
floor_list=$(sed -n 's/^fetch-list: \([0-9.]*\) s.*/\1/p' "$I/fetch.out")
floor_all=$(sed -n 's/^fetch-all: \([0-9.]*\) s.*/\1/p' "$I/fetchall.out")

# 3. the Maildir copy for mailfs's Maildir backend; a stamp of the
# mbox's size and mtime says whether the copy is current
stamp="$(stat -c '%s %Y' "$MBOX") $(sha256sum <"$repo/tests/imapload.py" | cut -c1-16)"
if [[ -d $MD/cur && -f $MD.stamp && $(cat "$MD.stamp") == "$stamp" ]]; then
	echo "maildir-load: reusing $MD"
else
	rm -rf "$MD" "$MD.stamp"
	t0=$EPOCHREALTIME
	python3 "$repo/tests/imapload.py" "$MBOX" "$MD"
	echo "maildir-load: $(ls "$MD/cur" | wc -l) files in $(elapsed "$t0" "$EPOCHREALTIME") s"
	echo "$stamp" >"$MD.stamp"
fi

# bench_mount LABEL SOURCE [MAILFS-OPTIONS...]: mount SOURCE with
# `mailfs OPTIONS -m MNT SOURCE`, time the mount plus `ls MNT/mbox`
# (LABEL-mount-ls), then reading every info with readall
# (LABEL-read-info), then unmount.  Prints the figures; a failure is
# reported and the run goes on.
declare -A ML RI	# by label: mount + ls, read every info (seconds)
bench_mount() {
	local label=$1 src=$2 t0 t1 n
	shift 2
	mkdir -p "$MNT"
	if mountpoint -q "$MNT"; then
		fusermount3 -u "$MNT" || fusermount3 -uz "$MNT"
	fi
	t0=$EPOCHREALTIME
	if ! "$MAILFS" "$@" -m "$MNT" "$src" </dev/null >"$I/$label.log" 2>&1; then
		fail "$label: mailfs $* -m $MNT $src: $(head -3 "$I/$label.log" | tr '\n' ' ')"
		return 0
	fi
	ls "$MNT/mbox" >"$I/$label.ls"
	t1=$EPOCHREALTIME
	grep -x '[1-9][0-9]*' "$I/$label.ls" | sort -n >"$I/$label.nums" || true
	n=$(wc -l <"$I/$label.nums")
	ML[$label]=$(elapsed "$t0" "$t1")
	echo "$label-mount-ls: ${ML[$label]} s, $n messages"
	[[ $n == "$nload" ]] || fail "$label: ls $MNT/mbox shows $n messages, $nload were loaded"
	sed "s|.*|$MNT/mbox/&/info|" "$I/$label.nums" >"$I/$label.paths"
	t0=$EPOCHREALTIME
	"$RA" <"$I/$label.paths" >"$I/$label.ra" || fail "$label: reading the info files"
	t1=$EPOCHREALTIME
	RI[$label]=$(elapsed "$t0" "$t1")
	echo "$label-read-info: ${RI[$label]} s, $(cat "$I/$label.ra")"
	fusermount3 -u "$MNT" || fail "$label: fusermount3 -u $MNT"
}

# HOOK (lead): mailfs on the Dovecot folder.  The key file format is
# the one tests/t-imap.py uses with -k; change both here if it changes.
# A cold on-disk cache makes the figures comparable from run to run.
bench_imap() {
	local home=$I/home keys
	rm -rf "$home"
	mkdir -p "$home"
	keys=$home/keys
	echo "key proto=pass service=imap server=127.0.0.1 user=alice !password=secret" >"$keys"
	chmod 600 "$keys"
	HOME=$home XDG_CACHE_HOME=$home/cache \
		bench_mount imap "imap://alice@127.0.0.1:$IMAP_PORT/INBOX" -r -k "$keys"
}

# HOOK (lead): mailfs on a Maildir, given its path (the folder root,
# holding cur/ new/ tmp/).
bench_maildir() {
	bench_mount maildir "$1" -r
}

ratio() {	# name measured floor what
	awk -v n="$1" -v x="$2" -v y="$3" -v w="$4" 'BEGIN {
		if (x == "" || y == "" || y == 0) { printf "%s: not measured\n", n; exit }
		printf "%s: measured %.3f s, %s %.3f s, ratio %.2f\n", n, x, w, y, x / y }'
}

if [[ -x $MAILFS ]]; then
	bench_imap
	bench_maildir "$MD"
	bench_mount mbox "$MBOX" -r
	echo "-- ratios, all measured in this run"
	ratio "imap list" "${ML[imap]:-}" "$floor_list" "floor (one UID FETCH from a script)"
	ratio "imap read-info" "${RI[imap]:-}" "$floor_all" "floor (every BODY.PEEK[] from a script)"
	ratio "imap list" "${ML[imap]:-}" "${ML[mbox]:-}" "mbox"
	ratio "imap read-info" "${RI[imap]:-}" "${RI[mbox]:-}" "mbox"
	ratio "maildir list" "${ML[maildir]:-}" "${ML[mbox]:-}" "mbox"
	ratio "maildir read-info" "${RI[maildir]:-}" "${RI[mbox]:-}" "mbox"
else
	fail "no mailfs binary $MAILFS: mailfs figures skipped"
fi

if ((${#failures[@]})); then
	echo "imap bench: ${#failures[@]} problem(s):"
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
echo "imap bench: done"
