#!/usr/bin/env bash
# Full file systems and too few descriptors (as root: small tmpfs
# mounts of the test's own).
#  - the container cache's file system full: every file is still served,
#    and right (the tree equals its golden dump), from memory;
#  - the mail directory full during a save: the save fails with ENOSPC,
#    the destination mailbox is byte for byte what it was;
#  - the mailbox's file system full during a rewrite (a delete): the
#    delete fails with ENOSPC, the mailbox is byte for byte what it was,
#    its messages still listed, and mailfs goes on;
#  - descriptors scarce (mailfs under a limit of 64, and of 12): many
#    opens held at once, each read right (an open mailfs could not serve
#    would fail with EMFILE), and once they are closed opens work again
#    and mailfs holds as many descriptors as before.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
mailfs=${1:?usage: t-full.sh MAILFS}
if [ "$(id -u)" != 0 ] || ! command -v prlimit >/dev/null; then
	skip "full file systems and descriptor exhaustion" "needs root (tmpfs mounts) and prlimit"
	tap_done
	exit
fi
T=$(mktemp -d)
cleanup() {
	for m in "$T"/mnt*; do fusermount3 -u "$m" 2>/dev/null; done
	for m in "$T/run" "$T/home/mail" "$T/small"; do umount "$m" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
export TZ=UTC HOME=$T/home NAMESPACE=$T/ns
mkdir -p "$T/run" "$T/home/mail" "$T/small" "$T/mnt1" "$T/mnt2" "$T/mnt3" "$T/mnt4"
mkdir -m 700 "$NAMESPACE"
# ctl FILE CMD: write CMD and close, as the mount applies it at the close; the error, if any
ctl() { python3 -c '
import sys
try:
    with open(sys.argv[1], "w") as f:
        f.write(sys.argv[2] + "\n")
except OSError as e:
    print(e.strerror)' "$@"; }
# fill FS leaving about LEFT kilobytes free
fill() { dd if=/dev/zero of="$1/filler" bs=1k count=$(( $(df -k --output=avail "$1" | tail -1) - $2 )) 2>/dev/null; }

# the container cache full
mount -t tmpfs -o size=512k tmpfs "$T/run" && chmod 700 "$T/run"
fill "$T/run" 8
XDG_RUNTIME_DIR=$T/run TMPDIR=$T/run "$mailfs" -r -m "$T/mnt1" "$top/testdata/boxes/mixed.mbox"
python3 "$top/tests/treedump.py" --maxdepth 12 "$T/mnt1/mbox" >"$T/tree" 2>"$T/err"
assert "the container cache's file system full: every file of mixed.mbox still served, equal to its golden tree" \
	'diff -q "$top/testdata/trees/mixed.tree" "$T/tree" >/dev/null' 'diff "$top/testdata/trees/mixed.tree" "$T/tree" | head -5; cat "$T/err"'
fusermount3 -u "$T/mnt1"

# the mail directory full during a save
mount -t tmpfs -o size=256k tmpfs "$T/home/mail"
cp "$top/testdata/boxes/mixed.mbox" "$T/box"
cp "$top/testdata/boxes/plain.mbox" "$T/home/mail/stored"
fill "$T/home/mail" 2
before=$(sha256sum <"$T/home/mail/stored")
"$mailfs" -m "$T/mnt2" "$T/box"
err=$(ctl "$T/mnt2/mbox/ctl" "save stored 1")
assert "the mail directory full: save fails with ENOSPC, and says so" \
	'grep -q "No space left on device" <<<"$err"' 'echo "$err"'
assert "and the destination mailbox is byte for byte what it was" '[ "$(sha256sum <"$T/home/mail/stored")" = "$before" ]'
fusermount3 -u "$T/mnt2"

# the mailbox's file system full during a rewrite
mount -t tmpfs -o size=256k tmpfs "$T/small"
cp "$top/testdata/boxes/mixed.mbox" "$T/small/box"
fill "$T/small" 2
before=$(sha256sum <"$T/small/box")
"$mailfs" -m "$T/mnt3" "$T/small/box"
nmsg=$(ls "$T/mnt3/mbox" | grep -c '^[0-9]')
err=$(ctl "$T/mnt3/mbox/ctl" "delete mbox 1")
assert "the mailbox's file system full: a delete fails with ENOSPC" \
	'grep -q "No space left on device" <<<"$err"' 'echo "$err"'
assert "the mailbox is byte for byte what it was, its $nmsg messages all listed, and mailfs reads on" \
	'[ "$(sha256sum <"$T/small/box")" = "$before" ] && [ "$(ls "$T/mnt3/mbox" | grep -c "^[0-9]")" = "$nmsg" ] && [ -s "$T/mnt3/mbox/1/body" ]'  'echo "sha $(sha256sum <"$T/small/box") was $before"; ls "$T/mnt3/mbox" | tr "\n" " "; ls -la "$T/small"'
rm -f "$T/small/filler"
err=$(ctl "$T/mnt3/mbox/ctl" "delete mbox 1")
assert "with room again the same delete works" '[ -z "$err" ] && [ ! -e "$T/mnt3/mbox/1" ]' 'echo "$err"'
fusermount3 -u "$T/mnt3"

# descriptors scarce
# (mailfs holds no descriptor for an open: it hands the kernel one and
# closes its own, so even 12 are enough; without passthrough too)
for run in "64 " "12 " "12 -onopassthrough"; do
lim=${run%% *} opts=${run#* }
prlimit --nofile="$lim:$lim" "$mailfs" $opts -m "$T/mnt4" "$top/testdata/boxes/mixed.mbox"
pid=$(pgrep -n -f "^$mailfs $opts ?-m $T/mnt4 ")
fds0=$(ls /proc/"$pid"/fd | wc -l)
out=$(python3 - "$T/mnt4/mbox" <<'PY'
import errno, os, sys
box = sys.argv[1]
paths = [os.path.join(box, m, f) for m in sorted(os.listdir(box)) if m.isdigit()
         for f in ("body", "raw", "header", "info", "subject", "from", "to", "date", "text", "rawbody", "size", "lines")]
paths += [os.path.join(dp, f) for dp, _, fs in os.walk(box) for f in fs if f in ("body", "raw")]
held, failed, wrong = [], 0, 0
for p in paths * 3:
    try:
        held.append((p, os.open(p, os.O_RDONLY)))
    except OSError as e:
        failed += e.errno in (errno.EMFILE, errno.ENFILE, errno.EIO, errno.ENOMEM)
for p, fd in held:
    data = os.read(fd, 1 << 20)
    with open(p, "rb") as f:
        pass
    wrong += len(data) != os.fstat(fd).st_size
for _, fd in held:
    os.close(fd)
ok = 0
for p in paths[:20]:
    try:
        with open(p, "rb") as f:
            f.read()
        ok += 1
    except OSError:
        pass
print(len(held), failed, wrong, ok)
PY
)
sleep 1
fds1=$(ls /proc/"$pid"/fd | wc -l)
read -r held failed wrong again <<<"$out"
assert "${opts:-passthrough}, mailfs limited to $lim descriptors: $held opens held and read right, $failed refused (EMFILE), none wrong" \
	'[ "$held" -gt 0 ] && [ "$wrong" = 0 ]' 'echo "$out"'
assert "${opts:-passthrough}: once they are closed, opens work again (20 of 20) and mailfs holds $fds1 descriptors, as before ($fds0)" \
	'[ "$again" = 20 ] && [ "$fds1" -le "$fds0" ] && kill -0 "$pid"' 'echo "$out; fds $fds0 -> $fds1"'
fusermount3 -u "$T/mnt4"
done
tap_done
