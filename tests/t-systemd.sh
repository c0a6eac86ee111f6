#!/usr/bin/env bash
# The systemd user unit, mailfs@NAME, as tools/install writes it:
# systemd-analyze verify finds nothing wrong; then, under a systemd user
# instance of the test's own (in a mount namespace of its own, where
# /run/systemd/system says systemd runs, since this machine's init is
# not systemd), start mounts and posts the mailbox of NAME.conf and
# returns once it can be read, a killed mailfs is started again, stop
# unmounts, and a missing or incomplete configuration fails the start.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"

if [ "${1:-}" = --instance ]; then	# inside the namespace: the user instance part
	T=$2 n=$3 failed=$4	# the checks so far, counted on from here
	if [ -d /run/systemd ]; then mount -t tmpfs tmpfs /run/systemd; else mount -t tmpfs tmpfs /run; mkdir -p /run/systemd; fi
	mkdir -p /run/systemd/system
	export XDG_RUNTIME_DIR=$T/run HOME=$T/home XDG_CONFIG_HOME=$T/config
	mkdir -p -m 700 "$XDG_RUNTIME_DIR" && mkdir -p "$HOME" "$XDG_CONFIG_HOME/systemd/user" "$XDG_CONFIG_HOME/mailfs"
	mkdir -m 700 "$T/ns"
	ln -s "$T/p/lib/systemd/user/mailfs@.service" "$XDG_CONFIG_HOME/systemd/user/"
	cp "$top/testdata/sample.mbox" "$T/box"
	printf 'MAILBOX=%s\nMOUNT=%s\nNAMESPACE=%s\nOPTIONS=-s demo -o timeout=30\n' "$T/box" "$T/mnt" "$T/ns" >"$XDG_CONFIG_HOME/mailfs/demo.conf"
	printf 'MAILBOX=%s\n' "$T/box" >"$XDG_CONFIG_HOME/mailfs/nomount.conf"
	# services' output to this log: there is no journal here
	/lib/systemd/systemd --user --default-standard-output=inherit --default-standard-error=inherit >"$T/manager.log" 2>&1 &
	mgr=$!
	sc() { timeout 30 systemctl --user "$@"; }
	for _ in $(seq 100); do sc is-system-running >/dev/null 2>&1 && break; sleep 0.1; done
	assert "a systemd user instance runs" 'sc is-system-running >/dev/null'
	sc start mailfs@demo.service
	assert "systemctl --user start mailfs@demo: the mailbox is mounted and readable when it returns" \
		'mountpoint -q "$T/mnt" && [ "$(cat "$T/mnt/mbox/1/subject")" = "Lunch on Friday?" ]'
	assert "and posted over 9P as OPTIONS says, in the configured NAMESPACE" 'python3 -c "
import sys; sys.path.insert(0, \"$top/tests\"); import p9client as p
c = p.connect(\"$T/ns/demo\"); assert c.catfile(\"mbox/1/subject\")[0] == b\"Lunch on Friday?\""'
	pid=$(sc show -p MainPID --value mailfs@demo.service)
	kill -9 "$pid"
	for _ in $(seq 100); do
		new=$(sc show -p MainPID --value mailfs@demo.service)
		[ "$new" != 0 ] && [ "$new" != "$pid" ] && [ "$(sc is-active mailfs@demo.service)" = active ] && break
		sleep 0.1
	done
	assert "mailfs killed (-9): systemd starts it again (Restart=on-failure), mounted again" \
		'[ "$new" != 0 ] && [ "$new" != "$pid" ] && [ "$(cat "$T/mnt/mbox/2/subject")" = "Re: Lunch on Friday?" ]'
	sc stop mailfs@demo.service
	assert "systemctl --user stop: unmounted, mailfs gone, the service inactive" \
		'! mountpoint -q "$T/mnt" && ! kill -0 "$new" 2>/dev/null && [ "$(sc is-active mailfs@demo.service)" = inactive ]'
	assert "a NAME without NAME.conf: the start fails" '! sc start mailfs@nosuch.service 2>/dev/null'
	assert "a NAME.conf without MOUNT: the start fails, and says what to set" \
		'! sc start mailfs@nomount.service 2>/dev/null && grep -q "mailfs@nomount: set MAILBOX and MOUNT in $XDG_CONFIG_HOME/mailfs/nomount.conf" "$T/manager.log"' 'tail -5 "$T/manager.log"'
	kill "$mgr"
	wait "$mgr" 2>/dev/null
	tap_done
	exit
fi

T=$(mktemp -d)
trap 'fusermount3 -u "$T/mnt" 2>/dev/null; rm -rf "$T"' EXIT
PREFIX=$T/p "$top/tools/install" >/dev/null
unit=$T/p/lib/systemd/user/mailfs@.service
assert "installed as PREFIX/lib/systemd/user/mailfs@.service, running PREFIX/bin/mailfs" \
	'grep -qxF "ExecStart=$T/p/bin/mailfs -f -m \${MOUNT} \$OPTIONS \${MAILBOX}" "$unit"'
if ! command -v systemd-analyze >/dev/null; then
	skip "systemd-analyze verify" "no systemd-analyze here"
else
	mkdir -p -m 700 "$T/xdg" "$T/units"
	cp "$unit" "$T/units/mailfs@demo.service"	# an instance of the template
	assert "systemd-analyze verify --user: nothing to report (man:mailfs(1) found in the installed pages)" \
		'[ -z "$(cd "$T/units" && XDG_RUNTIME_DIR=$T/xdg MANPATH=$T/p/share/man systemd-analyze verify --user "$T/units/mailfs@demo.service" 2>&1)" ]' \
		'(cd "$T/units" && XDG_RUNTIME_DIR=$T/xdg MANPATH=$T/p/share/man systemd-analyze verify --user "$T/units/mailfs@demo.service" 2>&1)'
fi
if [ "$(id -u)" != 0 ] || [ ! -x /lib/systemd/systemd ] || ! command -v unshare >/dev/null; then
	skip "start, restart and stop under a systemd user instance" "needs root, unshare and /lib/systemd/systemd"
	tap_done
	exit
fi
unshare -m --propagation private "$0" --instance "$T" "$n" "$failed"
