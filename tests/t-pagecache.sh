#!/usr/bin/env bash
# t-pagecache.sh: without passthrough (a kernel without it, a mailfs not
# root, or -o nopassthrough, as here), message files go into the
# kernel's page cache at their first open, so reading them costs no READ
# request; when the kernel has dropped those pages, a READ makes the
# content again; a file whose content changes is read anew.  Requests
# are counted in the -D trace.  t-passthrough.py checks the same with
# passthrough.
#
#	tests/t-pagecache.sh MAILFS_BINARY
#
# Dropping the page cache needs root (/proc/sys/vm/drop_caches); those
# checks are skipped otherwise.
set -u
export LC_ALL=C
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 MAILFS_BINARY" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.." || exit 2
. tests/tap.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/t-pagecache.XXXXXX") || exit 2
M=$T/mnt
trap 'fusermount3 -u "$M" 2>/dev/null; wait; rm -rf "$T"' EXIT
mkdir "$M"
cp testdata/sample.mbox "$T/box"

# -f -D: in the foreground, every request traced to the log
"$BIN" -f -D -o nopassthrough -m "$M" "$T/box" 2>"$T/log" &
for i in $(seq 100); do mountpoint -q "$M" && break; sleep 0.1; done
mountpoint -q "$M" || { echo "not ok 1 - mailfs did not mount"; cat "$T/log"; exit 1; }

# reads FILE: how many READ requests the trace shows for FILE's inode
reads() {
	local ino
	ino=$(stat -c %i "$1") || return 1
	grep -c "^fuse: read $ino " "$T/log"
}
first=$(timeout 10 cat "$M/mbox/1/info")
check "1/info reads (it names its subject)" grep -q '^subject ' <<<"$first"
check "and took no READ request: its content came with the open" test "$(reads "$M/mbox/1/info")" = 0
second=$(timeout 10 cat "$M/mbox/1/info")
check "a second read gives the same bytes, again with no READ" \
	test "$second" = "$first" -a "$(reads "$M/mbox/1/info")" = 0
body=$(timeout 10 cat "$M/mbox/2/body")
check "a body came with its open too" \
	test -n "$body" -a "$(reads "$M/mbox/2/body")" = 0

if [ -w /proc/sys/vm/drop_caches ]; then
	sync
	echo 1 >/proc/sys/vm/drop_caches
	third=$(timeout 10 cat "$M/mbox/1/info")
	check "after the kernel dropped its pages, 1/info reads the same" test "$third" = "$first"
	check "through a READ request, the content made again" test "$(reads "$M/mbox/1/info")" -ge 1
	body2=$(timeout 10 cat "$M/mbox/2/body")
	check "and so does 2/body" test "$body2" = "$body" -a "$(reads "$M/mbox/2/body")" -ge 1
else
	skip "after the kernel dropped its pages, 1/info reads the same" "not root"
	skip "through a READ request, the content made again" "not root"
	skip "and so does 2/body" "not root"
fi

# a file whose content changes: its pushed pages must not outlive the change
before=$(timeout 10 cat "$M/mbox/3/flags")
infobefore=$(timeout 10 cat "$M/mbox/3/info")
echo +f >"$M/mbox/3/flags"
after=$(timeout 10 cat "$M/mbox/3/flags")
check "3/flags, read before and after +f, shows the new flag" \
	test "$before" != "$after" -a "${after:3:1}" = f
infoafter=$(timeout 10 cat "$M/mbox/3/info")
check "and 3/info, read before too, says so now" \
	test "$(grep '^flags' <<<"$infobefore")" != "$(grep '^flags' <<<"$infoafter")" -a \
	"$(grep '^flags' <<<"$infoafter")" = "flags $after"

# a descriptor opened before a change reads again after it: that READ
# must not put the old content back in the page cache for later opens
held=$(python3 - "$M/mbox/4" <<'PY'
import sys, time
d = sys.argv[1]
f = open(d + "/info", "rb")
f.read()
with open(d + "/flags", "w") as w:
    w.write("+f\n")
time.sleep(0.5)	# the invalidation goes out from a thread of its own
f.seek(0)
f.read()
f.close()
print(open(d + "/flags").read().strip())
PY
)
check "after a change, a READ through a descriptor opened before it puts back no stale page" \
	grep -qx "flags $held" <(timeout 10 cat "$M/mbox/4/info")

fusermount3 -u "$M"
wait
check "the server ended cleanly after the unmount" true
echo "1..$n"
[ "$failed" -eq 0 ]
