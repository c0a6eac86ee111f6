#!/usr/bin/env bash
# t-timeout.sh: no hung mount.  mailfs sets the kernel's request timeout
# (-o timeout=SECS, libfuse 3.18 on kernel 6.14 or newer): while mailfs
# is stopped (kill -STOP), a reader of a file it has not answered for
# gets an error within that time and the kernel's check period (15 s),
# not a hang; after kill -CONT the mount is gone cleanly, mailfs exits 0
# and nothing stays mounted.  With -o timeout=0 the reader waits.  An
# IMAP server that stalls (its imap processes stopped) costs a read at
# most two of mailfs's IMAP timeouts, within the request timeout: the
# mount stays, and reads go on once mailfs has connected again.
#
#	tests/t-timeout.sh MAILFS_BINARY
set -u
export LC_ALL=C
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.." || exit 2
. tests/tap.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/t-timeout.XXXXXX") || exit 2
pids=()
trap 'kill -CONT "${pids[@]}" 2>/dev/null; for m in "$T"/m*; do fusermount3 -u "$m" 2>/dev/null; done; wait; rm -rf "$T"' EXIT
cp testdata/sample.mbox "$T/box"

# start N OPTS: mailfs -f -D OPTS on $T/mN; its pid in $pid
start() {
	mkdir "$T/m$1"
	"$BIN" -f -D -o "$2" -m "$T/m$1" "$T/box" 2>"$T/log$1" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do mountpoint -q "$T/m$1" && break; sleep 0.1; done
}

# timedread FILE: cat it, within 90 s at most; its stderr in $err, status
# in $rc, whole seconds taken in $secs
timedread() {
	local t0
	t0=$(date +%s%N)
	err=$(timeout 90 cat "$1" 2>&1 >/dev/null)
	rc=$?
	secs=$(( ($(date +%s%N) - t0) / 1000000000 ))
}

start 1 timeout=2
line=$(grep -m1 '^fuse: request timeout' "$T/log1")
if [ "$line" != "fuse: request timeout: 2 s" ]; then
	case $line in
	*"the kernel has none"*|*"older than 3.18"*) skip "a stopped mailfs: the reader gets an error" "${line#fuse: }"
		tap_done; exit ;;
	esac
	notok "-D says the request timeout set: 2 s" "${line:-no request timeout line}"
else
	ok "-D says the request timeout set: 2 s"
fi
cat "$T/m1/mbox/1/subject" >/dev/null
kill -STOP "$pid"
timedread "$T/m1/mbox/3/body"
assert "with mailfs stopped, a reader gets an error, not a hang, in ${secs} s (the kernel checks every 15 s: at most 45 s)" \
	'[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$secs" -le 45 ]' 'echo "rc $rc: $err"'
assert "the error says the connection was aborted: ${err##*: }" '[[ $err == *"connection abort"* ]]' 'echo "$err"'
kill -CONT "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"
rc=$?
assert "after kill -CONT mailfs ends by itself (status $rc) and the mount is gone" \
	'[ "$rc" -eq 0 ] && ! mountpoint -q "$T/m1" && ! grep -q " $T/m1 " /proc/mounts' 'grep " $T/m1 " /proc/mounts'

# without a timeout the reader waits for as long as mailfs is stopped
start 2 timeout=0
assert "-o timeout=0: -D says there is none" 'grep -q "^fuse: request timeout: none, turned off" "$T/log2"' 'grep timeout "$T/log2"'
kill -STOP "$pid"
timeout 20 cat "$T/m2/mbox/3/body" >/dev/null 2>&1 &
reader=$!
sleep 18
kill -0 "$reader" 2>/dev/null
waiting=$?
kill -CONT "$pid"
wait "$reader"
rc=$?
assert "and a reader of a stopped mailfs still waits after 18 s, then reads once it runs (status $rc)" \
	'[ "$waiting" -eq 0 ] && [ "$rc" -eq 0 ]'
fusermount3 -u "$T/m2"
wait "$pid"

# an IMAP server that stops answering in the middle
D=$T/dovecot
if ! out=$(tests/dovecot.sh start "$D" 2>&1); then
	notok "a test Dovecot starts" "$out"
	tap_done
	exit
fi
eval "$out"
trap 'kill -CONT "${pids[@]}" 2>/dev/null; for m in "$T"/m*; do fusermount3 -u "$m" 2>/dev/null; done; tests/dovecot.sh stop "$D" >/dev/null 2>&1; wait; rm -rf "$T"' EXIT
python3 tests/imapload.py testdata/sample.mbox "$IMAP_MAILDIR"
mkdir -p "$T/home" "$T/m3"
printf 'key proto=pass service=imap server=127.0.0.1 user=alice !password=secret\n' >"$T/home/keys"
chmod 600 "$T/home/keys"
HOME=$T/home XDG_CACHE_HOME=$T/home/cache "$BIN" -f -k "$T/home/keys" -m "$T/m3" "imap://alice@127.0.0.1:$IMAP_PORT/INBOX" 2>"$T/log3" &
pid=$!
pids+=("$pid")
for _ in $(seq 100); do mountpoint -q "$T/m3" && break; sleep 0.1; done
subject=$(timeout 20 cat "$T/m3/mbox/1/subject")
stopped=$(tests/dovecot.sh imaps "$D" | tr '\n' ' ')
pids+=($stopped)
# shellcheck disable=SC2086
kill -STOP $stopped
timedread "$T/m3/mbox/3/body"
assert "an IMAP server stalled mid-session (imap pids $stopped): a read of an unfetched body ends in ${secs} s, within the request timeout (status $rc${err:+: $err})" \
	'[ "$rc" -ne 124 ] && [ "$secs" -le 40 ] && [[ $err != *"connection abort"* ]]' 'tail -5 "$T/log3"'
assert "and the mount stays: the listing still reads" 'ls "$T/m3/mbox" | grep -qx 5' 'ls "$T/m3/mbox" 2>&1'
# shellcheck disable=SC2086
kill -CONT $stopped
body=$(timeout 30 cat "$T/m3/mbox/3/body")
assert "once the server answers again, the body reads" '[ -n "$body" ] && [ -n "$subject" ]'
fusermount3 -u "$T/m3"
wait "$pid"
tap_done
