#!/usr/bin/env bash
# The index's benchmarks (tests/bench/README), each a ratio against a
# floor measured in the same run:
#   build      rate and peak RSS of mailfs indexing, against notmuch new
#              on the same messages as a Maildir (BENCH_NOTMUCH_N of them:
#              notmuch takes minutes for the whole mailbox); mailfs's rate
#              and RSS on the whole BENCH_N-message mailbox beside it
#   size       the index against the mailbox
#   query      a word in 1% of messages and two words ANDed: in-process,
#              and end to end over 9P (walk, open, write, read, clunk),
#              against notmuch search --output=files for the same words
#   recall     the search file for planted words (bodies, QP, base64,
#              subjects, HTML text, text attachments) against grep -l -w -i
#              over the decoded text of the same messages; notmuch's beside
#   restart    every info read over 9P as acme Mail lists a mailbox: the
#              second start against the first
#
#	tests/bench/index.sh [MAILFS]
#
# Environment: BENCH_N (default 100000), BENCH_DIR (default
# /var/tmp/mailfs-bench), BENCH_NOTMUCH_N (default 5000), BENCH_PLANT_N
# (default 2000), BENCH_REPS (repetitions of each timing, default 3).
set -euo pipefail
export LC_ALL=C TZ=UTC
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
MAILFS=${1:-${MAILFS:-$repo/mailfs/mailfs}}
N=${BENCH_N:-100000}
NM=${BENCH_NOTMUCH_N:-5000}
NP=${BENCH_PLANT_N:-2000}
REPS=${BENCH_REPS:-3}
W=${BENCH_DIR:-/var/tmp/mailfs-bench}/index
mkdir -p "$W"
W=$(cd "$W" && pwd)
MBOX=$(dirname "$W")/bench-$N.mbox
export NAMESPACE=$W/ns
mkdir -p "$NAMESPACE" && chmod 700 "$NAMESPACE"
failures=()
fail() { echo "FAIL: $*" >&2; failures+=("$*"); }
pid=

cleanup() {
	[[ -z $pid ]] || kill "$pid" 2>/dev/null || true
	for m in "$W"/mnt*; do mountpoint -q "$m" 2>/dev/null && fusermount3 -uz "$m"; done
	return 0
}
trap cleanup EXIT

# figure NAME MEASURED FLOOR UNIT TARGET TEST [NOTE]: as run.sh prints them
figure() {
	awk -v name="$1" -v m="$2" -v f="$3" -v u="$4" -v tt="$5" -v note="${7:+ ($7)}" "BEGIN {
		r = f > 0 ? m / f : 0
		ok = ($6) ? \"met\" : \"MISSED\"
		printf \"%s: measured %.3f %s, floor %.3f %s%s, ratio %.2f (target %s: %s)\\n\", name, m, u, f, u, note, r, tt, ok
	}"
}
med() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
spread() { sort -n | awk '{ v[NR] = $1 } END { printf "%s..%s", v[1], v[NR] }'; }

PK="gmime-3.0 libetpan libxml-2.0 libcrypto sqlite3"
cc -std=gnu11 -D_GNU_SOURCE -O2 -I"$repo/mailfs" -I"$here" $(pkg-config --cflags $PK) -o "$W/ixquery" \
	"$here/ixquery.c" "$repo"/mailfs/{lib,box,model,tree}/*.c $(pkg-config --libs $PK) -lpthread
cc -std=gnu11 -D_GNU_SOURCE -O2 -I"$repo/mailfs" -I"$here" -o "$W/p9list" \
	"$here/p9list.c" "$repo/mailfs/srv/p9.c" "$repo/mailfs/lib/util.c" "$repo/mailfs/lib/err.c"
if [[ ! -s $MBOX ]]; then
	cc -std=c11 -O2 -o "$W/genmbox" "$here/genmbox.c"
	"$W/genmbox" -n "$N" >"$MBOX"
fi

# start NAME INDEXDIR BOX: mailfs -f serving BOX over 9P as NAME; pid set
start() {
	rm -f "$NAMESPACE/$1"
	"$MAILFS" -f -s "$1" -i "$2" "$3" 2>>"$W/stderr" &
	pid=$!
	for _ in $(seq 600); do [[ -S $NAMESPACE/$1 ]] && return 0; sleep 0.05; done
	fail "mailfs did not post $1"
	return 1
}
stop() { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=; }
# status NAME: the box's index file, over 9P (a walk, open, read)
status() { "$W/p9list" -c mbox/index "$NAMESPACE/$1"; }
hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status"; }
# build NAME DIR BOX COUNT: the seconds until the index has all COUNT; hwm_kb set
build() {
	local t0=$EPOCHREALTIME
	start "$1" "$2" "$3" || return 1
	until status "$1" | grep -q "^indexed $4 of $4\$"; do
		kill -0 "$pid" 2>/dev/null || { fail "mailfs died while indexing"; return 1; }
		sleep 0.05
	done
	took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
	hwm_kb=$(hwm)
	stop
}
dbsize() { du -cb "$1"/*.db* | tail -1 | cut -f1; }

# --- build rate and RSS, against notmuch on the same messages ---
SUB=$W/sub-$NM
if [[ ! -d $SUB/maildir/cur ]]; then
	rm -rf "$SUB" && mkdir -p "$SUB/maildir/cur" "$SUB/maildir/new" "$SUB/maildir/tmp"
	python3 - "$MBOX" "$NM" "$SUB" <<'EOF'
import sys
src, n, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out, k, cur = open(d + "/sub.mbox", "wb"), 0, None
def flush():
    if cur is not None:
        body = b"".join(cur[1:]).replace(b"\n>From ", b"\nFrom ")
        open("%s/maildir/cur/%08d.sub:2," % (d, k), "wb").write(body)
with open(src, "rb") as f:
    prev = b"\n"
    for line in f:
        if line.startswith(b"From ") and prev == b"\n":
            flush()
            k += 1
            if k > n:
                break
            cur = []
        if k <= n:
            out.write(line)
            cur.append(line)
        prev = line
    else:
        flush()
EOF
fi
nmcfg=$W/notmuch-config
printf '[database]\npath=%s\n[user]\nname=bench\nprimary_email=bench@example.org\n[new]\ntags=unread;inbox;\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n' "$SUB/maildir" >"$nmcfg"
export NOTMUCH_CONFIG=$nmcfg
nmrate=() nmrss=() mrate=() mrss=()
for r in $(seq "$REPS"); do
	rm -rf "$SUB/maildir/.notmuch"
	line=$(python3 - <<'EOF'
import resource, subprocess, time
t0 = time.time()
subprocess.run(["notmuch", "new", "--quiet"], check=True)
print("%.3f %d" % (time.time() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
EOF
)
	nmrate+=("$(awk -v n="$NM" -v t="${line% *}" 'BEGIN { printf "%.1f", n / t }')")
	nmrss+=("${line#* }")
	rm -rf "$W/ixsub"
	build ixsub "$W/ixsub" "$SUB/sub.mbox" "$NM" || break
	mrate+=("$(awk -v n="$NM" -v t="$took" 'BEGIN { printf "%.1f", n / t }')")
	mrss+=("$hwm_kb")
done
echo "index build, $NM messages: mailfs ${mrate[*]} messages/s (peak RSS ${mrss[*]} kB); notmuch new ${nmrate[*]} messages/s (peak RSS ${nmrss[*]} kB)"
m=$(printf '%s\n' "${mrate[@]}" | med) f=$(printf '%s\n' "${nmrate[@]}" | med)
figure "index build rate ($NM messages)" "$m" "$f" "msg/s" ">= 5x notmuch's" "r >= 5" "notmuch new; mailfs $(printf '%s\n' "${mrate[@]}" | spread), notmuch $(printf '%s\n' "${nmrate[@]}" | spread)"
m=$(printf '%s\n' "${mrss[@]}" | med) f=$(printf '%s\n' "${nmrss[@]}" | med)
figure "index build peak RSS ($NM messages)" "$((m / 1024))" "$((f / 1024))" MB "< 64 MB" "m < 64" "notmuch new's"

rm -rf "$W/ixall"
build ixall "$W/ixall" "$MBOX" "$N"
allrate=$(awk -v n="$N" -v t="$took" 'BEGIN { printf "%.1f", n / t }')
echo "index build, $N messages: $took s, $allrate messages/s, peak RSS $hwm_kb kB"
figure "index build peak RSS ($N messages)" "$((hwm_kb / 1024))" "$((${nmrss[0]} / 1024))" MB "< 64 MB" "m < 64" "notmuch new's on $NM"
mb=$(stat -c %s "$MBOX") ib=$(dbsize "$W/ixall")
echo "index size: $ib bytes for a $mb-byte mailbox"
figure "index size" "$(awk -v a="$ib" 'BEGIN { print a / 1048576 }')" "$(awk -v a="$mb" 'BEGIN { print a / 1048576 }')" MB "<= 25% of the mailbox" "r <= 0.25" "the mailbox"

# --- queries: in-process, over 9P, and notmuch's ---
Q1=zanzibar Q2="zanzibar when"
iq=$("$W/ixquery" "$W/ixall" "$MBOX" 21 "$Q1" "$Q2")
echo "$iq"
start ixq "$W/ixall" "$MBOX"
e1=$("$W/p9list" -q "$Q1" -r 21 "$NAMESPACE/ixq" mbox) e2=$("$W/p9list" -q "$Q2" -r 21 "$NAMESPACE/ixq" mbox)
stop
echo "$e1"; echo "$e2"
nmq() { for _ in 1 2 3 4 5; do python3 -c '
import subprocess, sys, time
t0 = time.time(); subprocess.run(["notmuch", "search", "--output=files"] + sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print("%.3f" % ((time.time() - t0) * 1e3))' "$@"; done | med; }
nm1=$(nmq zanzibar) nm2=$(nmq zanzibar and when)
msof() { sed -n "s/^query $1: .* median \([0-9.]*\) ms.*/\1/p"; }
figure "query one word, in-process" "$(msof "$Q1" <<<"$iq")" "$nm1" ms "< 5 ms" "m < 5" "notmuch search --output=files on $NM messages"
figure "query two words, in-process" "$(msof "$Q2" <<<"$iq")" "$nm2" ms "< 5 ms" "m < 5" "notmuch search --output=files on $NM messages"
figure "query one word, over 9P" "$(msof "$Q1" <<<"$e1")" "$nm1" ms "< 20 ms" "m < 20" "notmuch search --output=files on $NM messages"
figure "query two words, over 9P" "$(msof "$Q2" <<<"$e2")" "$nm2" ms "< 20 ms" "m < 20" "notmuch search --output=files on $NM messages"

# --- recall and precision on planted words ---
P=$W/planted-$NP
if [[ ! -s $P/planted.mbox ]]; then
	rm -rf "$P" && mkdir -p "$P"
	python3 "$here/planted.py" "$NP" "$P"
fi
rm -rf "$W/ixplant"
start ixp "$W/ixplant" "$P/planted.mbox"
NOTMUCH_CONFIG=$W/nmp
printf '[database]\npath=%s\n[new]\ntags=unread;\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n' "$P/maildir" >"$NOTMUCH_CONFIG"
export NOTMUCH_CONFIG
[[ -d $P/maildir/.notmuch ]] || notmuch new --quiet
rec=$(python3 - "$NAMESPACE/ixp" "$P" "$W/p9list" <<'EOF'
import os, re, subprocess, sys
sock, d, p9list = sys.argv[1:]
words = open(d + "/words").read().split()
tp = fn = fp = nmhit = total = 0
for w in words:
    g = subprocess.run(["grep", "-l", "-w", "-i", "-r", w, d + "/decoded"], capture_output=True, text=True).stdout.split()
    truth = {int(os.path.basename(x)[:-4]) for x in g}
    out = subprocess.run([p9list, "-p", "-q", w, "-r", "1", sock, "mbox"], capture_output=True, text=True, check=True)
    got = {int(x) for x in out.stdout.splitlines()[0].split()}
    nm = subprocess.run(["notmuch", "search", "--output=files", w], capture_output=True, text=True).stdout.split()
    nmset = {int(re.search(r"/(\d+)\.planted", x).group(1)) for x in nm}
    tp += len(got & truth); fn += len(truth - got); fp += len(got - truth)
    nmhit += len(nmset & truth); total += len(truth)
print("%d %d %d %d %d" % (tp, fn, fp, nmhit, total))
EOF
)
stop
read -r tp fnn fpp nmhit total <<<"$rec"
recall=$(awk -v a="$tp" -v t="$total" 'BEGIN { printf "%.2f", 100 * a / t }')
prec=$(awk -v a="$tp" -v f="$fpp" 'BEGIN { printf "%.2f", a + f ? 100 * a / (a + f) : 100 }')
nmrec=$(awk -v a="$nmhit" -v t="$total" 'BEGIN { printf "%.2f", 100 * a / t }')
echo "planted words: $total (message, word) pairs; mailfs found $tp, missed $fnn, $fpp false; notmuch found $nmhit"
figure "search recall, planted words" "$recall" "$nmrec" "%" "100%" "m == 100" "notmuch's recall"
figure "search precision, planted words" "$prec" 100 "%" "100%" "m == 100" "all"

# --- restart: acme Mail's listing, first start against second ---
t1=() t2=()
for r in $(seq "$REPS"); do
	rm -rf "$W/ixfirst"
	start ixf "$W/ixfirst" "$MBOX"
	t1+=("$("$W/p9list" "$NAMESPACE/ixf" mbox 1 "$N" | sed -n 's/.* in \([0-9.]*\) s$/\1/p')")
	stop
	start ixs "$W/ixall" "$MBOX"
	t2+=("$("$W/p9list" "$NAMESPACE/ixs" mbox 1 "$N" | sed -n 's/.* in \([0-9.]*\) s$/\1/p')")
	stop
done
echo "every info over 9P, $N messages: first start ${t1[*]} s, second start ${t2[*]} s"
a=$(printf '%s\n' "${t1[@]}" | med) b=$(printf '%s\n' "${t2[@]}" | med)
figure "second start, every info over 9P" "$b" "$a" s ">= 5x faster than the first: ratio <= 0.2" "r <= 0.2" "the first start"

if ((${#failures[@]})); then
	printf 'index bench: %s\n' "${failures[@]}"
	exit 1
fi
