#!/usr/bin/env bash
# mailfs benchmark: see tests/bench/README.
#
#	tests/bench/run.sh [-n N]	(or BENCH_N=N)
#
# Environment: BENCH_N (messages, default 100000), BENCH_DIR (work
# directory, default /var/tmp/mailfs-bench), BENCH_KEEP=1 (keep the
# plain copy of the tree), MAILFS (server binary, default mailfs/mailfs),
# BENCH_MIRROR_THREADS (run mirrorfs, the FUSE floor, with -t N),
# BENCH_MAILFS_OPTS (mailfs -o options, e.g. nopassthrough), BENCH_URING=1
# (FUSE over io_uring for mailfs and mirrorfs both, the kernel's
# enable_uring set for the run), BENCH_TREE_N (messages of the grep -r
# and READ-count mailbox, default 5000).
set -euo pipefail
export LC_ALL=C

usage() {
	echo "usage: $0 [-n N]" >&2
	exit 2
}

N=${BENCH_N:-100000}
while getopts n: opt; do
	case $opt in
	n) N=$OPTARG ;;
	*) usage ;;
	esac
done
[[ $N =~ ^[1-9][0-9]*$ ]] || usage

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
W=${BENCH_DIR:-/var/tmp/mailfs-bench}
mkdir -p "$W"
W=$(cd "$W" && pwd)
MAILFS=${MAILFS:-$repo/mailfs/mailfs}
MNT=$W/mnt
MBOX=$W/bench-$N.mbox
PLAIN=$W/plain
GEN=$W/genmbox
RA=$W/readall
MIRRORFS=$W/mirrorfs
MIRROR=$W/mirror	# mirrorfs over $PLAIN: the FUSE floor
MARKER=zanzibar
TREE_N=${BENCH_TREE_N:-5000}
OR=$W/openread
# mailfs's and mirrorfs's options: the same transport for both
mopts=(${BENCH_MAILFS_OPTS:+-o "$BENCH_MAILFS_OPTS"})
fopts=()
URINGPARAM=/sys/module/fuse/parameters/enable_uring
uringwas=
if [[ -n ${BENCH_URING:-} ]]; then
	uringwas=$(cat "$URINGPARAM")
	echo 1 >"$URINGPARAM" || { echo "bench: BENCH_URING needs root to set $URINGPARAM" >&2; exit 1; }
	mopts+=(-o uring)
	fopts+=(-u)
fi
XARGS_S=1000000		# xargs command-line size: few grep processes

failures=()
pid=

fail() {
	echo "FAIL: $*" >&2
	failures+=("$*")
}

# ismounted [DIR]: DIR (default $MNT) is a mount point
ismounted() {
	mountpoint -q "${1:-$MNT}" 2>/dev/null
}

cleanup() {
	local rc=$? m
	[[ -z $uringwas ]] || echo "$uringwas" >"$URINGPARAM"
	for m in "$MIRROR" "$MNT" "$W/mnt-big" "$W/mnt-tree" "$W/mirror-tree"; do
		if ismounted "$m"; then
			fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null || true
		fi
	done
	if [[ -z ${BENCH_KEEP:-} ]]; then
		rm -rf "$PLAIN"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# seconds between two $EPOCHREALTIME values
elapsed() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# figure NAME MEASURED FLOOR UNIT TARGET-TEXT CHECK [FLOOR-NOTE]
# CHECK is an awk condition on m (measured) and r (ratio).
figure() {
	awk -v name="$1" -v m="$2" -v f="$3" -v u="$4" -v tt="$5" -v note="${7:+ ($7)}" "BEGIN {
		r = f > 0 ? m / f : 0
		ok = ($6) ? \"met\" : \"MISSED\"
		fmt = u == \"s\" ? \"%.3f\" : \"%.1f\"
		printf \"%s: measured \" fmt \" %s, floor \" fmt \" %s%s, ratio %.2f (target %s: %s)\\n\", name, m, u, f, u, note, r, tt, ok
	}"
}

# findpid [NAME DIR]: the server process for DIR (default: mailfs on
# $MNT), a process named NAME with DIR as one of its arguments (pgrep -f
# alone could also match fusermount3)
findpid() {
	local name=${1:-mailfs} dir=${2:-$MNT} p found=
	for p in $(pgrep -x "$name" || true); do
		# stderr first: the process may be gone before the < opens
		if tr '\0' '\n' 2>/dev/null <"/proc/$p/cmdline" | grep -qxF -- "$dir"; then
			found=$p
		fi
	done
	if [[ -z $found ]]; then
		found=$(pgrep -n -f "$name.*$dir" || true)
	fi
	echo "$found"
}

# waitexit PID NAME: after an unmount, wait up to 10 s for the server to go
waitexit() {
	local pid=$1 name=$2 t0=$EPOCHREALTIME i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$name (pid $pid) still running 10 s after unmount; sending SIGTERM"
		kill "$pid" 2>/dev/null || true
	else
		echo "$name exited $(elapsed "$t0" "$EPOCHREALTIME") s after unmount"
	fi
}

# ratio A B: A/B to two places
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'
}

# floorverdict WHAT TARGET-TEXT FLOOR-TEXT AWK-CHECK: whether a target is
# within reach of a FUSE server that does nothing (CHECK: an awk condition
# on the floor's figures)
floorverdict() {
	if awk "BEGIN { exit !($4) }"; then
		echo "fuse-floor: $1 target ($2) is within reach of a do-nothing FUSE server here ($3)"
	else
		echo "fuse-floor: $1 target ($2) is below what a do-nothing FUSE server reaches on this machine ($3)"
	fi
}

# readinfo ROOT NAME: read every message's info under ROOT (the mount's
# list, moved there) in one process, one method for every side; what
# readall counted goes to $W/info-NAME.out, the seconds to $took
readinfo() {
	local list=$W/info-$2.txt t0
	[[ $1 == "$MNT" ]] || sed "s|^$MNT/|$1/|" "$W/info-mnt.txt" >"$list"
	t0=$EPOCHREALTIME
	"$RA" <"$list" >"$W/info-$2.out" || fail "reading the info files under $1 (see above)"
	took=$(elapsed "$t0" "$EPOCHREALTIME")
}

# sameinfo NAME OTHER: both sides read the same info bytes
sameinfo() {
	if [[ $(cat "$W/info-$1.out") != "$(cat "$W/info-$2.out")" ]]; then
		fail "info bytes differ: $1 '$(cat "$W/info-$1.out")', $2 '$(cat "$W/info-$2.out")'"
	fi
}

# grepbody ROOT OUT: grep -l the marker over ROOT/mbox/*/body, one
# method for both sides; prints seconds
grepbody() {
	local root=$1 out=$2 t0 t1
	t0=$EPOCHREALTIME
	{ printf '%s\0' "$root"/mbox/*/body | xargs -0 -s $XARGS_S grep -l -- "$MARKER" >"$out" 2>"$out.err"; } || true
	t1=$EPOCHREALTIME
	elapsed "$t0" "$t1"
}

# grep's complaints, if any, become failures (grepbody runs in a subshell)
grepcheck() {
	local f
	for f in "$@"; do
		if [[ -s $f.err ]]; then
			fail "grep: $(head -3 "$f.err" | tr '\n' ' ')"
		fi
	done
}

echo "mailfs bench: N=$N, work dir $W"

# 1. tools and mailbox
cc -std=c11 -O2 -o "$GEN" "$here/genmbox.c"
cc -std=c11 -O2 -o "$RA" "$here/readall.c"
cc -std=c11 -O2 -o "$OR" "$here/openread.c"
# the floor runs on the libfuse mailfs was built with (build/fuse3 when make deps made one)
fusedir=$repo/build/fuse3/inst/usr
if [[ -f $fusedir/lib/libfuse3.a ]]; then
	fusecflags="-I$fusedir/include/fuse3" fuselibs="$fusedir/lib/libfuse3.a $(cat "$repo/build/fuse3/libs" 2>/dev/null) -ldl -lrt -lpthread"
else
	fusecflags=$(pkg-config --cflags fuse3) fuselibs=$(pkg-config --libs fuse3)
fi
# shellcheck disable=SC2086
cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra $fusecflags -o "$MIRRORFS" "$here/mirrorfs.c" $fuselibs
mirrorver=$(strings "$MIRRORFS" | grep -E '^3\.[0-9]+\.[0-9]+$' | head -n 1 || true)
echo "mirrorfs: built with libfuse ${mirrorver:-?}"
stamp="n=$N seed=1 gen=$(sha256sum <"$here/genmbox.c" | cut -c1-64)"
if [[ -f $MBOX && -f $MBOX.stamp && $(cat "$MBOX.stamp") == "$stamp" ]]; then
	echo "mbox: reusing $MBOX"
else
	rm -f "$MBOX" "$MBOX.stamp"
	t0=$EPOCHREALTIME
	"$GEN" -n "$N" -s 1 >"$MBOX.tmp" 2>"$MBOX.stats"
	t1=$EPOCHREALTIME
	mv "$MBOX.tmp" "$MBOX"
	echo "$stamp" >"$MBOX.stamp"
	echo "mbox: generated $MBOX in $(elapsed "$t0" "$t1") s"
fi
[[ -f $MBOX.stats ]] && sed 's/^/mbox: /' "$MBOX.stats"
mboxbytes=$(stat -c %s "$MBOX")
mboxmb=$(awk -v b="$mboxbytes" 'BEGIN { printf "%.1f", b / 1048576 }')
expect=$(sed -n 's/.*, \([0-9]*\) with marker.*/\1/p' "$MBOX.stats" 2>/dev/null || true)

if [[ ! -x $MAILFS ]]; then
	echo "bench: no server binary $MAILFS (run make first)" >&2
	exit 1
fi

mkdir -p "$MNT" "$MIRROR"
for m in "$MNT" "$MIRROR"; do
	if ismounted "$m"; then
		echo "bench: unmounting a leftover mount on $m"
		fusermount3 -u "$m" || fusermount3 -uz "$m"
	fi
done

# 2. warm the page cache, then the floor for (a)
cat "$MBOX" >/dev/null
t0=$EPOCHREALTIME
cat "$MBOX" >/dev/null
t1=$EPOCHREALTIME
floor_a=$(elapsed "$t0" "$t1")

# (a) mount and list
t0=$EPOCHREALTIME
if ! "$MAILFS" "${mopts[@]}" -m "$MNT" "$MBOX" </dev/null >"$W/mailfs.log" 2>&1; then
	echo "bench: mailfs -m $MNT $MBOX failed:" >&2
	cat "$W/mailfs.log" >&2
	exit 1
fi
nls=$(ls "$MNT/mbox" | wc -l)
t1=$EPOCHREALTIME
meas_a=$(elapsed "$t0" "$t1")
pid=$(findpid)
[[ -n $pid ]] || fail "cannot find the mailfs process for $MNT"

ls "$MNT/mbox" >"$W/ls.txt"
grep -x '[1-9][0-9]*' "$W/ls.txt" | sort -n >"$W/nums.txt" || true
nmsg=$(wc -l <"$W/nums.txt")
other=$(grep -vx '[1-9][0-9]*' "$W/ls.txt" | tr '\n' ' ' || true)
echo "listing: $nls entries, $nmsg messages${other:+, other entries: $other}"
[[ $nmsg -eq $N ]] || fail "ls $MNT/mbox shows $nmsg messages, expected $N"
figure mount-ls "$meas_a" "$floor_a" s "< 0.5 s" "m < 0.5"

# (b) read every info through the mount
sed "s|.*|$MNT/mbox/&/info|" "$W/nums.txt" >"$W/info-mnt.txt"
readinfo "$MNT" mnt
meas_b=$took
echo "read-info (mount): $(cat "$W/info-mnt.out")"

# (c) peak RSS after (b)
hwm_kb=
if [[ -n $pid && -r /proc/$pid/status ]]; then
	hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
	rss_detail=$(awk '/^(VmRSS|RssAnon|RssFile|RssShmem):/ { printf "%s %.1f MB, ", $1, $2 / 1024 }' "/proc/$pid/status")
fi

# (d) grep through the mount, twice (first, then warm)
grep1_m=$(grepbody "$MNT" "$W/grep-mnt1.txt")
grep2_m=$(grepbody "$MNT" "$W/grep-mnt2.txt")

# (g) a small file: open, read and close of one already-cached info
small_m=$("$OR" -n 20000 "$MNT/mbox/1/info" | sed -n 's/.*median \([0-9.]*\) us.*/\1/p')

# plain copy of the same info and body files, one file per message
rm -rf "$PLAIN"
mkdir -p "$PLAIN"
sed "s|.*|$MNT/mbox/&/info\n$MNT/mbox/&/body|" "$W/nums.txt" >"$W/copy.txt"
t0=$EPOCHREALTIME
"$RA" -s -c "$MNT" "$PLAIN" <"$W/copy.txt" >"$W/copy.out" || fail "copying info and body out of the mount (see above)"
t1=$EPOCHREALTIME
echo "copy out (info+body, with st_size check): $(cat "$W/copy.out") in $(elapsed "$t0" "$t1") s"

# floors for (b) and (d), same methods on the plain copy
readinfo "$PLAIN" plain
floor_b=$took
sameinfo mnt plain
grep1_p=$(grepbody "$PLAIN" "$W/grep-plain1.txt")
grep2_p=$(grepbody "$PLAIN" "$W/grep-plain2.txt")

figure read-info "$meas_b" "$floor_b" s "< 3 s" "m < 3"

if [[ -n $hwm_kb ]]; then
	hwm_mb=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')
	figure peak-rss "$hwm_mb" "$mboxmb" MB "< 64 MB" "m < 64" "mbox size"
	echo "peak-rss detail (now, after (b)): ${rss_detail%, }"
else
	fail "no VmHWM for mailfs (pid '${pid}')"
fi

grepcheck "$W/grep-mnt1.txt" "$W/grep-mnt2.txt" "$W/grep-plain1.txt" "$W/grep-plain2.txt"
figure "grep-body (warm)" "$grep2_m" "$grep2_p" s "<= 1.5x" "r <= 1.5"
figure "grep-body (first)" "$grep1_m" "$grep1_p" s "<= 1.5x" "r <= 1.5"
for i in 1 2; do
	sed "s|^$MNT/||" "$W/grep-mnt$i.txt" | sort >"$W/grep-mnt$i.rel"
	sed "s|^$PLAIN/||" "$W/grep-plain$i.txt" | sort >"$W/grep-plain$i.rel"
done
gm=$(wc -l <"$W/grep-mnt2.rel")
gp=$(wc -l <"$W/grep-plain2.rel")
echo "grep-body: $gm matching files through the mount, $gp in the plain copy${expect:+, $expect messages carry the marker}"
[[ $gm -eq $gp ]] || fail "grep -l found $gm files through the mount but $gp in the plain copy"
cmp -s "$W/grep-mnt1.rel" "$W/grep-mnt2.rel" || fail "the two greps through the mount disagree"
cmp -s "$W/grep-mnt2.rel" "$W/grep-plain2.rel" || fail "grep through the mount and over the plain copy list different files"
[[ $gm -gt 0 ]] || fail "grep -l found no body with '$MARKER'"
if [[ -n $hwm_kb && -n $pid ]]; then
	end_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
	echo "peak-rss at the end (after grep and copy): $(awk -v k="$end_kb" 'BEGIN { printf "%.1f", k / 1024 }') MB"
fi

# unmount and wait for the server to go
fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT failed"
if [[ -n $pid ]]; then
	waitexit "$pid" mailfs
fi
if [[ -s $W/mailfs.log ]]; then
	echo "mailfs log ($W/mailfs.log):"
	head -20 "$W/mailfs.log" | sed 's/^/  /'
fi

# (e) the FUSE floor: the same reads, by the same methods, through
# mirrorfs, a FUSE server that only passes the plain copy through.  What
# it costs over the plain copy is what FUSE round trips cost on this
# machine, which no FUSE server can go below.
t0=$EPOCHREALTIME
if ! "$MIRRORFS" "${fopts[@]}" ${BENCH_MIRROR_THREADS:+-t "$BENCH_MIRROR_THREADS"} "$PLAIN" "$MIRROR" </dev/null >"$W/mirrorfs.log" 2>&1; then
	echo "bench: mirrorfs $PLAIN $MIRROR failed:" >&2
	cat "$W/mirrorfs.log" >&2
	exit 1
fi
nls_f=$(ls "$MIRROR/mbox" | wc -l)
t1=$EPOCHREALTIME
mirror_a=$(elapsed "$t0" "$t1")
mirrorpid=$(findpid mirrorfs "$MIRROR")
[[ $nls_f -eq $N ]] || fail "ls $MIRROR/mbox shows $nls_f entries, expected $N"
echo "fuse-floor: mount+ls through mirrorfs${BENCH_MIRROR_THREADS:+ -t $BENCH_MIRROR_THREADS} $(elapsed "$t0" "$t1") s (mailfs $meas_a s)"

readinfo "$MIRROR" mirror
mirror_b=$took
sameinfo mirror plain
grep1_f=$(grepbody "$MIRROR" "$W/grep-mirror1.txt")
grep2_f=$(grepbody "$MIRROR" "$W/grep-mirror2.txt")
grepcheck "$W/grep-mirror1.txt" "$W/grep-mirror2.txt"
small_f=$("$OR" -n 20000 "$MIRROR/mbox/1/info" | sed -n 's/.*median \([0-9.]*\) us.*/\1/p')
mkdir -p /dev/shm/mailfs-bench.$$
cp "$PLAIN/mbox/1/info" /dev/shm/mailfs-bench.$$/info
small_t=$("$OR" -n 20000 /dev/shm/mailfs-bench.$$/info | sed -n 's/.*median \([0-9.]*\) us.*/\1/p')
rm -rf /dev/shm/mailfs-bench.$$
for i in 1 2; do
	sed "s|^$MIRROR/||" "$W/grep-mirror$i.txt" | sort >"$W/grep-mirror$i.rel"
	cmp -s "$W/grep-mirror$i.rel" "$W/grep-plain$i.rel" ||
		fail "grep through mirrorfs and over the plain copy list different files (run $i)"
done

echo "fuse-floor: read-info through mirrorfs $mirror_b s (plain $floor_b s); mailfs is $(ratio "$meas_b" "$mirror_b") times the FUSE floor"
# per message, FUSE costs about 5 round trips here (2 lookups, open,
# read, release); the read-info target is set for the default N
permsg=$(awk -v t="$mirror_b" -v n="$N" 'BEGIN { printf "%.0f", t * 1e6 / n }')
scaled=
if ((N != 100000)); then
	scaled="; ${permsg} us a message, so ~$(awk -v t="$mirror_b" -v n="$N" 'BEGIN { printf "%.1f", t * 100000 / n }') s for 100000"
fi
for run in first warm; do
	if [[ $run == first ]]; then f=$grep1_f p=$grep1_p m=$grep1_m; else f=$grep2_f p=$grep2_p m=$grep2_m; fi
	echo "fuse-floor: grep-body $run through mirrorfs $f s = $(ratio "$f" "$p") x plain; mailfs $m s = $(ratio "$m" "$p") x plain, $(ratio "$m" "$f") x the FUSE floor"
done
floorverdict read-info "< 3 s" "mirrorfs $mirror_b s$scaled" "$mirror_b < 3"
floorverdict "grep-body (first)" "<= 1.5x plain" "mirrorfs $(ratio "$grep1_f" "$grep1_p") x" "$grep1_f <= 1.5 * $grep1_p"
floorverdict "grep-body (warm)" "<= 1.5x plain" "mirrorfs $(ratio "$grep2_f" "$grep2_p") x" "$grep2_f <= 1.5 * $grep2_p"

fusermount3 -u "$MIRROR" || fail "fusermount3 -u $MIRROR failed"
if [[ -n $mirrorpid ]]; then
	waitexit "$mirrorpid" mirrorfs
else
	fail "cannot find the mirrorfs process for $MIRROR"
fi

# against the do-nothing server on the same libfuse and transport
figure "vs-mirrorfs mount-ls" "$meas_a" "$mirror_a" s "<= 1.0x mirrorfs" "r <= 1.0"
figure "vs-mirrorfs read-info" "$meas_b" "$mirror_b" s "<= 1.0x mirrorfs" "r <= 1.0"
figure "vs-mirrorfs grep-body (warm)" "$grep2_m" "$grep2_f" s "<= 1.0x mirrorfs" "r <= 1.0"
figure "vs-mirrorfs grep-body (first)" "$grep1_m" "$grep1_f" s "<= 1.5x mirrorfs" "r <= 1.5"
figure "small-file" "$small_m" "$small_f" us "<= 1.0x mirrorfs" "r <= 1.0" "mirrorfs; tmpfs $small_t us"

. "$here/kernel.sh"

# threads: mailfs's own box, model and tree over the same mailbox, in-process
cc -std=gnu11 -D_GNU_SOURCE -O2 -I"$repo/mailfs" $(pkg-config --cflags gmime-3.0 libetpan libxml-2.0 libcrypto) -o "$W/threadbench" \
	"$here/threadbench.c" "$repo"/mailfs/{lib,box,model,tree}/*.c $(pkg-config --libs gmime-3.0 libetpan libxml-2.0 libcrypto) -lpthread
th=$("$W/threadbench" "$MBOX") || fail "threadbench $MBOX failed"
echo "$th"
thmed=$(sed -n 's/.*median \([0-9.]*\) s.*/\1/p' <<<"$th")
figure "threads (in-process)" "$thmed" 0.5 s "< 0.5 s" "m < 0.5" "the target"

# HTML as text: mailfs's renderer in-process over every HTML part of the
# mailbox and of testdata's HTML corpus; w3m -dump of the same bytes,
# one process a part as a user runs it, as the reference
cc -std=gnu11 -D_GNU_SOURCE -O2 -I"$repo/mailfs" $(pkg-config --cflags gmime-3.0 libetpan libxml-2.0 libcrypto) -o "$W/htmlbench" \
	"$here/htmlbench.c" "$repo"/mailfs/{lib,box,model}/*.c $(pkg-config --libs gmime-3.0 libetpan libxml-2.0 libcrypto) -lpthread
HW=$W/html
rm -rf "$HW" && mkdir -p "$HW"
hb=$("$W/htmlbench" -w "$HW" "$MBOX" "$repo/testdata/boxes/html.mbox") || fail "htmlbench failed"
echo "$hb"
hmed=$(sed -n 's/.*per part median \([0-9.]*\) us.*/\1/p' <<<"$hb")
hbig=$(sed -n 's/.*1 MB part.*: median \([0-9.]*\) s of.*/\1/p' <<<"$hb")
nw=0 t0=$EPOCHREALTIME
for f in "$HW"/part-*.html; do
	w3m -dump -T text/html -O UTF-8 "$f" >/dev/null
	nw=$((nw + 1))
done
w3mpart=$(awk -v a="$t0" -v b="$EPOCHREALTIME" -v n="$nw" 'BEGIN { printf "%.1f", (b - a) / n * 1e6 }')
wb=()
for i in 1 2 3; do
	t0=$EPOCHREALTIME
	w3m -dump -T text/html -O UTF-8 "$HW/big.html" >/dev/null
	wb+=("$(elapsed "$t0" "$EPOCHREALTIME")")
done
w3mbig=$(printf '%s\n' "${wb[@]}" | sort -n | sed -n 2p)
echo "w3m -dump: $nw parts, $w3mpart us a part (its start-up included); 1 MB part ${wb[*]} s"
figure "html median part (in-process)" "$hmed" "$w3mpart" us "< 100 us" "m < 100" "w3m -dump a part"
figure "html 1 MB part (in-process)" "$hbig" "$w3mbig" s "well under 1 s: < 0.25 s" "m < 0.25" "w3m -dump of it"

if ((${#failures[@]})); then
	echo "bench: ${#failures[@]} check(s) failed:"
	printf '  %s\n' "${failures[@]}"
	exit 1
fi
echo "bench: all checks passed"
