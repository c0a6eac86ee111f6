#!/usr/bin/env bash
# mailfs reads an mbox only when no delivery holds it: it waits for an
# exclusive fcntl lock and for a fresh dotlock to go, and ignores a
# stale dotlock.  usage: tests/t-lock.sh MAILFS
set -u
mailfs=${1:?usage: t-lock.sh MAILFS}
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
tmp=$(mktemp -d)
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir "$tmp/mnt"
cp "$top/testdata/sample.mbox" "$tmp/box"

# seconds mailfs took to mount while something held the box
timed() {
	local t0 t1
	t0=$(date +%s%N)
	timeout 20 "$mailfs" -m "$tmp/mnt" "$tmp/box" || echo "mount failed" >&2
	t1=$(date +%s%N)
	ls "$tmp/mnt/mbox" | grep -c '^[0-9]*$' >"$tmp/count"
	fusermount3 -u "$tmp/mnt"
	echo $(((t1 - t0) / 1000000))
}

python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(1.5)
' "$tmp/box" "$tmp/locked" &
while [ ! -e "$tmp/locked" ]; do sleep 0.05; done
ms=$(timed)
wait
if [ "$ms" -ge 1000 ] && [ "$(cat "$tmp/count")" = 5 ]; then
	ok "waited ${ms} ms for a delivery's fcntl lock"
else
	notok "fcntl lock: mounted after ${ms} ms with $(cat "$tmp/count") messages"
fi

touch "$tmp/box.lock"
(sleep 1; rm -f "$tmp/box.lock") &
ms=$(timed)
wait
if [ "$ms" -ge 900 ]; then ok "waited ${ms} ms for a fresh dotlock"; else notok "dotlock: ${ms} ms"; fi

touch -d '1 hour ago' "$tmp/box.lock"
ms=$(timed)
if [ "$ms" -lt 900 ]; then ok "a stale dotlock is ignored (${ms} ms)"; else notok "stale dotlock: ${ms} ms"; fi

# a dotlock that names a dead process (a killed mailfs leaves one) is stale
sh -c 'echo $$ >"$1"' sh "$tmp/box.lock"
ms=$(timed)
if [ "$ms" -lt 900 ]; then ok "a dotlock of a dead process is stale (${ms} ms)"; else notok "dead pid's dotlock: ${ms} ms"; fi
timeout 20 "$mailfs" -m "$tmp/mnt" "$tmp/box"
sh -c 'echo $$ >"$1"' sh "$tmp/box.lock"
t0=$(date +%s%N)
echo "delete 1" >"$tmp/mnt/mbox/ctl"
rc=$?
t1=$(date +%s%N)
fusermount3 -u "$tmp/mnt"
if [ $rc -eq 0 ] && [ $(((t1 - t0) / 1000000)) -lt 900 ] && [ ! -e "$tmp/box.lock" ] && [ "$(grep -c '^From ' "$tmp/box")" = 4 ]; then
	ok "a delete takes over a dead process's dotlock and removes its own"
else
	notok "delete with a dead process's dotlock: rc $rc, $(((t1 - t0) / 1000000)) ms"
fi
tap_done
