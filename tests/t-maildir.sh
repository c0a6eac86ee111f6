#!/usr/bin/env bash
# t-maildir.sh: a Maildir served through the mount.  The sample mbox is
# split into a Maildir (tests' own copy); its tree must equal the mbox's
# but for the envelope and the flags, which come from the file names;
# flag changes rename files, a delete unlinks exactly its file, new mail
# shows up by itself, and mail delivered while deletes run is never
# lost.  What is checked on disk is read by Python, not by mailfs.
#
#	tests/t-maildir.sh MAILFS_BINARY
#
# Prints TAP; exits 1 if a check failed, 2 on bad usage.  Needs FUSE,
# fusermount3 and python3.  For a sanitized binary the reports go to
# files (a daemonized mailfs has no stderr), and the last check looks
# for them unless the caller set log_path itself.
set -u
export LC_ALL=C TZ=UTC

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 MAILFS_BINARY" >&2
	exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
top=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/t-maildir.XXXXXX") || exit 2
mkdir "$T/san" "$T/mnt" "$T/mbmnt" "$T/svmnt"
OWNSAN=
case ${ASAN_OPTIONS:-} in *log_path=*) ;; *) OWNSAN=1; export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/san/asan" ;; esac
case ${UBSAN_OPTIONS:-} in *log_path=*) ;; *) export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/san/ubsan:print_stacktrace=1" ;; esac
BG=()	# our background helpers
cleanup() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null; done
	for m in "$T/mnt" "$T/mbmnt"; do
		mountpoint -q "$m" 2>/dev/null && timeout 10 fusermount3 -u "$m" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. "$top/tests/tap.sh"

H="python3 $T/h.py"
cat >"$T/h.py" <<'EOF'
import os, re, sys, time

FROM = re.compile(rb"^From \S*[^\n]* \d\d:\d\d:\d\d \d{4}\n", re.M)

def split(mbox):
    """the messages of an mbox, envelope lines dropped, mboxrd quoting undone"""
    data = open(mbox, "rb").read()
    starts = [m.start() for m in FROM.finditer(data)]
    out = []
    for s, e in zip(starts, starts[1:] + [len(data)]):
        msg = data[s:e]
        msg = msg[msg.index(b"\n") + 1:]
        if msg.endswith(b"\n\n"):
            msg = msg[:-1]	# the separator, or the blank line mailfs drops at the end
        out.append(re.sub(rb"(?m)^>(>*From )", rb"\1", msg))
    return out

def mkmaildir(mbox, d, *where):
    """message k goes to where[k-1]: "new", or "cur:2,<letters>" """
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    for k, msg in enumerate(split(mbox), 1):
        w = where[k - 1] if k <= len(where) else "new"
        name = "%d.M%dP%d.testhost" % (1780000000 + 60 * k, k, os.getpid())
        if w.startswith("cur"):
            name, w = name + w[3:], "cur"
        open(os.path.join(d, w, name), "wb").write(msg)
    print(len(split(mbox)))

def files(d):
    """every message file, as dir/name"""
    return sorted("%s/%s" % (sub, f) for sub in ("cur", "new") for f in os.listdir(os.path.join(d, sub)))

def ls(d):
    print("\n".join(files(d)))

def subject(path):
    m = re.search(rb"(?mi)^Subject: (.*)$", open(path, "rb").read())
    return m.group(1).decode() if m else ""

def subjects(d):
    for f in files(d):
        print(subject(os.path.join(d, f)))

def deliver(d, n):
    """n messages, as a delivery agent: written in tmp/, renamed into new/"""
    for k in range(n):
        name = "%d.M%dP%dQ%d.testhost" % (time.time(), time.time_ns() // 1000 % 1000000, os.getpid(), k)
        tmp = os.path.join(d, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(b"From: deliver@example.org\nSubject: deliv %d\n\nbody %d\n" % (k, k))
        os.rename(tmp, os.path.join(d, "new", name))
        time.sleep(0.004)

def churn(mnt, count):
    """delete count listed messages, one at a time: print each one's subject"""
    r, end = 0, time.time() + 60
    while r < count and time.time() < end:
        ids = sorted(int(x) for x in os.listdir(mnt + "/mbox") if x.isdigit())
        if not ids:
            time.sleep(0.01)
            continue
        victim = ids[(r * 7) % len(ids)]
        r += 1
        try:
            s = subject("%s/mbox/%d/rawheader" % (mnt, victim))
            with open(mnt + "/ctl", "w") as f:
                f.write("delete mbox %d\n" % victim)
        except OSError as e:
            print("error %s" % e, file=sys.stderr)
            sys.exit(1)
        print(s)

def want(before, delivered, deleted):
    """what should be on disk: before and delivered, less deleted, each once"""
    rd = lambda p: [l.rstrip("\n") for l in open(p)]
    left = rd(before) + rd(delivered)
    for s in rd(deleted):
        left.remove(s)
    print("\n".join(sorted(left)))

getattr(sys.modules[__name__], sys.argv[1])(*[int(a) if a.isdigit() else a for a in sys.argv[2:]])
EOF

# the sample as an mbox (read-only) and as a Maildir: 1 seen, 2 new, 3 replied, 4 flagged, 5 new
cp "$top/testdata/sample.mbox" "$T/sample.mbox"
MD=$T/Maildir
nmsgs=$($H mkmaildir "$T/sample.mbox" "$MD" "cur:2,S" new "cur:2,SR" "cur:2,aFS" new)
MDFILES=$($H ls "$MD")
uid() { echo "$MDFILES" | grep "M$1P" | sed 's|^.../||; s|:2,.*||'; }	# unique name of sample message N
files() { $H ls "$MD"; }
listing() { ls "$1" | grep -E '^[0-9]+$' | sort -n | tr '\n' ' '; }
flags() { for i in "$@"; do cat "$T/mnt/mbox/$i/flags"; echo; done | tr '\n' ' '; }
# ctlwrite FILE LINE: the line written and the file closed, which applies it; fails as the close does
ctlwrite() { python3 -c 'import sys; f = open(sys.argv[1], "w"); f.write(sys.argv[2] + "\n"); f.close()' "$@"; }

check "mailfs mounts a Maildir" timeout 20 "$BIN" -m "$T/mnt" "$MD"
check "and the same messages as an mbox" timeout 20 "$BIN" -r -m "$T/mbmnt" "$T/sample.mbox"
check "the listing has the $nmsgs messages, numbered in delivery order" \
	test "$(listing "$T/mnt/mbox")" = "$(seq -s ' ' "$nmsgs") "
# the whole trees agree, but for what the envelope and the flags make
tree() {
	timeout 60 python3 "$top/tests/treedump.py" "$1" |
		grep -v -E '^[0-9]+/(unixdate|unixheader|rawunix|info|flags|digest)	' | sort
}
tree "$T/mbmnt/mbox" >"$T/mbtree"
tree "$T/mnt/mbox" >"$T/mdtree"
check "every file of every message and part equals the mbox's (subject, body, raw, parts...)" \
	diff "$T/mbtree" "$T/mdtree"
sameas() { cmp "$T/mnt/mbox/$1" "$T/mbmnt/mbox/$1"; }
check "subject and body of message 5 are the mbox's" \
	eval 'sameas 5/subject && sameas 5/body && grep -q München "$T/mnt/mbox/5/subject"'
check "no envelope in raw: it starts with the header" eval '! head -c 5 "$T/mnt/mbox/1/raw" | grep -q "^From "'
check "the flags files say the file names' flags (S, new/, RS, F and an unknown a)" \
	test "$(flags 1 2 3 4 5)" = "-----s- ----r-- a----s- ---f-s- ----r-- "

echo 'read 2' >"$T/mnt/mbox/ctl"
check "read 2 moves its file from new/ to cur/ with :2,S" test "$(files | grep "M2P")" = "cur/$(uid 2):2,S"
check "and its flags file says seen, no longer recent" test "$(flags 2)" = "-----s- "
echo +f >"$T/mnt/mbox/3/flags"
check "writing +f to 3/flags renames its file to :2,FRS" test "$(files | grep "M3P")" = "cur/$(uid 3):2,FRS"
echo -s >"$T/mnt/mbox/4/flags"
check "writing -s to 4/flags keeps the unknown letter: :2,Fa" test "$(files | grep "M4P")" = "cur/$(uid 4):2,Fa"
check "the other files kept their names" diff <(echo "$MDFILES" | grep -v -E "M[234]P") <(files | grep -v -E "M[234]P")

before=$(files)
ctlwrite "$T/mnt/ctl" 'delete mbox 3'
check "delete mbox 3 unlinks exactly its file" diff <(echo "$before" | grep -v M3P) <(files)
check "and 3 leaves the listing" test "$(listing "$T/mnt/mbox")" = "1 2 4 5 "
check "no maildirfolder file is left in a top-level Maildir" test ! -e "$MD/maildirfolder"

# new mail: dropped into new/ as an agent does; inotify, not the 10 s look, brings it
printf 'From: late@example.org\nSubject: dropped in\n\nhi\n' >"$MD/tmp/1790000000.late.testhost"
mv "$MD/tmp/1790000000.late.testhost" "$MD/new/"
for i in $(seq 30); do [ -e "$T/mnt/mbox/6" ] && break; sleep 0.1; done
check "a file dropped into new/ shows up as 6 within 3 s" \
	test "$(cat "$T/mnt/mbox/6/subject" 2>/dev/null)" = "dropped in"
mv "$MD/cur/$(uid 1):2,S" "$MD/cur/$(uid 1):2,RS"
ctlwrite "$T/mnt/mbox/ctl" refresh
check "and its flags file shows the new flags (a----s-)" test "$(flags 1)" = "a----s- "
check "a file renamed by another program keeps its number" \
	eval '[ "$(cat "$T/mnt/mbox/1/subject")" = "Lunch on Friday?" ] && [ "$(listing "$T/mnt/mbox")" = "1 2 4 5 6 " ]'

# deletes while mail is delivered: nothing lost, nothing else deleted
$H subjects "$MD" >"$T/before"
$H deliver "$MD" 150 &
dpid=$!
BG+=("$dpid")
$H churn "$T/mnt" 40 >"$T/deleted" 2>"$T/churnerr"
churned=$?
wait "$dpid"
python3 -c 'for k in range(150): print("deliv %d" % k)' >"$T/delivered"
$H want "$T/before" "$T/delivered" "$T/deleted" >"$T/want" 2>"$T/wanterr"
$H subjects "$MD" | sort >"$T/have"
check "40 deletes ran while 150 messages were delivered" \
	eval '[ $churned -eq 0 ] && [ "$(wc -l <"$T/deleted")" -eq 40 ] || { cat "$T/churnerr" "$T/wanterr"; false; }'
check "on disk: every delivered message, less exactly the deleted ones" diff "$T/want" "$T/have"
ctlwrite "$T/mnt/mbox/ctl" refresh
check "the listing counts the files on disk" eval '[ "$(listing "$T/mnt/mbox" | wc -w)" -eq "$(files | wc -l)" ]'
check "nothing is left in tmp/" test -z "$(ls "$MD/tmp")"

# a Maildir++ subfolder, opened by its path
mkdir -p "$MD/.Lists.linux/cur" "$MD/.Lists.linux/new" "$MD/.Lists.linux/tmp"
: >"$MD/.Lists.linux/maildirfolder"
printf 'Subject: in a folder\n\nx\n' >"$MD/.Lists.linux/cur/1780000000.a.testhost:2,S"
ctlwrite "$T/mnt/ctl" "open $MD/.Lists.linux linux"
check "a Maildir++ subfolder opens as a box" \
	test "$(cat "$T/mnt/linux/1/subject" 2>/dev/null)" = "in a folder"
check "and keeps its maildirfolder file" test -e "$MD/.Lists.linux/maildirfolder"

# by name, as "open Sent" beside a Maildir
mkdir -p "$MD/.Sent/cur" "$MD/.Sent/new" "$MD/.Sent/tmp"
printf 'Subject: sent one\n\nx\n' >"$MD/.Sent/cur/1780000001.b.testhost:2,S"
ctlwrite "$T/mnt/ctl" "open Sent"
check "'open Sent' opens the Maildir++ folder .Sent as Sent" \
	test "$(cat "$T/mnt/Sent/1/subject" 2>/dev/null)" = "sent one"

# save: to an mbox (an envelope made up, From_ lines quoted) and to a Maildir
printf 'From: q@example.org\nSubject: quoting\n\nFrom here on\n>From there\n' >"$MD/cur/1790000100.q.testhost:2,S"
ctlwrite "$T/mnt/mbox/ctl" refresh
q=$(for d in "$T"/mnt/mbox/[0-9]*; do [ "$(cat "$d/subject")" = quoting ] && basename "$d"; done)
ctlwrite "$T/mnt/mbox/ctl" "save $T/saved.mbox $q"
check "save to an mbox: an envelope, the body mboxrd-quoted" \
	eval 'head -1 "$T/saved.mbox" | grep -q "^From q@example.org " && grep -qx ">From here on" "$T/saved.mbox" && grep -qx ">>From there" "$T/saved.mbox"'
readback() {
	"$BIN" -r -m "$T/svmnt" "$T/saved.mbox" || return 1
	local body; body=$(cat "$T/svmnt/mbox/1/body")
	fusermount3 -u "$T/svmnt"
	[ "$body" = "$(printf 'From here on\n>From there')" ]
}
check "and that mbox reads back the same body" readback
ctlwrite "$T/mnt/mbox/ctl" "save $MD/.Sent $q"
check "save to a Maildir: a file in its new/, unquoted" \
	eval 'f=$(ls "$MD/.Sent/new"); [ -n "$f" ] && grep -qx "From here on" "$MD/.Sent/new/$f"'

# a Maildir that vanishes: errors, no crash
mkdir -p "$T/gone/cur" "$T/gone/new" "$T/gone/tmp"
printf 'Subject: doomed\n\nx\n' >"$T/gone/new/1780000000.a.testhost"
ctlwrite "$T/mnt/ctl" "open $T/gone gone"
rm -rf "$T/gone"
check "a vanished Maildir: refresh fails, mailfs serves on" \
	eval '! ctlwrite "$T/mnt/gone/ctl" refresh 2>/dev/null && [ "$(cat "$T/mnt/linux/1/subject")" = "in a folder" ]'

# the daemons write their sanitizer reports as they exit: wait for each
daemons=$(pgrep -f "^$BIN .*-m $T/")
for m in "$T/mnt" "$T/mbmnt" "$T/svmnt"; do fusermount3 -u "$m" 2>/dev/null; done
alive() { for p in $daemons; do [ -e "/proc/$p" ] && return 0; done; return 1; }
for i in $(seq 100); do
	alive || break
	sleep 0.1
done
check "the daemons were found ($(echo $daemons)) and have exited after their unmount" \
	eval '[ -n "$daemons" ] && ! alive'
if [ -n "$OWNSAN" ]; then
	check "no sanitizer reports" sh -c '! ls "$1"/san/* 2>/dev/null | grep -q . || { cat "$1"/san/* | head -40; false; }' - "$T"
fi
echo "1..$n"
[ $failed -eq 0 ]
