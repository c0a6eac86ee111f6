#!/usr/bin/env bash
# The README's main job, as a user runs it: tools/demo mounts the sample
# mailbox and shows it; what it shows is checked against the mbox file.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
tmp=$(mktemp -d)
trap 'fusermount3 -u "$tmp/mnt" 2>/dev/null; rm -rf "$tmp"' EXIT
if timeout 120 "$top/tools/demo" "$tmp/mnt" >"$tmp/out" 2>&1; then
	ok "tools/demo runs"
else
	notok "tools/demo failed" "$(cat "$tmp/out")"
fi
want=$(grep -c '^From ' "$top/testdata/sample.mbox")
listed=$(sed -n '/^\$ ls .*\/mbox$/,/^$/p' "$tmp/out" | grep -c '^[0-9][0-9]*$')
if [ "$listed" -eq "$want" ]; then ok "it lists all $want messages"; else notok "it lists $listed of $want"; fi
subj=$(sed -n 's/^Subject: //p' "$top/testdata/sample.mbox" | head -1)
if grep -qxF "$subj" "$tmp/out"; then ok "it shows the first subject"; else notok "no subject '$subj'"; fi
if grep -q "fusermount3 -u $tmp/mnt" "$tmp/out" && mountpoint -q "$tmp/mnt"; then
	ok "the mount stays up and the unmount command is shown"
else
	notok "no mount or no unmount hint"
fi

# a machine that lacks a package: one line naming the command, exit 1,
# nothing installed (a copy of tools/deps with a list of its own)
mkdir -p "$tmp/d/tools"
cp "$top/tools/deps" "$tmp/d/tools/deps"
echo mailfs-no-such-package >"$tmp/d/tools/deps.x"
out=$("$tmp/d/tools/deps" -c x 2>&1); rc=$?
if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
    printf '%s' "$out" | grep -q 'missing Debian packages: mailfs-no-such-package; run: tools/deps x'; then
	ok "a missing package: one line naming the command to run"
else
	notok "a missing package: exit $rc" "$out"
fi
if "$top/tools/deps" -c build test; then
	ok "every package of tools/deps.build and tools/deps.test is installed"
else
	notok "packages of the lists are missing"
fi
out=$(make -C "$top" 2>&1)
if printf '%s\n' "$out" | grep -q '^mailfs: libfuse 3\.'; then
	ok "make says which libfuse it builds with: $(printf '%s\n' "$out" | grep '^mailfs: libfuse' | cut -c9-)"
else
	notok "make says which libfuse it builds with" "$out"
fi
tap_done
