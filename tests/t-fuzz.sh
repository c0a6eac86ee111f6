#!/usr/bin/env bash
# A short libFuzzer run of the 9P decoder and request handler, as a
# regression check; make fuzz runs it for longer.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
secs=${FUZZTIME:-15}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cd "$top" && make -s build/fuzz_9p >"$out" 2>&1 && mkdir -p build/fuzz-corpus &&
	SRCDIR=$top ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
	build/fuzz_9p -max_total_time="$secs" -max_len=4096 -timeout=10 -artifact_prefix=build/ \
	build/fuzz-corpus tests/fuzz-seeds >"$out" 2>&1
rc=$?
rm -f /tmp/fuzz_9p.*	# the mailbox copies the runs changed
if [ $rc -eq 0 ]; then
	ok "9P fuzzing: $(grep -o 'Done [0-9]* runs' "$out" | tail -1) in $secs s, no crash"
else
	notok "9P fuzzing failed (exit $rc)" "$(grep -E 'ERROR|SUMMARY|error' "$out" | head -20)"
fi
tap_done
