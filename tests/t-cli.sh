#!/usr/bin/env bash
# t-cli.sh: the command line and mount behaviour of mailfs.
#
#	tests/t-cli.sh MAILFS_BINARY	(e.g. mailfs/mailfs or build/asan/mailfs)
#
# Prints TAP ("ok N - what" / "not ok N - what", plan "1..N" last) and
# exits 1 if any check failed, 2 on bad usage.  Needs FUSE (run as root
# in CI), fusermount3, python3, pgrep and mountpoint.  Every mount and
# every mailfs it starts is removed by the EXIT trap, whatever happens;
# every command that touches a mount runs under timeout.
#
# A sanitized binary's reports go to files (ASAN_OPTIONS log_path): a
# daemonized mailfs has no stderr.  The last check fails if any appear.
set -u
export LC_ALL=C

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 MAILFS_BINARY" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.." || exit 2
REPO=$(pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/t-cli.XXXXXX") || exit 2
# copies: a recursive rm through a mount deletes messages, as rmdir of a
# message directory does, and the test data must never lose any
cp "$REPO/testdata/sample.mbox" "$T/sample.mbox"
cp "$REPO/testdata/boxes/plain.mbox" "$T/plain.mbox"
BOX=$T/sample.mbox
chmod 711 "$T"			# so "nobody" can reach $T/pub
mkdir -m 1777 "$T/san"
case ${ASAN_OPTIONS:-} in *log_path=*) ;; *) export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san/asan" ;; esac
case ${UBSAN_OPTIONS:-} in *log_path=*) ;; *) export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/san/ubsan:print_stacktrace=1" ;; esac

. "$REPO/tests/tap.sh"
MNTS=()		# every mount point made, for cleanup
BGPIDS=()	# every mailfs started with &, for cleanup

# m=a fresh empty directory to mount on (not in a subshell: MNTS must grow)
newmnt() {
	m=$(mktemp -d "$T/mnt.XXXXXX")
	MNTS+=("$m")
}

# is $1 in the mount table? (reads no FUSE file, so cannot hang)
inmounts() {
	awk -v d="$1" '$2 == d { f = 1 } END { exit !f }' /proc/self/mounts
}

# pids of mailfs processes whose "-m" argument matches the regular
# expression $1 (not fusermount3, not timeout, which have other names)
mailfspids_re() {
	local p
	for p in $(pgrep -f -- "(^| )-m $1"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = mailfs ] && echo "$p"
	done
}

# pids of the mailfs serving mount point $1
mailfspids() {
	mailfspids_re "$1( |\$)"
}

# mount points in the table under directory $1
mountsunder() {
	awk -v t="$1/" 'index($2, t) == 1 { print $2 }' /proc/self/mounts
}

# poll: run "$@" until it succeeds, for up to $1 seconds
waitfor() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 20; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	"$@"
}

notmounted() { ! inmounts "$1"; }
norunning() { [ -z "$(mailfspids "$1")" ]; }
pidgone() { ! kill -0 "$1" 2>/dev/null; }
gone() { notmounted "$1" && norunning "$1"; }

# mailfs [args]: run it (it daemonizes), stderr to $T/err; returns its status
run() {
	timeout 10 "$BIN" "$@" >"$T/out" 2>"$T/err"
}

# unmount $1 with fusermount3 and wait for its mailfs to exit
unmount() {
	timeout 5 fusermount3 -u "$1" 2>/dev/null || return 1
	waitfor 5 gone "$1"
}

lines() { wc -l <"$1" | tr -d ' '; }
ls1() { timeout 5 ls "$1" 2>&1 | tr '\n' ' '; }

# kills only the mailfs this script started: those serving a mount
# point under $T, and the -f ones it ran in the background
cleanup() {
	local d p
	trap - EXIT INT TERM HUP
	for p in "${BGPIDS[@]}" $(mailfspids_re "$T/"); do
		kill -9 "$p" 2>/dev/null
	done
	for d in "${MNTS[@]}"; do
		waitfor 1 notmounted "$d"	# auto_unmount, after kill -9
	done
	for d in $(mountsunder "$T"); do
		timeout 5 fusermount3 -u -z "$d" 2>/dev/null || timeout 5 umount -l "$d" 2>/dev/null
	done
	if [ -n "$(mountsunder "$T")" ]; then
		echo "# cleanup: mounts remain under $T, not removing it: $(mountsunder "$T" | tr "\n" " ")" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# the Subject of message $1 of $2, decoded by Python, not by mailfs
pysubject() {
	timeout 10 python3 - "$1" "$2" <<'EOF'
import sys, mailbox, email.header
msg = list(mailbox.mbox(sys.argv[2]))[int(sys.argv[1]) - 1]
s = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
sys.stdout.buffer.write(s.encode("utf-8"))
EOF
}

# --- 1. usage ----------------------------------------------------------

usagecheck() {
	local what=$1 rc
	shift
	run "$@"
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q '^usage: mailfs' "$T/err"; then
		ok "$what: usage on stderr, exit $rc"
	else
		notok "$what: usage on stderr, non-zero exit" "exit $rc; stderr: $(cat "$T/err")"
	fi
}
newmnt
# with no arguments mailfs posts the 9P service "mail" for $MAIL: a
# missing default mailbox is an error before anything is posted
MAIL=$T/no-default.mbox NAMESPACE=$T/ns run
if [ $? -ne 0 ] && [ "$(lines "$T/err")" = 1 ] && grep -qF "$T/no-default.mbox" "$T/err" && [ ! -e "$T/ns/mail" ]; then
	ok "no arguments, \$MAIL missing: one-line error, nothing posted"
else
	notok "no arguments, \$MAIL missing: one-line error, nothing posted" "stderr: $(cat "$T/err")"
fi
usagecheck "bad flag -x" -x -m "$m" "$BOX"
usagecheck "-m without its argument" -m
usagecheck "two mailbox arguments" -m "$m" "$BOX" "$BOX"
if gone "$m"; then ok "usage errors mount nothing"; else notok "usage errors mount nothing"; fi

# --- 2. missing and unreadable mailbox ---------------------------------

# errcheck what pattern mnt args...: fails, one line "mailfs: ..." matching pattern, no mount
errcheck() {
	local what=$1 pat=$2 mnt=$3 rc
	shift 3
	run "$@"
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$(lines "$T/err")" = 1 ] &&
	    grep -q '^mailfs: ' "$T/err" && grep -qF -- "$pat" "$T/err" && gone "$mnt"; then
		ok "$what: one-line error, exit $rc, nothing mounted"
	else
		notok "$what: one-line error naming it, non-zero exit, nothing mounted" \
		    "exit $rc; mounted: $(inmounts "$mnt" && echo yes || echo no); stderr: $(cat "$T/err")"
	fi
}
errcheck "missing mailbox" "$T/no-such.mbox" "$m" -m "$m" "$T/no-such.mbox"

# unreadable: root reads any file, so run that one as nobody if we can,
# from a copy of the binary in a directory nobody can enter (the checkout
# may sit where nobody cannot, such as root's home)
mkdir -m 755 "$T/pub"
mkdir -m 777 "$T/pub/mnt"
cp "$BOX" "$T/pub/secret.mbox"
chmod 000 "$T/pub/secret.mbox"
cp "$BIN" "$T/pub/mailfs"
chmod 755 "$T/pub/mailfs"
if [ "$(id -u)" != 0 ]; then
	errcheck "unreadable mailbox" "$T/pub/secret.mbox: Permission denied" "$T/pub/mnt" \
	    -m "$T/pub/mnt" "$T/pub/secret.mbox"
elif nogroup=$(getent group nogroup nobody | head -n 1 | cut -d: -f1) && [ -n "$nogroup" ] &&
    command -v setpriv >/dev/null; then
	timeout 10 setpriv --reuid=nobody --regid="$nogroup" --clear-groups \
	    "$T/pub/mailfs" -m "$T/pub/mnt" "$T/pub/secret.mbox" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ "$(lines "$T/err")" = 1 ] &&
	    grep -qF "mailfs: $T/pub/secret.mbox: Permission denied" "$T/err" && gone "$T/pub/mnt"; then
		ok "unreadable mailbox (as nobody): one-line error, exit $rc, nothing mounted"
	else
		notok "unreadable mailbox (as nobody): one-line error, non-zero exit" \
		    "exit $rc; stderr: $(cat "$T/err")"
	fi
	# as a user, not root: the error of a refused ctl write is read back on
	# the same read-write open (no default_permissions; the tree decides)
	mkdir -m 755 "$T/pub/own" && cp "$BOX" "$T/pub/own/box" && mkdir "$T/pub/own/mnt" &&
	    chown -R nobody:"$nogroup" "$T/pub/own"
	# a user opens /dev/fuse itself: Debian's udev makes it 0666; where it
	# is root's alone (some VMs), it is opened up for this check only
	fusemode=$(stat -c %a /dev/fuse)
	case $fusemode in *6) ;; *) chmod o+rw /dev/fuse ;; esac
	out=$(cd "$T/pub/own" && timeout 20 setpriv --reuid=nobody --regid="$nogroup" --clear-groups \
	    env HOME="$T/pub/own" XDG_RUNTIME_DIR= python3 -c '
import os, subprocess, sys
subprocess.run([sys.argv[1], "-m", "mnt", "box"], check=True)
try:
    fd = os.open("mnt/mbox/ctl", os.O_RDWR)
    try:
        os.write(fd, b"delete 1x\n")
        print("write taken")
    except OSError as e:
        print("write", e.errno)
    print(os.read(fd, 100).decode().strip())
    try:
        os.close(fd)
    except OSError as e:
        print("close", e.errno)
    print("read-only open:", end=" ")
    try:
        os.close(os.open("mnt/mbox/ctl", os.O_RDONLY))
        print("taken")
    except OSError as e:
        print(e.errno)
    print("access W_OK", os.access("mnt/mbox/ctl", os.W_OK), "R_OK", os.access("mnt/mbox/1/subject", os.R_OK),
          "W_OK", os.access("mnt/mbox/1/subject", os.W_OK))
finally:
    subprocess.run(["fusermount3", "-u", "mnt"])
' "$T/pub/mailfs" 2>&1)
	chmod "$fusemode" /dev/fuse
	want="write 22
bad message number
close 22
read-only open: 13
access W_OK True R_OK True W_OK False"
	if [ "$out" = "$want" ]; then
		ok "as nobody: a refused ctl write's error is read back on its read-write open; modes hold"
	else
		notok "as nobody: a refused ctl write's error is read back on its read-write open; modes hold" "$out"
	fi
else
	skip "unreadable mailbox" "root reads anything, and there is no user nobody or no setpriv"
	skip "as a user, the ctl error read back" "no user nobody or no setpriv"
fi

# --- 3. default mailbox from $MAIL -------------------------------------

defaultcheck() {
	local box=$1 want=$2 m rc got
	newmnt
	MAIL=$box run -m "$m"
	rc=$?
	got=$(ls1 "$m/mbox")
	if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then
		ok "MAIL=$box with no mailbox argument serves it"
	else
		notok "MAIL=$box with no mailbox argument serves it" "exit $rc; ls mbox: $got; stderr: $(cat "$T/err")"
	fi
	unmount "$m"
}
defaultcheck "$T/sample.mbox" "1 2 3 4 5 ctl index search threads "
defaultcheck "$T/plain.mbox" "1 2 3 4 ctl index search threads "

# --- 4. not an mbox ----------------------------------------------------

errcheck "not an mbox (format-notmbox.txt)" "not an mbox" "$m" -m "$m" testdata/boxes/format-notmbox.txt

# --- 5. bad mount points -----------------------------------------------

mkdir "$T/full"
touch "$T/full/x" "$T/plainfile"
errcheck "mount point not empty" "$T/full" "$T/full" -m "$T/full" "$BOX"
errcheck "mount point missing" "$T/nodir" "$T/nodir" -m "$T/nodir" "$BOX"
errcheck "mount point a regular file" "$T/plainfile" "$T/plainfile" -m "$T/plainfile" "$BOX"

# --- 6. the mount exists when mailfs returns ---------------------------

newmnt
for i in 1 2 3 4 5; do
	got=$(run -m "$m" "$BOX" && ls1 "$m/mbox")
	rc=$?
	if [ $rc -eq 0 ] && [ "$got" = "1 2 3 4 5 ctl index search threads " ] && unmount "$m"; then
		ok "mailfs -m d box && ls d/mbox, round $i: lists 1..5, ctl, index, search and threads, then unmounts"
	else
		notok "mailfs -m d box && ls d/mbox, round $i: lists 1..5, ctl, index, search and threads, then unmounts" \
		    "rc $rc; ls: $got; stderr: $(cat "$T/err"); mounted: $(inmounts "$m" && echo yes || echo no)"
		unmount "$m"
	fi
done

# --- 7. fusermount3 -u ends the daemon ---------------------------------

newmnt
run -m "$m" "$BOX"
pid=$(mailfspids "$m")
if [ -n "$pid" ] && inmounts "$m"; then
	ok "daemonized mailfs runs while mounted (pid $pid)"
else
	notok "daemonized mailfs runs while mounted" "pids: '$pid'; stderr: $(cat "$T/err")"
fi
timeout 5 fusermount3 -u "$m"
if waitfor 5 gone "$m"; then
	ok "fusermount3 -u: mailfs exits within 5 s"
else
	notok "fusermount3 -u: mailfs exits within 5 s" "still running: $(mailfspids "$m")"
fi

# --- 8. SIGTERM --------------------------------------------------------

newmnt
run -m "$m" "$BOX"
pid=$(mailfspids "$m")
if [ -n "$pid" ]; then
	kill -TERM $pid
	if waitfor 5 gone "$m" && ! timeout 5 mountpoint -q "$m"; then
		ok "SIGTERM: mailfs exits and the mount is gone within 5 s"
	else
		notok "SIGTERM: mailfs exits and the mount is gone within 5 s" \
		    "running: $(mailfspids "$m"); mounted: $(inmounts "$m" && echo yes || echo no)"
	fi
else
	notok "SIGTERM: mailfs exits and the mount is gone" "no mailfs found for $m"
fi

# --- 9. kill -9 does not leave a hung mount ----------------------------

newmnt
run -m "$m" "$BOX"
pid=$(mailfspids "$m")
if [ -n "$pid" ]; then
	kill -KILL $pid
	if waitfor 5 notmounted "$m" && ! timeout 5 mountpoint -q "$m"; then
		ok "kill -9: auto_unmount removes the mount within 5 s"
	else
		notok "kill -9: auto_unmount removes the mount within 5 s" "$(grep -F " $m " /proc/self/mounts)"
	fi
	out=$(timeout 5 ls -A "$m" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		ok "kill -9: ls of the mount point does not hang (empty directory again)"
	else
		notok "kill -9: ls of the mount point does not hang" "ls exit $rc: $out"
	fi
else
	notok "kill -9: auto_unmount removes the mount" "no mailfs found for $m"
	notok "kill -9: ls of the mount point does not hang" "not run"
fi

# --- 10. -f stays in the foreground ------------------------------------

# fgrun mnt args...: start mailfs -f in the background, pid in $fgpid
fgrun() {
	local m=$1
	shift
	"$BIN" -f -m "$m" "$@" >"$T/fgout" 2>"$T/fgerr" &
	fgpid=$!
	BGPIDS+=("$fgpid")
	waitfor 5 inmounts "$m"
}

# fgstop mnt: unmount, wait for the pid to end; its status in $fgrc
fgstop() {
	timeout 5 fusermount3 -u "$1"
	if waitfor 5 pidgone "$fgpid"; then
		wait "$fgpid"
		fgrc=$?
	else
		kill -9 "$fgpid" 2>/dev/null
		wait "$fgpid"
		fgrc=timeout
	fi
}

newmnt
if fgrun "$m" "$BOX"; then
	ok "-f: the mount appears"
else
	notok "-f: the mount appears" "stderr: $(cat "$T/fgerr")"
fi
if ! pidgone "$fgpid" && mailfspids "$m" | grep -qx "$fgpid"; then
	ok "-f: the started process itself serves the mount (no fork)"
else
	notok "-f: the started process itself serves the mount" "started $fgpid; serving: $(mailfspids "$m")"
fi
fgstop "$m"
if [ "$fgrc" = 0 ] && gone "$m"; then
	ok "-f: after fusermount3 -u, wait gives exit status 0"
else
	notok "-f: after fusermount3 -u, wait gives exit status 0" "status $fgrc; stderr: $(cat "$T/fgerr")"
fi
if [ ! -s "$T/fgerr" ]; then
	ok "-f without -D writes nothing to stderr"
else
	notok "-f without -D writes nothing to stderr" "$(cat "$T/fgerr")"
fi

# --- 11, 14, 15: writes refused, reading, stable inodes ----------------

newmnt
if run -m "$m" "$BOX"; then
	ok "mount for reading and writing checks"
else
	notok "mount for reading and writing checks" "stderr: $(cat "$T/err")"
fi
f=$m/mbox/1/subject
before=$(timeout 5 cat "$f")

out=$(timeout 5 bash -c 'echo x > "$1"' _ "$f" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [[ $out == *"Permission denied"* ]]; then
	ok "echo x > mbox/1/subject: Permission denied"
else
	notok "echo x > mbox/1/subject: Permission denied" "exit $rc: $out"
fi

out=$(timeout 5 python3 -c '
import os, sys
try:
	os.close(os.open(sys.argv[1], os.O_RDWR))
	print("opened")
except OSError as e:
	print(e.errno)
' "$f" 2>&1)
if [ "$out" = 13 ]; then
	ok "open(O_RDWR) of mbox/1/subject: EACCES"
else
	notok "open(O_RDWR) of mbox/1/subject: EACCES" "got: $out"
fi

out=$(timeout 5 touch "$m/mbox/newfile" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && ! timeout 5 test -e "$m/mbox/newfile"; then
	ok "touch mbox/newfile fails"
else
	notok "touch mbox/newfile fails" "exit $rc: $out"
fi

out=$(timeout 5 rm -f "$f" 2>&1)
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && timeout 5 test -f "$f"; then
	ok "rm mbox/1/subject fails"
else
	notok "rm mbox/1/subject fails" "exit $rc: $out"
fi

after=$(timeout 5 cat "$f")
if [ -n "$before" ] && [ "$before" = "$after" ]; then
	ok "mbox/1/subject unchanged by the attempts"
else
	notok "mbox/1/subject unchanged by the attempts" "before '$before' after '$after'"
fi

for i in 1 5; do
	want=$(pysubject "$i" "$BOX")
	got=$(timeout 5 cat "$m/mbox/$i/subject"; echo .)
	got=${got%.}
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		ok "cat mbox/$i/subject is the decoded Subject ($want)"
	else
		notok "cat mbox/$i/subject is the decoded Subject" "want '$want' got '$got'"
	fi
done

bad=
nfiles=0
while IFS= read -r -d '' g; do
	nfiles=$((nfiles + 1))
	[ "${g##*/}" = thread ] && continue	# made at each open: length 0, as ctl
	s=$(timeout 5 stat -c %s "$g")
	c=$(timeout 5 cat "$g" | wc -c)
	[ "$s" = "$c" ] || bad="$bad${g#$m/} stat $s cat $c"$'\n'
done < <(timeout 10 find "$m/mbox/1" -type f -print0)
if [ "$nfiles" -gt 20 ] && [ -z "$bad" ]; then
	ok "stat size = bytes read, all $nfiles files under mbox/1"
else
	notok "stat size = bytes read for every file under mbox/1" "$nfiles files; $bad"
fi

out=$(timeout 20 python3 - "$m/mbox" <<'EOF' 2>&1
import os, sys
n = 0
for dp, dn, fn in os.walk(sys.argv[1]):
	for f in fn:
		p = os.path.join(dp, f)
		if not os.stat(p).st_mode & 0o444 or f in ("thread", "threads", "index"):
			continue	# a ctl file: written, never read; threads, index: made at each open, length 0
		n += 1
		with open(p, "rb") as fd:
			got = len(fd.read())
		if os.stat(p).st_size != got:
			print("%s: stat %d read %d" % (p[len(sys.argv[1]) + 1:], os.stat(p).st_size, got))
print("files", n)
EOF
)
if [[ $out == "files "* ]] && [ "${out#files }" -gt 100 ]; then
	ok "stat size = bytes read, every file in the tree (${out#files })"
else
	notok "stat size = bytes read, every file in the tree" "$out"
fi

ino1=$(timeout 5 stat -c %i "$m/mbox/2/body")
if unmount "$m"; then ok "unmount"; else notok "unmount" "running: $(mailfspids "$m")"; fi
run -m "$m" "$BOX"
ino2=$(timeout 5 stat -c %i "$m/mbox/2/body")
if [ -n "$ino1" ] && [ "$ino1" = "$ino2" ]; then
	ok "mbox/2/body keeps inode $ino1 across unmount and remount"
else
	notok "mbox/2/body keeps its inode across unmount and remount" "before '$ino1' after '$ino2'"
fi
unmount "$m"

# --- 12. -r -------------------------------------------------------------

newmnt
run -r -m "$m" "$BOX"
rc=$?
got=$(timeout 5 cat "$m/mbox/1/subject")
if [ $rc -eq 0 ] && [ "$got" = "$(pysubject 1 "$BOX")" ]; then
	ok "-r: mounts and files are readable"
else
	notok "-r: mounts and files are readable" "exit $rc; subject '$got'; stderr: $(cat "$T/err")"
fi
opts=$(awk -v d="$m" '$2 == d { print $4 }' /proc/self/mounts)
if [[ ,$opts, == *,ro,* ]]; then
	ok "-r: /proc/mounts shows ro ($opts)"
else
	notok "-r: /proc/mounts shows ro" "options: '$opts'"
fi
out=$(timeout 5 bash -c 'echo x > "$1"' _ "$m/mbox/1/subject" 2>&1)
if [[ $out == *"Read-only file system"* ]]; then
	ok "-r: a write fails with EROFS"
else
	notok "-r: a write fails with EROFS" "$out"
fi
unmount "$m"

# --- 13. -D traces on stderr --------------------------------------------

newmnt
fgrun "$m" -D "$BOX"
timeout 5 ls "$m/mbox" >/dev/null
timeout 5 cat "$m/mbox/1/subject" >/dev/null
fgstop "$m"
nt=$(grep -c '^fuse: ' "$T/fgerr")
if [ "$nt" -gt 0 ] && grep -q '^fuse: lookup' "$T/fgerr" && grep -q '^fuse: open' "$T/fgerr"; then
	ok "-f -D: $nt trace lines \"fuse: ...\" on stderr"
else
	notok "-f -D: trace lines \"fuse: ...\" on stderr" "$(head -n 5 "$T/fgerr")"
fi
# which libfuse: on this project's machines one with passthrough (3.17 or
# newer, the system's or the one make deps builds), which the kernel
# offers; it is on as root, which has CAP_SYS_ADMIN, and off, saying why,
# for anyone else
lf=$(grep -m1 '^fuse: libfuse ' "$T/fgerr")
case $lf in
"fuse: libfuse 3.1"[7-9]*|"fuse: libfuse 3.2"*) ok "-D names the libfuse mailfs runs: ${lf#fuse: }" ;;
*) notok "-D names a libfuse with passthrough (3.17 or newer)" "${lf:-no libfuse line}" ;;
esac
pt=$(grep -m1 '^fuse: passthrough: ' "$T/fgerr")
if [ "$(id -u)" = 0 ]; then want="fuse: passthrough: on"; else want="fuse: passthrough: off, it needs CAP_SYS_ADMIN"; fi
case $pt in
"$want"*) ok "-D says whether passthrough is on: ${pt#fuse: }" ;;
*) notok "-D says \"${want#fuse: }\"" "${pt:-no passthrough line}" ;;
esac
tr=$(grep -m1 '^fuse: transport: ' "$T/fgerr")
case $tr in
"fuse: transport: io_uring"|"fuse: transport: /dev/fuse"*) ok "-D says how requests come: ${tr#fuse: }" ;;
*) notok "-D says how requests come" "${tr:-no transport line}" ;;
esac
if [ "$fgrc" = 0 ]; then
	ok "-f -D: exit status 0 after fusermount3 -u"
else
	notok "-f -D: exit status 0 after fusermount3 -u" "status $fgrc"
fi

# --- nothing left behind; no sanitizer reports -------------------------

left=$(mountsunder "$T"; mailfspids_re "$T/")
if [ ${#MNTS[@]} -gt 10 ] && [ -z "$left" ]; then
	ok "no mailfs or mount left behind"
else
	notok "no mailfs or mount left behind" "$left"
fi
reports=$(ls "$T/san")
if [ -z "$reports" ]; then
	ok "no sanitizer reports"
else
	notok "no sanitizer reports" "$(cd "$T/san" && head -n 6 $reports)"
fi

tap_done
