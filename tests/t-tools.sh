#!/usr/bin/env bash
# The scripting tools in tools/, on a mounted copy of the sample mailbox.
set -u
mailfs=${1:?usage: t-tools.sh MAILFS}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/mnt"
cp "$top/testdata/sample.mbox" "$tmp/box"
. "$top/tests/tap.sh"
timeout 20 "$mailfs" -m "$tmp/mnt" "$tmp/box" || { notok "mount"; tap_done; exit 1; }
box=$tmp/mnt/mbox
T=$top/tools

check "mlist lists 5 messages with their subjects" \
	bash -c "[ \$($T/mlist $box | wc -l) = 5 ] && $T/mlist $box | grep -qP '^1\t.*\tLunch on Friday\?\$'"
check "mlist shows the decoded subject of message 5" bash -c "$T/mlist $box | grep -q 'Grüße aus München'"
check "mlist without a box: usage, exit 2" bash -c "$T/mlist 2>&1 | grep -q '^usage: mlist'; [ \${PIPESTATUS[0]} = 2 ]"
check "msave copies 1 and 3 to another mbox" bash -c "$T/msave $box $tmp/kept.mbox 1 3 &&
	[ \$(grep -c '^From ' $tmp/kept.mbox) = 2 ] && grep -q '^Subject: Lunch on Friday' $tmp/kept.mbox"
check "msave with no numbers: usage, exit 2" bash -c "$T/msave $box $tmp/kept.mbox 2>/dev/null; [ \$? = 2 ]"
check "mdelete 2 deletes message 2, others keep their numbers" bash -c "$T/mdelete $box 2 &&
	[ ! -e $box/2 ] && [ \"\$(cat $box/5/subject)\" = 'Grüße aus München' ]"
check "mdelete -f subject -e Invoice deletes message 4" bash -c "$T/mdelete -f subject -e Invoice $box &&
	[ ! -e $box/4 ] && [ -e $box/3 ]"
check "mdelete of a missing message fails" bash -c "! $T/mdelete $box 42 2>/dev/null"
check "the mailbox file holds the 3 messages left" bash -c "[ \$(grep -c '^From ' $tmp/box) = 3 ]"
printf 'half a rewrite' >"$tmp/.box.mailfs-Ab12Cd"	# left by a killed mailfs
check "rmdir of a message directory deletes it" bash -c "rmdir $box/3 && [ ! -e $box/3 ] && [ \$(grep -c '^From ' $tmp/box) = 2 ]"
check "a rewrite removes the temporary file a killed one left" bash -c "[ ! -e $tmp/.box.mailfs-Ab12Cd ]"
check "rmdir of a part or a file is refused" bash -c "! rmdir $box/5/1 2>/dev/null && ! rm $box/5/subject 2>/dev/null"
check "root ctl: refresh mbox, and refresh of an unknown box fails" bash -c "echo 'refresh mbox' > $tmp/mnt/ctl && ! echo 'refresh nobox' > $tmp/mnt/ctl 2>/dev/null"
tap_done
