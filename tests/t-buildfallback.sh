#!/usr/bin/env bash
# t-buildfallback.sh: without the newer libfuse that make deps builds
# (build/fuse3), mailfs builds with the system's older one (Debian 12's
# 3.14), says so in one line at build time and in -D output, mounts and
# serves; the passthrough tests then skip, saying why.  The source is
# built in a copy, so the checkout's build is left alone.
#
#	tests/t-buildfallback.sh
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
top=$(pwd)
. tests/tap.sh
if pkg-config --atleast-version=3.17 fuse3 2>/dev/null; then
	skip "a build on an older libfuse" "the system's libfuse $(pkg-config --modversion fuse3) is new enough: there is no fallback"
	tap_done
	exit
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/t-buildfallback.XXXXXX") || exit 2
trap 'fusermount3 -u "$T/m" 2>/dev/null; wait; rm -rf "$T"' EXIT
mkdir -p "$T/src" "$T/m"
cp -r Makefile mailfs tools "$T/src/"
find "$T/src/mailfs" -name '*.o' -delete
rm -f "$T/src/mailfs/mailfs"
out=$(make -C "$T/src" -j2 2>&1)
rc=$?
sys=$(pkg-config --modversion fuse3)
assert "make builds mailfs without build/fuse3 (status $rc)" '[ "$rc" -eq 0 ] && [ -x "$T/src/mailfs/mailfs" ]' 'echo "$out" | tail -5'
line=$(grep -m1 '^mailfs: libfuse' <<<"$out")
assert "and says in one line which libfuse it used, and what is missing: ${line#mailfs: }" \
	'[ "$line" = "mailfs: libfuse $sys (the system'"'"'s) without FUSE passthrough: make deps builds a newer one" ]' 'echo "$line"'
cp testdata/sample.mbox "$T/box"
"$T/src/mailfs/mailfs" -f -D -m "$T/m" "$T/box" 2>"$T/log" &
pid=$!
for _ in $(seq 100); do mountpoint -q "$T/m" && break; sleep 0.1; done
subject=$(timeout 10 cat "$T/m/mbox/1/subject")
body=$(timeout 10 cat "$T/m/mbox/4/2/filename")
assert "it mounts and serves: 1/subject and 4/2/filename read" \
	'[ "$subject" = "Lunch on Friday?" ] && [ "$body" = "invoice-2026-07.pdf" ]' 'echo "$subject / $body"; tail -3 "$T/log"'
pt=$(grep -m1 '^fuse: passthrough: ' "$T/log")
assert "-D says passthrough is off and why: ${pt#fuse: }" '[[ $pt == "fuse: passthrough: off, libfuse older than 3.17"* ]]' 'grep "^fuse: " "$T/log" | head -3'
tr=$(grep -m1 '^fuse: transport: ' "$T/log")
assert "and that there is no request timeout: ${tr#fuse: }" '[[ $tr == *"request timeout: none (libfuse older than 3.18)" ]]' 'echo "$tr"'
fusermount3 -u "$T/m"
wait "$pid"
sk=$(env -u MAILFS_REQUIRE_PASSTHROUGH python3 tests/t-passthrough.py "$T/src/mailfs/mailfs" 2>&1)
skipline=$(grep -m1 '# SKIP' <<<"$sk")
assert "the passthrough tests skip on it, saying why: ${skipline##*# SKIP }" \
	'grep -q "^ok 1 - passthrough checks # SKIP libfuse older than 3.17" <<<"$sk"' 'echo "$sk" | head -5'
tap_done
