#!/usr/bin/env bash
# libFuzzer runs of mailfs's fuzz targets (tests/fuzz_*.c), each for
# FUZZTIME seconds (default 10; make fuzz gives 60) from its seeds, as a
# regression check in make check:
#	9p	the 9P decoder and request handler	tests/fuzz-seeds
#	html	the HTML renderer			tests/fuzz-seeds-html
#	mbox	the mbox scanner and quoting		testdata/boxes
#	model	one message, every file of its tree	testdata's messages, one a file
#	ctl	ctl commands to a box's and the root's	tests/fuzz-seeds-ctl (and a dictionary)
#	keys	the key file's lines			tests/fuzz-seeds-keys
# usage: tests/t-fuzz.sh [NAME...]	(all when none is named)
# A crash leaves its input in build/crash-NAME-*; it becomes a seed (and
# so a regression check) once fixed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
secs=${FUZZTIME:-10}
out=$(mktemp)
seeds=$(mktemp -d)
trap 'rm -rf "$out" "$seeds"' EXIT
[ $# -gt 0 ] || set -- 9p html mbox model ctl keys

# the model's seeds: each message of the test mailboxes on its own
python3 - "$top/testdata" "$seeds" <<'PY'
import glob, mailbox, os, sys
k = 0
for f in sorted(glob.glob(sys.argv[1] + "/boxes/*.mbox")) + [sys.argv[1] + "/sample.mbox"]:
    if os.path.getsize(f) > 1 << 20:
        continue
    mb = mailbox.mbox(f)
    for key in mb.keys():	# the bytes, not a parse: the deep one would overflow Python
        k += 1
        with open("%s/m%03d" % (sys.argv[2], k), "wb") as o:
            o.write(mb.get_bytes(key)[:65536])
PY

for name in "$@"; do
	args=() dirs=()
	case $name in
	9p) args=(-max_len=4096) dirs=(tests/fuzz-seeds) ;;
	html) args=(-max_len=65536) dirs=(tests/fuzz-seeds-html) ;;
	mbox) args=(-max_len=65536) dirs=(testdata/boxes) ;;
	model) args=(-max_len=65536) dirs=("$seeds") ;;
	ctl) args=(-max_len=1024 -dict=tests/fuzz-ctl.dict) dirs=(tests/fuzz-seeds-ctl) ;;
	keys) args=(-max_len=1024) dirs=(tests/fuzz-seeds-keys) ;;
	*) notok "no fuzz target $name"; continue ;;
	esac
	cd "$top" && make -s "build/fuzz_$name" >"$out" 2>&1 && mkdir -p "build/fuzz-corpus-$name" &&
		SRCDIR=$top ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
		"build/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="build/crash-$name-" "${args[@]}" "build/fuzz-corpus-$name" "${dirs[@]}" >"$out" 2>&1
	rc=$?
	rm -rf /tmp/fuzz_9p.* /tmp/fuzz_model.* /tmp/fuzz_ctl.*	# the mailboxes the runs made
	if [ $rc -eq 0 ]; then
		ok "$name fuzzing: $(grep -o 'Done [0-9]* runs' "$out" | tail -1) in $secs s, $(grep -o 'cov: [0-9]*' "$out" | tail -1), no crash"
	else
		notok "$name fuzzing failed (exit $rc)" "$(grep -E 'ERROR|SUMMARY|error|deadly|Test unit written' "$out" | head -20)"
	fi
done
tap_done
