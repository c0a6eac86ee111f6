#!/usr/bin/env bash
# acme/amail posts mailfs as "mail" when nothing is posted, leaves a
# live service alone, and then runs Mail (a stand-in that records its
# start here, since plan9port is not installed for the tests).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
export NAMESPACE=$tmp/ns MAILFS=$top/mailfs/mailfs MAILCMD=$tmp/Mail
cleanup() { pkill -f "mailfs -s mail $tmp/box" 2>/dev/null; sleep 0.2; rm -rf "$tmp"; }
trap cleanup EXIT
mkdir -m 700 "$NAMESPACE"
cp "$top/testdata/sample.mbox" "$tmp/box"
printf '#!/bin/sh\necho started >>%s/mail-started\n' "$tmp" >"$MAILCMD"
chmod +x "$MAILCMD"
. "$top/tests/tap.sh"
timeout 20 "$top/acme/amail" "$tmp/box"
assert "amail posts mail and runs Mail" '[ -S "$NAMESPACE/mail" ] && [ "$(wc -l <"$tmp/mail-started")" = 1 ]'
assert "the posted service answers 9P" 'python3 -c "
import sys; sys.path.insert(0, \"$top/tests\"); import p9client as p
c = p.connect(\"$NAMESPACE/mail\"); assert c.catfile(\"mbox/1/subject\")[0] == b\"Lunch on Friday?\""'
timeout 20 "$top/acme/amail" "$tmp/box"
assert "a second amail leaves the live service and runs Mail again" \
	'[ "$(pgrep -fc "mailfs -s mail $tmp/box")" = 1 ] && [ "$(wc -l <"$tmp/mail-started")" = 2 ]'
assert "amail with two arguments: usage" '! "$top/acme/amail" a b 2>/dev/null'
assert "mailview refuses paths outside the mail tree" '! "$top/acme/mailview" ../x .pdf 2>/dev/null'
tap_done
