#!/usr/bin/env bash
# Short libFuzzer runs, as regression checks (make fuzz runs them for
# longer): the 9P decoder and request handler, and the HTML renderer.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
secs=${FUZZTIME:-15}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# fuzz NAME MAXLEN SEEDS: build build/fuzz_NAME and run it for secs seconds
fuzz() {
	local name=$1 maxlen=$2 seeds=$3 rc
	cd "$top" && make -s "build/fuzz_$name" >"$out" 2>&1 && mkdir -p "build/fuzz-corpus-$name" &&
		SRCDIR=$top ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
		"build/fuzz_$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -artifact_prefix=build/ \
		"build/fuzz-corpus-$name" "$seeds" >"$out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$name fuzzing: $(grep -o 'Done [0-9]* runs' "$out" | tail -1) in $secs s, no crash"
	else
		notok "$name fuzzing failed (exit $rc)" "$(grep -E 'ERROR|SUMMARY|error|deadly' "$out" | head -20)"
	fi
}

fuzz 9p 4096 tests/fuzz-seeds
rm -f /tmp/fuzz_9p.*	# the mailbox copies the runs changed
fuzz html 65536 tests/fuzz-seeds-html
tap_done
