# tests/bench/kernel.sh: the figures of what mailfs hands to the kernel,
# sourced by run.sh after its own (it uses run.sh's helpers and
# settings: $W, $MAILFS, $MIRRORFS, $GEN, $RA, mopts, fopts, figure, fail).
#
#   big-part    a 50 MB attachment read through the mount, first and
#               again, against the same bytes read from a file in the
#               page cache: a speed ratio, floor time / mailfs time
#   grep-r      grep -r --include=body over a mounted mailbox of
#               $TREE_N messages, against a plain copy of the whole tree
#               and the same copy through mirrorfs
#   read-count  READ requests in the -D trace while 1,000 message files
#               are read: 0 when they are handed to the kernel

BIG=$W/big.mbox
BIGMNT=$W/mnt-big
TREEBOX=$W/tree-$TREE_N.mbox
TREEMNT=$W/mnt-tree
TREEPLAIN=$W/tree-plain
TREEMIRROR=$W/mirror-tree

# speed NAME FLOOR-SECONDS MEASURED-SECONDS TARGET: floor/measured, higher is better
speed() {
	awk -v name="$1" -v f="$2" -v m="$3" -v t="$4" 'BEGIN {
		r = m > 0 ? f / m : 0
		printf "%s: measured %.3f s, floor %.3f s (the same bytes from the page cache), speed ratio %.2f (target >= %s: %s)\n",
			name, m, f, r, t, (r >= t ? "met" : "MISSED")
	}'
}

# timed CMD...: run it, its output dropped; print its seconds
timed() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null
	echo "$(elapsed "$t0" "$EPOCHREALTIME")"
}

# mountbox BOX MNT [ARGS...]: mailfs with the run's options, or fail
mountbox() {
	local box=$1 mnt=$2
	shift 2
	mkdir -p "$mnt"
	if ! "$MAILFS" "${mopts[@]}" "$@" -m "$mnt" "$box" </dev/null >"$W/mailfs-k.log" 2>&1; then
		cat "$W/mailfs-k.log" >&2
		fail "mailfs -m $mnt $box failed"
		return 1
	fi
}

# --- big-part ---------------------------------------------------------
if [[ ! -f $BIG.sha ]]; then
	python3 - "$BIG" <<'PY'
import base64, hashlib, random, sys
data = random.Random(7).randbytes(50 << 20)
b64 = base64.encodebytes(data)
with open(sys.argv[1], "wb") as f:
    f.write(b"From big@example.org Mon Jan  5 10:00:00 2026\nFrom: big@example.org\nSubject: a big one\n"
            b"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\n"
            b"see the attachment\n--B\nContent-Type: application/octet-stream; name=big.bin\n"
            b"Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename=big.bin\n\n")
    f.write(b64)
    f.write(b"--B--\n\n")
open(sys.argv[1] + ".sha", "w").write(hashlib.sha256(data).hexdigest() + "\n")
PY
fi
if mountbox "$BIG" "$BIGMNT"; then
	part=$BIGMNT/mbox/1/2/body
	# read(2) into a buffer, as a program reads a file (cat >/dev/null may skip the copy)
	readone() { printf '%s\n' "$1" | "$RA"; }
	# best of three: the re-read and the floor are short and the machine noisy
	best() { awk 'BEGIN { m = -1 } { if (m < 0 || $1 < m) m = $1 } END { print m }'; }
	big1=$(timed readone "$part")
	big2=$(for i in 1 2 3; do timed readone "$part"; done | best)
	[[ $(sha256sum <"$part" | cut -c1-64) == "$(cat "$BIG.sha")" ]] || fail "the big part read through the mount is not the attachment"
	cp "$part" "$W/big.bin"
	readone "$W/big.bin" >/dev/null
	bigf=$(for i in 1 2 3; do timed readone "$W/big.bin"; done | best)
	speed "big-part (first read, decoding 50 MB of base64)" "$bigf" "$big1" 0.9
	# what decoding alone costs: coreutils base64 -d over the same text, in the page cache
	sed -n '/^Content-Disposition: attachment/,/^--B--/p' "$BIG" | sed '1,2d;$d' >"$W/big.b64"
	decf=$(for i in 1 2 3; do timed base64 -d "$W/big.b64"; done | best)
	echo "big-part: decoding alone (base64 -d of the same text) takes $decf s, so a first read is at best $(ratio "$bigf" "$decf") of the page cache's speed"
	rm -f "$W/big.b64"
	speed "big-part (re-read)" "$bigf" "$big2" 0.9
	rm -f "$W/big.bin"
	fusermount3 -u "$BIGMNT" || fail "fusermount3 -u $BIGMNT failed"
fi

# --- grep -r over the whole tree ---------------------------------------
tstamp="n=$TREE_N seed=2 gen=$(sha256sum <"$here/genmbox.c" | cut -c1-64)"
if [[ ! -f $TREEBOX || $(cat "$TREEBOX.stamp" 2>/dev/null) != "$tstamp" ]]; then
	"$GEN" -n "$TREE_N" -s 2 >"$TREEBOX" 2>/dev/null
	echo "$tstamp" >"$TREEBOX.stamp"
fi
if mountbox "$TREEBOX" "$TREEMNT"; then
	rm -rf "$TREEPLAIN"
	mkdir -p "$TREEPLAIN"
	# the ctl and search files cannot be read: the copy lacks only those
	t0=$EPOCHREALTIME
	cp -r "$TREEMNT/mbox" "$TREEPLAIN/" 2>/dev/null || true
	echo "grep-r: copied the tree of $TREE_N messages, $(find "$TREEPLAIN" -type f | wc -l) files, in $(elapsed "$t0" "$EPOCHREALTIME") s"
	grepr() { grep -r -l --include=body -- "$MARKER" "$1/mbox" | sed "s|^$1/||" | sort >"$2"; }
	grepr "$TREEMNT" "$W/grepr-mnt0.txt"
	gr_m=$(timed grepr "$TREEMNT" "$W/grepr-mnt.txt")
	grepr "$TREEPLAIN" /dev/null
	gr_p=$(timed grepr "$TREEPLAIN" "$W/grepr-plain.txt")
	fusermount3 -u "$TREEMNT" || fail "fusermount3 -u $TREEMNT failed"
	mkdir -p "$TREEMIRROR"
	if "$MIRRORFS" "${fopts[@]}" "$TREEPLAIN" "$TREEMIRROR" </dev/null >"$W/mirrorfs-tree.log" 2>&1; then
		grepr "$TREEMIRROR" /dev/null
		gr_f=$(timed grepr "$TREEMIRROR" "$W/grepr-mirror.txt")
		fusermount3 -u "$TREEMIRROR" || fail "fusermount3 -u $TREEMIRROR failed"
		cmp -s "$W/grepr-mnt.txt" "$W/grepr-mirror.txt" || fail "grep -r through mailfs and through mirrorfs list different files"
		figure "grep-r (warm, vs mirrorfs)" "$gr_m" "$gr_f" s "<= 1.0x mirrorfs" "r <= 1.0" "mirrorfs over the plain copy"
	else
		fail "mirrorfs over $TREEPLAIN failed"
	fi
	cmp -s "$W/grepr-mnt.txt" "$W/grepr-plain.txt" || fail "grep -r through the mount and over the plain copy list different files"
	cmp -s "$W/grepr-mnt0.txt" "$W/grepr-mnt.txt" || fail "the two grep -r runs through the mount disagree"
	echo "grep-r: $(wc -l <"$W/grepr-mnt.txt") bodies match, mount $gr_m s, plain copy $gr_p s: $(ratio "$gr_m" "$gr_p") x the plain copy"
	[[ -z ${BENCH_KEEP:-} ]] && rm -rf "$TREEPLAIN"
fi

# --- READ requests for 1,000 reads of handed-down files ---------------
mkdir -p "$TREEMNT"
"$MAILFS" "${mopts[@]}" -f -D -m "$TREEMNT" "$TREEBOX" </dev/null 2>"$W/trace.log" &
tracepid=$!
for _ in $(seq 100); do ismounted "$TREEMNT" && break; sleep 0.1; done
if ismounted "$TREEMNT"; then
	nr=$((TREE_N < 500 ? TREE_N : 500))	# messages: an info and a body each
	for i in $(seq "$nr"); do echo "$TREEMNT/mbox/$i/info"; echo "$TREEMNT/mbox/$i/body"; done >"$W/reads.txt"
	"$RA" <"$W/reads.txt" >/dev/null || fail "reading $((2 * nr)) files under $TREEMNT"
	nread=$(grep -c '^fuse: read ' "$W/trace.log" || true)
	pt=$(grep -m1 '^fuse: passthrough: ' "$W/trace.log" | sed 's/^fuse: //')
	tr=$(grep -m1 '^fuse: transport: ' "$W/trace.log" | sed 's/^fuse: //')
	echo "read-count: $((2 * nr)) files read, $nread READ requests in the -D trace (target 0: $([[ $nread == 0 ]] && echo met || echo MISSED)); $pt; $tr"
	fusermount3 -u "$TREEMNT" || fail "fusermount3 -u $TREEMNT failed"
	wait "$tracepid" || true
else
	fail "mailfs -f -D did not mount $TREEMNT"
	kill "$tracepid" 2>/dev/null || true
fi
