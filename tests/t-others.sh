#!/usr/bin/env bash
# Nobody else let in.  As root, with a user made for the test (and
# removed after): mailfs's 9P service is a 0600 socket in a 0700
# directory of its owner's; a connection from another uid is refused
# even once the modes would let it in (SO_PEERCRED), while the owner's
# still works; the FUSE mount is not allow_other, so the other user can
# neither list nor read it.  (Part file names made safe, and save kept
# inside the mail directory, are checked in check_files.c, check_text.c
# and t-mailctl.py; the IMAP cache's modes in t-imap.py.)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
mailfs=${1:?usage: t-others.sh MAILFS}
if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null || ! command -v setpriv >/dev/null; then
	skip "another user kept out" "needs root, useradd and setpriv"
	tap_done
	exit
fi
T=$(mktemp -d)
chmod 755 "$T"
other=mfs-other-$$
cleanup() {
	fusermount3 -u "$T/mnt" 2>/dev/null
	pkill -u "$other" 2>/dev/null
	userdel "$other" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$other" || {
	notok "useradd $other failed"; tap_done; exit; }
# Debian's python3: the other user cannot run root's own (a pyenv under /root, say)
asother() { timeout 20 setpriv --reuid="$other" --regid="$(id -g "$other")" --clear-groups "$@"; }

export NAMESPACE=$T/ns
mkdir -p "$T/mnt"
cp "$top/testdata/sample.mbox" "$T/box"
cp "$mailfs" "$T/mailfs"
"$T/mailfs" -m "$T/mnt" -s t "$T/box" || { notok "mailfs did not start"; tap_done; exit; }
assert "the 9P service: a 0600 socket in a 0700 directory, both the owner's" \
	'[ "$(stat -c %a:%u "$NAMESPACE")" = "700:0" ] && [ "$(stat -c %a:%u "$NAMESPACE/t")" = "600:0" ]' \
	'stat -c "%n %a %u" "$NAMESPACE" "$NAMESPACE/t"'

dial='
import sys; sys.path.insert(0, sys.argv[1]); import p9client as p
try:
    c = p.connect(sys.argv[2], timeout=5)
    print("in:", c.catfile("mbox/1/subject")[0].decode())
except Exception as e:
    print("refused:", type(e).__name__)
'
chmod 755 "$NAMESPACE"
chmod 666 "$NAMESPACE/t"
out=$(asother /usr/bin/python3 -c "$dial" "$top/tests" "$NAMESPACE/t" 2>&1)
assert "another user, the modes opened to it (0755, 0666): its connection is refused, nothing read" \
	'case $out in refused:*) true ;; *) false ;; esac' 'echo "$out"'
out=$(python3 -c "$dial" "$top/tests" "$NAMESPACE/t" 2>&1)
assert "the owner's connection still gets in" '[ "$out" = "in: Lunch on Friday?" ]' 'echo "$out"'

out=$(asother ls "$T/mnt/mbox" 2>&1; asother cat "$T/mnt/mbox/1/subject" 2>&1; asother stat "$T/mnt" 2>&1)
assert "the mount is not allow_other: the other user can neither list nor read it, nor stat its root" \
	'[ "$(grep -c "Permission denied" <<<"$out")" = 3 ] && ! grep -q Lunch <<<"$out"' 'echo "$out"'
assert "and the owner still reads it" '[ "$(cat "$T/mnt/mbox/1/subject")" = "Lunch on Friday?" ]'
tap_done
