#!/usr/bin/env bash
# t-delete.sh: deleting messages through the mailbox ctl file, with mail
# being delivered at the same time, mailfs killed in the middle, and a
# full disk.  What is checked is the mbox file on disk, by an independent
# reader (tests/mboxcheck.py): nothing lost, nothing doubled, nothing
# changed that was not asked for.
#
#	tests/t-delete.sh MAILFS_BINARY [--stress]
#
# --stress kills mailfs in 200 delete runs instead of 5.  Prints TAP and
# exits 1 if a check failed, 2 on bad usage.  Needs FUSE and fusermount3,
# python3; the full-disk check mounts a tmpfs (root) and is skipped
# without.  Every mount, process and temporary file it makes is removed by
# the EXIT trap.  For a sanitized binary set ASAN_OPTIONS=log_path=...
# (a daemonized mailfs has no stderr).
set -u
export LC_ALL=C TZ=UTC

if [ $# -lt 1 ] || [ ! -x "$1" ] || { [ $# -eq 2 ] && [ "$2" != --stress ]; } || [ $# -gt 2 ]; then
	echo "usage: $0 MAILFS_BINARY [--stress]" >&2
	exit 2
fi
ARG=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
KILLRUNS=5
[ "${2:-}" = --stress ] && KILLRUNS=200
cd "$(dirname "$0")/.." || exit 2
REPO=$(pwd)
CHECK="python3 $REPO/tests/mboxcheck.py"
DELIVER="python3 $REPO/tests/deliver.py"

T=$(mktemp -d "${TMPDIR:-/tmp}/t-delete.XXXXXX") || exit 2
# a copy, so that a rebuild during the run cannot pull the binary away
BIN=$T/$(basename "$ARG")
cp "$ARG" "$BIN" || { rm -rf "$T"; exit 2; }
touch "$T/start"
# sanitizer reports go to files (a daemonized mailfs has no stderr); the last check looks for them
mkdir "$T/san"
case ${ASAN_OPTIONS:-} in *log_path=*) ;; *) export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san/asan" ;; esac
case ${UBSAN_OPTIONS:-} in *log_path=*) ;; *) export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/san/ubsan:print_stacktrace=1" ;; esac
SANLOGS=$(printf '%s\n%s\n' "$ASAN_OPTIONS" "$UBSAN_OPTIONS" | tr ':' '\n' | sed -n 's/^log_path=//p')
NOEXIT=		# mailfs processes that did not exit after their unmount
MNTS=()		# mount points of mailfs, for cleanup
PIDS=()		# mailfs daemons, for cleanup
BG=()		# our background helpers, for cleanup
TMPFS=

cleanup() {
	local p m
	for p in "${BG[@]}"; do kill -9 "$p" 2>/dev/null; done
	for m in "${MNTS[@]}"; do
		mountpoint -q "$m" 2>/dev/null && timeout 10 fusermount3 -u "$m" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		# only if it is still the mailfs we started
		if [ "$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline")" = "${PIDCMD[$p]:-x}" ]; then
			kill -9 "$p" 2>/dev/null
		fi
	done
	[ -n "$TMPFS" ] && mountpoint -q "$TMPFS" && umount "$TMPFS"
	rm -rf "$T"
}
declare -A PIDCMD
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. "$REPO/tests/tap.sh"
echo "1..24"

# the test's own helpers
H="python3 $T/h.py"
cat >"$T/h.py" <<'EOF'
import errno, fcntl, os, random, re, sys, time, ctypes, struct

def gen(out, n, seed, big=False):
    """n messages; message k has Subject 'gen k' and Message-ID <gen-k-seed@example.org>"""
    rng = random.Random(seed)
    parts = []
    for k in range(1, n + 1):
        t = 1780000000 + k * 97
        asct = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(t))
        head = ("From sender%d@example.org %s\n" % (k % 7, asct) +
                "From: Sender %d <sender%d@example.org>\n" % (k % 7, k % 7) +
                "To: test@example.org\nSubject: gen %d\n" % k +
                "Date: %s\n" % time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t)) +
                "Message-ID: <gen-%d-%s@example.org>\n\n" % (k, seed))
        if big:
            nl = min(int(rng.expovariate(1 / 30.0)), 2000)
            if rng.random() < 0.01:
                nl = rng.randrange(500, 1500)
        else:
            nl = rng.randrange(1, 12)
        lines = []
        for i in range(nl):
            r = rng.random()
            if r < 0.02:
                lines.append("From here on line %d is not an envelope\n" % i)
            elif r < 0.04:
                lines.append(">From quoted line %d\n" % i)
            elif r < 0.06:
                lines.append("\n")
            else:
                lines.append("gen %d line %d %s\n" % (k, i, "abcdefghij" * rng.randrange(0, 7)))
        if rng.random() < 0.05:
            lines.append("\nFrom the blank line above, still message %d\n" % k)
        if rng.random() < 0.05:
            lines.append("\n")	# the body itself ends with a blank line
        parts.append(head + "".join(lines) + "\n")
    open(out, "w").write("".join(parts))

def pid(binary, mnt):
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            a = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
        except OSError:
            continue
        if a and a[0].decode(errors="replace") == binary and mnt.encode() in a:
            print(p)
            return 0
    return 1

def listing(mnt):
    return sorted(int(x) for x in os.listdir(mnt + "/mbox") if x.isdigit())

def pending(mnt, box):
    """check a: a delete is applied when the ctl file is closed, not before"""
    ctl = mnt + "/mbox/ctl"
    subj5 = open(mnt + "/mbox/5/subject", "rb").read()
    st0 = os.stat(box); data0 = open(box, "rb").read()
    fd = os.open(ctl, os.O_WRONLY)
    os.write(fd, b"delete 2\n")
    time.sleep(0.2)
    bad = []
    if 2 not in listing(mnt):
        bad.append("before close: 2 is no longer listed: %s" % listing(mnt))
    st1 = os.stat(box)
    if st1.st_ino != st0.st_ino or open(box, "rb").read() != data0:
        bad.append("before close: the mbox file changed (inode %d -> %d)" % (st0.st_ino, st1.st_ino))
    try:
        os.close(fd)
    except OSError as e:
        bad.append("close failed: %s" % e)
    print("before close: listed %s" % ("ok" if not bad else "NO"))
    l = listing(mnt)
    if l != [1, 3, 4, 5]:
        bad.append("after close: listing %s, want [1, 3, 4, 5]" % l)
    try:
        os.stat(mnt + "/mbox/2")
        bad.append("after close: stat mbox/2 succeeded")
    except OSError as e:
        if e.errno != errno.ENOENT:
            bad.append("after close: stat mbox/2: %s, want ENOENT" % e)
    if os.path.exists(mnt + "/mbox/5"):
        s = open(mnt + "/mbox/5/subject", "rb").read()
        if s != subj5:
            bad.append("mbox/5/subject %r, was %r" % (s, subj5))
    else:
        bad.append("mbox/5 is gone")
    for b in bad:
        print(b)
    return 1 if bad else 0

def inotify_watch(d):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    if fd < 0 or libc.inotify_add_watch(fd, d.encode(), 0x80 | 0x100) < 0:	# IN_MOVED_TO | IN_CREATE
        raise OSError(ctypes.get_errno(), "inotify")
    return fd

def inotify_events(fd):
    out = []
    while True:
        try:
            buf = os.read(fd, 65536)
        except BlockingIOError:
            return out
        i = 0
        while i < len(buf):
            wd, mask, cookie, ln = struct.unpack_from("iIII", buf, i)
            name = buf[i + 16:i + 16 + ln].rstrip(b"\0").decode()
            out.append((mask, name))
            i += 16 + ln

def onewrite(mnt, box, *nums):
    """check b: many deletes on one open, one rewrite (a rename onto the mbox)"""
    fd = inotify_watch(os.path.dirname(box))
    ctl = os.open(mnt + "/mbox/ctl", os.O_WRONLY)
    for k in nums:
        os.write(ctl, b"delete %s\n" % k.encode())
    time.sleep(0.2)
    early = inotify_events(fd)
    if early:
        print("the directory changed before close: %s" % early[:10])
    os.close(ctl)
    time.sleep(0.3)
    ev = early + inotify_events(fd)
    moved = [e for e in ev if e[0] & 0x80 and e[1] == os.path.basename(box)]
    print("%d rewrites (renames onto %s); events %s" % (len(moved), os.path.basename(box), ev[:10]))
    kept = [int(k) for k in nums if int(k) in listing(mnt)]
    if kept:
        print("still listed after close: %s" % kept)
    return 0 if len(moved) == 1 and not early and not kept else 1

def ctlwrite(mnt, *cmds):
    """write each command (one write each) on one open of mnt/mbox/ctl; print what failed"""
    try:
        fd = os.open(mnt + "/mbox/ctl", os.O_WRONLY)
    except OSError as e:
        print("open: %s" % errno.errorcode.get(e.errno, e.errno)); return 1
    for c in cmds:
        try:
            os.write(fd, c.encode() + b"\n")
        except OSError as e:
            print("write %r: %s" % (c, errno.errorcode.get(e.errno, e.errno)))
            os.close(fd); return 1
    try:
        os.close(fd)
    except OSError as e:
        print("close: %s (%s)" % (errno.errorcode.get(e.errno, e.errno), e.strerror)); return 1
    print("ok")
    return 0

def delloop(mnt, nmax, k, seed, delfile):
    """check e: k deletes of random original messages, one per close"""
    rng = random.Random(int(seed))
    bad = 0
    with open(delfile, "w") as f:
        for i in range(int(k)):
            cand = [x for x in listing(mnt) if x <= int(nmax)]
            x = rng.choice(cand)
            f.write("%d\n" % x); f.flush()
            t0 = time.monotonic()
            if ctlwrite(mnt, "delete %d" % x) != 0:
                bad += 1
            if x in listing(mnt):
                print("%d still listed right after its delete's close" % x); bad += 1
            try:
                os.stat("%s/mbox/%d" % (mnt, x))
                print("stat mbox/%d succeeds right after its delete's close" % x); bad += 1
            except FileNotFoundError:
                pass
            dt = time.monotonic() - t0
            if dt > 2:
                print("delete %d took %.1f s" % (x, dt))
            time.sleep(rng.uniform(0, 0.03))
    return 1 if bad else 0

def killdeleter(mnt, nmax, seed, delfile):
    """check f: delete random batches, each recorded before it is asked for, until mailfs dies"""
    rng = random.Random(int(seed))
    left = list(range(1, int(nmax) + 1))
    f = open(delfile, "w")
    while left:
        batch = rng.sample(left, min(len(left), rng.randrange(1, 20)))
        for x in batch:
            left.remove(x)
        f.write("".join("%d\n" % x for x in batch)); f.flush(); os.fsync(f.fileno())
        try:
            fd = os.open(mnt + "/mbox/ctl", os.O_WRONLY)
            os.write(fd, ("delete " + " ".join(map(str, batch)) + "\n").encode())
            os.close(fd)
        except OSError:
            return 0
    return 0

def locked(box, timeout):
    """wait until someone else holds an fcntl lock on box"""
    t0 = time.monotonic()
    fd = os.open(box, os.O_RDONLY)
    while time.monotonic() - t0 < float(timeout):
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_UN)
        except OSError:
            return 0
        time.sleep(0.01)
    return 1

def subjects(mnt, *nums):
    for k in nums:
        print("%s: %s" % (k, open("%s/mbox/%s/subject" % (mnt, k), "rb").read().decode(errors="replace")))
    return 0

cmd = sys.argv[1]
args = sys.argv[2:]
if cmd == "gen":
    gen(args[0], int(args[1]), args[2], len(args) > 3)
    sys.exit(0)
sys.exit(globals()[cmd](*args))
EOF

# mount BOX [OPTS...]: mounts on a new directory; sets m (mount point) and pid
mount_box() {
	local box=$1
	shift
	m=$(mktemp -d "$T/mnt.XXXXXX")
	MNTS+=("$m")
	pid=
	timeout 30 "$BIN" "$@" -m "$m" "$box" || return 1
	pid=$(timeout 10 $H pid "$BIN" "$m") || return 1
	PIDS+=("$pid")
	PIDCMD[$pid]=$(tr '\0' ' ' <"/proc/$pid/cmdline")
}

# unmount M PID: unmount, wait for that mailfs to exit
unmount_box() {
	local i
	mountpoint -q "$1" && timeout 10 fusermount3 -u "$1"
	for i in $(seq 100); do
		[ -d "/proc/$2" ] || return 0
		[ "$(awk '{print $3}' "/proc/$2/stat" 2>/dev/null)" = Z ] && return 0
		sleep 0.1
	done
	NOEXIT+="mailfs $2 (on $1) did not exit within 10 s of its unmount"$'\n'
	return 1
}

gone_by_itself() {	# wait up to 5 s for the mount on $1 to disappear
	local i
	for i in $(seq 50); do
		mountpoint -q "$1" || return 0
		sleep 0.1
	done
	return 1
}

start=$(date +%s)

# ---- a. ctl semantics on the sample mailbox ----
mkdir "$T/a"
cp testdata/sample.mbox "$T/a/box"
if ! mount_box "$T/a/box"; then
	echo "Bail out! cannot mount $T/a/box with $BIN"
	exit 1
fi
out=$( (cd "$m/mbox" && timeout 10 bash -c 'echo bogus > ctl') 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ $out == *"Invalid argument"* ]]; then ok "echo bogus > ctl fails: Invalid argument"
else notok "echo bogus > ctl fails: Invalid argument" "rc=$rc: $out"; fi
# as over 9P (spec 3.2): a number that names no message is skipped, a non-number fails
out=$( (cd "$m/mbox" && timeout 10 /bin/echo "delete 99" > ctl) 2>&1); rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ] && [ -d "$m/mbox/5" ]; then ok "delete 99 skips the unknown number, as over 9P"
else notok "delete 99 skips the unknown number, as over 9P" "rc=$rc: $out"; fi
out=$( (cd "$m/mbox" && timeout 10 /bin/echo "delete 5x" > ctl) 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ $out == *"Invalid argument"* ]] && [ -d "$m/mbox/5" ]; then ok "delete 5x fails: Invalid argument, 5 stays"
else notok "delete 5x fails: Invalid argument, 5 stays" "rc=$rc: $out"; fi
out=$(timeout 20 $H pending "$m" "$T/a/box" 2>&1); rc=$?
if [ $rc -eq 0 ]; then ok "delete 2 is applied at close, not before; 2 then gives ENOENT; 5 keeps its number and subject"
else notok "delete 2 is applied at close, not before; 2 then gives ENOENT; 5 keeps its number and subject" "$out"; fi
echo 2 >"$T/a/del"
check "the mbox no longer holds message 2, the others byte-identical" \
	$CHECK testdata/sample.mbox "$T/a/box" --deleted-ids-file "$T/a/del" --deleted-must-go
if ls -a "$T/a" | grep -q 'mailfs-'; then notok "no temporary file left" "$(ls -a "$T/a")"; else ok "no temporary file left"; fi
unmount_box "$m" "$pid"

# ---- b. fifty deletes on one open: one rewrite ----
mkdir "$T/b"
$H gen "$T/b/orig" 60 b
cp "$T/b/orig" "$T/b/box"
mount_box "$T/b/box"
# 50 of the 60, including the last two (their numbers must not come back)
dels=$(python3 -c 'import random; r=random.Random(7); s=r.sample(range(1,59),48)+[59,60]; print(" ".join(map(str,s)))')
printf '%s\n' $dels >"$T/b/del"
check "50 deletes written on one open of ctl, then closed: exactly one rewrite of the mbox" timeout 30 $H onewrite "$m" "$T/b/box" $dels
check "the 50 are gone, the other 10 byte-identical" $CHECK "$T/b/orig" "$T/b/box" --deleted-ids-file "$T/b/del" --deleted-must-go

# ---- c. refresh takes in new mail with new numbers ----
out=$({ timeout 30 $DELIVER "$T/b/box" 3 --save "$T/b/new" --tag c &&
	timeout 30 $H ctlwrite "$m" refresh &&
	ls "$m/mbox" | sort -n | tr '\n' ' ' && echo &&
	timeout 10 $H subjects "$m" 61 62 63; } 2>&1)
if [[ $out == *"61: delivered c 1"*"62: delivered c 2"*"63: delivered c 3"* ]] && ! [[ $out == *"59 "* || $out == *"60 "* ]]; then
	ok "refresh: 3 delivered messages appear as 61, 62, 63"
else
	notok "refresh: 3 delivered messages appear as 61, 62, 63" "$out"
fi
unmount_box "$m" "$pid"
check "after the deletes and deliveries the mbox holds the 10 and the 3 new, byte-identical" \
	$CHECK "$T/b/orig" "$T/b/box" --deleted-ids-file "$T/b/del" --deleted-must-go --delivered "$T/b/new"

# ---- d. read-only mount ----
mkdir "$T/d"
cp testdata/sample.mbox "$T/d/box"
mount_box "$T/d/box" -r
out=$( (cd "$m/mbox" && timeout 10 bash -c 'echo "delete 1" > ctl') 2>&1); rc=$?
if [ $rc -ne 0 ] && [[ $out == *"Read-only file system"* ]]; then ok "-r: echo delete 1 > ctl fails: Read-only file system"
else notok "-r: echo delete 1 > ctl fails: Read-only file system" "rc=$rc: $out"; fi
unmount_box "$m" "$pid"
check "-r: the mbox is untouched" cmp testdata/sample.mbox "$T/d/box"

# ---- e. deletes while mail is delivered ----
mkdir "$T/e"
$H gen "$T/e/orig" 100 e
cp "$T/e/orig" "$T/e/box"
mount_box "$T/e/box"
t0=$(date +%s%N)
timeout 60 $DELIVER "$T/e/box" 50 --delay 0.02 --save "$T/e/new" --tag e --seed 5 >"$T/e/deliver.out" 2>&1 &
dpid=$!
BG+=("$dpid")
out=$(timeout 60 $H delloop "$m" 100 20 11 "$T/e/del" 2>&1); rc=$?
wait "$dpid"; drc=$?
out="$out$(cat "$T/e/deliver.out")"
timeout 30 $H ctlwrite "$m" refresh >/dev/null
cnt=$(ls "$m/mbox" | grep -c '^[0-9]*$')
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $rc -eq 0 ] && [ $drc -eq 0 ] && [ "$cnt" = 130 ]; then
	ok "20 deletes, one per close, while 50 messages are delivered: all succeed, 130 listed (${ms} ms)"
else
	notok "20 deletes, one per close, while 50 messages are delivered: all succeed, 130 listed" "delete loop rc=$rc, deliver rc=$drc, listed $cnt; $out"
fi
unmount_box "$m" "$pid"
check "no delivered message lost or doubled; the 20 deleted gone; the other 80 byte-identical" \
	$CHECK "$T/e/orig" "$T/e/box" --deleted-ids-file "$T/e/del" --deleted-must-go --delivered "$T/e/new"

# ---- f. kill -9 during deletes ----
mkdir "$T/f"
$H gen "$T/f/orig" 2000 f big
fbad=0 fstuck=0 ftmp=0 flock=0 freq=0 fgone=0
fout=
for run in $(seq "$KILLRUNS"); do
	r=$T/f/$run
	mkdir "$r"
	cp "$T/f/orig" "$r/box"
	if ! mount_box "$r/box"; then
		fbad=$((fbad + 1)); fout+="run $run: mount failed"$'\n'; continue
	fi
	if [ "$run" = 1 ]; then
		c=$(ls "$m/mbox" | grep -c '^[0-9]*$')
		s=$(cat "$m/mbox/1234/subject")
		[ "$c" = 2000 ] && [ "$s" = "gen 1234" ] || { fbad=$((fbad + 1)); fout+="run 1: $c messages listed, 1234 has subject '$s'"$'\n'; }
	fi
	timeout 60 $H killdeleter "$m" 2000 "$run" "$r/del" >/dev/null 2>&1 &
	kpid=$!
	BG+=("$kpid")
	sleep "$(python3 -c "import random; print(random.Random($run).uniform(0, 0.3))")"
	kill -9 "$pid"
	wait "$kpid"
	if ! gone_by_itself "$m"; then
		fstuck=$((fstuck + 1))
		timeout 10 fusermount3 -u "$m"
	fi
	if ! res=$($CHECK "$T/f/orig" "$r/box" --deleted-ids-file "$r/del" 2>&1); then
		fbad=$((fbad + 1))
		fout+="run $run: $res"$'\n'
		cp "$r/box" "$T/f/bad-$run.mbox" 2>/dev/null
	else
		freq=$((freq + $(wc -l <"$r/del")))
		g=$(echo "$res" | sed -n 's/.*(\([0-9]*\) still present, \([0-9]*\) gone).*/\2/p')
		fgone=$((fgone + ${g:-0}))
		t=$(ls -a "$r" | grep -c '^\.box\.mailfs-')
		ftmp=$((ftmp + t))
		[ -e "$r/box.lock" ] && flock=$((flock + 1))
		rm -rf "$r"
	fi
done
if [ $fbad -eq 0 ]; then
	ok "kill -9 during deletes, $KILLRUNS runs on 2000 messages: the mbox whole every time, no message lost, doubled or changed"
else
	notok "kill -9 during deletes, $KILLRUNS runs: $fbad runs lost or damaged mail" "$fout"
fi
diag "$KILLRUNS runs: $freq deletions requested, $fgone done; $ftmp temporary files and $flock dotlocks left behind"
if [ $fstuck -eq 0 ]; then ok "after each kill -9 the mount went away by itself"
else notok "after each kill -9 the mount went away by itself" "$fstuck of $KILLRUNS mounts stayed (removed with fusermount3 -u)"; fi

# ---- g. a full disk ----
mkdir "$T/g" "$T/g/fs"
$H gen "$T/g/orig" 2000 g big
if mount -t tmpfs -o size=12m tmpfs "$T/g/fs" 2>/dev/null; then
	TMPFS=$T/g/fs
	cp "$T/g/orig" "$T/g/fs/box"
	# leave less free room than a second copy of the mbox needs
	free=$(df -B1 --output=avail "$T/g/fs" | tail -1)
	size=$(stat -c %s "$T/g/fs/box")
	head -c $((free - size / 2)) /dev/zero >"$T/g/fs/filler" 2>/dev/null
	mount_box "$T/g/fs/box"
	out=$(timeout 30 $H ctlwrite "$m" "delete 7" 2>&1)
	if [[ $out == *"close: ENOSPC"* ]]; then ok "disk full: close of ctl after delete 7 fails with No space left on device"
	else notok "disk full: close of ctl after delete 7 fails with No space left on device" "$out; free before: $free, mbox $size"; fi
	if cmp -s "$T/g/orig" "$T/g/fs/box" && ! ls -a "$T/g/fs" | grep -q 'mailfs-'; then ok "disk full: the mbox is byte-identical, no temporary file left"
	else notok "disk full: the mbox is byte-identical, no temporary file left" "$(cmp "$T/g/orig" "$T/g/fs/box" 2>&1; ls -la "$T/g/fs")"; fi
	c=$(timeout 10 ls "$m/mbox" | grep -c '^[0-9]*$')
	s=$(timeout 10 cat "$m/mbox/7/subject" 2>&1)
	if [ "$c" = 2000 ] && [ "$s" = "gen 7" ]; then ok "disk full: mailfs still serves all 2000, 7 included"
	else notok "disk full: mailfs still serves all 2000, 7 included" "listed $c; mbox/7/subject: $s"; fi
	rm -f "$T/g/fs/filler"
	out=$(timeout 30 $H ctlwrite "$m" "delete 7" 2>&1)
	echo 7 >"$T/g/del"
	res=
	unmount_box "$m" "$pid"
	if [[ $out == ok ]] && res=$($CHECK "$T/g/orig" "$T/g/fs/box" --deleted-ids-file "$T/g/del" --deleted-must-go 2>&1); then
		ok "space freed: delete 7 succeeds, the rest byte-identical"
	else
		notok "space freed: delete 7 succeeds, the rest byte-identical" "$out ${res:-}"
	fi
	umount "$T/g/fs" && TMPFS=
else
	for w in "disk full: ENOSPC at close" "disk full: mbox unchanged" "disk full: still serves" "space freed: delete succeeds"; do
		skip "$w" "cannot mount a tmpfs"
	done
fi

# ---- h. the delivery locks, one at a time ----
# A delivery that holds only one of the two locks must still be safe:
# mailfs must not rename a new mbox over one that a delivery has locked.
# Three rounds each, since mailfs's own new-mail check (every 10 s) can
# happen to wait for the lock and so hide a missing wait once.
for lk in fcntl dotlock; do
	h=$T/h-$lk
	mkdir "$h"
	$H gen "$h/orig" 20 "h$lk"
	cp "$h/orig" "$h/box"
	mount_box "$h/box"
	hout= times=
	: >"$h/del"
	for k in 3 5 7; do
		timeout 30 $DELIVER "$h/box" 1 --locks "$lk" --hold 0.6 --save "$h/new" --tag "h$lk$k" >>"$h/deliver.out" 2>&1 &
		dpid=$!
		BG+=("$dpid")
		if [ $lk = fcntl ]; then
			timeout 10 $H locked "$h/box" 5
		else
			for i in $(seq 100); do [ -e "$h/box.lock" ] && break; sleep 0.05; done
		fi
		t0=$(date +%s%N)
		out=$(timeout 30 $H ctlwrite "$m" "delete $k" 2>&1)
		times+="$((($(date +%s%N) - t0) / 1000000)) "
		[ "$out" = ok ] || hout+="delete $k: $out"$'\n'
		echo $k >>"$h/del"
		wait "$dpid"
	done
	timeout 30 $H ctlwrite "$m" refresh >/dev/null
	unmount_box "$m" "$pid"
	if [ -z "$hout" ] && res=$($CHECK "$h/orig" "$h/box" --deleted-ids-file "$h/del" --deleted-must-go --delivered "$h/new" 2>&1); then
		ok "3 deletes each wait for a delivery holding only the $lk lock (${times% } ms); nothing lost"
	else
		notok "3 deletes each wait for a delivery holding only the $lk lock; nothing lost" "deletes took ${times% } ms; $hout$(cat "$h/deliver.out"); ${res:-}"
	fi
done

if [ -z "$NOEXIT" ]; then ok "every mailfs exited after its unmount"
else notok "every mailfs exited after its unmount" "$NOEXIT"; fi
reports=
for l in $SANLOGS; do
	for f in "$l".*; do
		[ -f "$f" ] && [ "$f" -nt "$T/start" ] && reports+="== $f"$'\n'"$(head -n 12 "$f")"$'\n'
	done
done
if [ -z "$reports" ]; then ok "no sanitizer reports"
else notok "no sanitizer reports" "$reports"; fi

diag "$(($(date +%s) - start)) s"
[ $failed -eq 0 ]
