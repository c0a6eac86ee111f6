#!/usr/bin/env bash
# Another program rewrites or cuts the mailbox under a running mailfs:
# it reads it again, messages still there keep their numbers, gone ones
# leave, nothing crashes.  usage: tests/t-reread.sh MAILFS
set -u
mailfs=${1:?usage: t-reread.sh MAILFS}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/mnt"
cp "$top/testdata/sample.mbox" "$tmp/box"
. "$top/tests/tap.sh"
# check DESCRIPTION EXPR: on failure, the listing it saw
check() { assert "$1" "$2" 'ls "$tmp/mnt/mbox" | tr "\n" " "'; }
listing() { ls "$tmp/mnt/mbox" | grep -E '^[0-9]+$' | sort -n | tr '\n' ' '; }
# messages of the sample by position, as a strict mbox splitter sees them
keep() {	# keep N...: rewrite box keeping those messages, through a rename
	python3 - "$tmp/box" "$@" <<'PY'
import os, re, sys
data = open(sys.argv[1], "rb").read()
starts = [0] + [m.start() + 1 for m in re.finditer(rb"\n\nFrom [^\n]*\d\d:\d\d:\d\d \d{4}\n", data)]
starts = [s + 1 if data[s:s+1] == b"\n" else s for s in starts]
msgs = [data[s:e] for s, e in zip(starts, starts[1:] + [len(data)])]
out = b"".join(msgs[int(k) - 1] for k in sys.argv[2:])
tmp = sys.argv[1] + ".new"
open(tmp, "wb").write(out)
os.rename(tmp, sys.argv[1])
PY
}
timeout 20 "$mailfs" -m "$tmp/mnt" "$tmp/box" || exit 1
subject5=$(cat "$tmp/mnt/mbox/5/subject")
keep 1 3 4 5
echo refresh >"$tmp/mnt/mbox/ctl"
check "replaced without message 2: 1 3 4 5 keep their numbers" '[ "$(listing)" = "1 3 4 5 " ]'
check "message 5 is still message 5" '[ "$(cat "$tmp/mnt/mbox/5/subject")" = "$subject5" ]'
# cut in place, as mutt rewrites: under the fcntl lock and the dotlock
python3 - "$tmp/box" <<'PY'
import fcntl, os, re, sys
path = sys.argv[1]
lock = os.open(path + ".lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
with open(path, "r+b") as f:
    fcntl.lockf(f, fcntl.LOCK_EX)
    d = f.read()
    f.seek(0)
    f.truncate([m.start() + 2 for m in re.finditer(rb"\n\nFrom ", d)][1])
    f.flush()
    os.fsync(f.fileno())
os.close(lock)
os.unlink(path + ".lock")
PY
echo refresh >"$tmp/mnt/mbox/ctl"
check "cut in place to its first two messages: 1 3 stay" '[ "$(listing)" = "1 3 " ]'
# delivered as an agent does, under the fcntl lock: mailfs reads under it too
python3 -c '
import fcntl, sys
with open(sys.argv[1], "ab") as f:
    fcntl.lockf(f, fcntl.LOCK_EX)
    f.write(b"From x@example.org Fri Jul  3 09:00:00 2026\nSubject: later\n\nhi\n\n")
' "$tmp/box"
for i in $(seq 50); do [ -e "$tmp/mnt/mbox/6" ] && break; sleep 0.1; done	# noticed by itself
check "mail delivered afterwards gets a new number, 6" '[ "$(listing)" = "1 3 6 " ] && [ "$(cat "$tmp/mnt/mbox/6/subject")" = later ]'
echo "garbage, not an mbox" >"$tmp/box"
echo refresh >"$tmp/mnt/mbox/ctl" 2>/dev/null
check "a mailbox that is no mbox any more: refresh fails, mailfs serves on" 'ls "$tmp/mnt/mbox" >/dev/null'
tap_done
