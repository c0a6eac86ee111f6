#!/usr/bin/env bash
# Mount every corpus mailbox and compare the whole tree (listing order,
# modes, sizes, content hashes) with testdata/trees/<box>.tree.
# usage: tests/t-tree.sh MAILFS [--update]
set -u
mailfs=${1:?usage: t-tree.sh MAILFS [--update]}
update=${2:-}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
tmp=$(mktemp -d)
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
export TZ=UTC
echo "1..$(ls "$top"/testdata/boxes/*.mbox "$top"/testdata/sample.mbox | wc -l)"
for box in "$top"/testdata/sample.mbox "$top"/testdata/boxes/*.mbox; do
	name=$(basename "$box" .mbox)
	mkdir -p "$tmp/mnt"
	if ! timeout 20 "$mailfs" -r -m "$tmp/mnt" "$box" 2>"$tmp/err"; then	# the corpus is read-only
		notok "$name: mount failed: $(cat "$tmp/err")"; continue
	fi
	# the deep corpus is 1000 levels; its depth is checked by the unit suite
	timeout 120 python3 "$top/tests/treedump.py" --maxdepth 12 "$tmp/mnt/mbox" >"$tmp/tree" 2>"$tmp/err"
	rc=$?
	alive=yes
	mountpoint -q "$tmp/mnt" && ls "$tmp/mnt/mbox" >/dev/null 2>&1 || alive=no
	timeout 10 fusermount3 -u "$tmp/mnt"
	if [ "$update" = --update ]; then
		cp "$tmp/tree" "$top/testdata/trees/$name.tree"
	fi
	if [ $rc -ne 0 ] || [ $alive = no ]; then
		notok "$name: dump rc=$rc server alive=$alive $(head -3 "$tmp/err")"
	elif ! diff -u "$top/testdata/trees/$name.tree" "$tmp/tree" >"$tmp/diff"; then
		notok "$name: tree differs" "$(head -20 "$tmp/diff")"
	else
		ok "$name: $(wc -l <"$tmp/tree") entries"
	fi
done
tap_done
