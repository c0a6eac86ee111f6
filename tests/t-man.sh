#!/usr/bin/env bash
# t-man.sh: the manual pages render with man -l, mandoc -Tlint finds
# nothing at warning level, and they describe the interface as the code
# has it: every option of mailfs's usage line and of -o, every command of
# the ctl table, every file of the file table, every tool's usage.
#
#	tests/t-man.sh MAILFS_BINARY
set -u
export LC_ALL=C
BIN=$1
cd "$(dirname "$0")/.." || exit 2
. tests/tap.sh
PAGES="mailfs/mailfs.1 mailfs/mailfs.4 tools/mlist.1 acme/amail.1"

for p in $PAGES; do
	lint=$(mandoc -Tlint -W warning "$p" 2>&1)
	assert "mandoc -Tlint -W warning $p: nothing" '[ -z "$lint" ]' 'echo "$lint"'
	out=$(MANWIDTH=80 man -l "$p" 2>&1)
	name=$(sed -n 's/^\.Dt \([A-Z]*\) \([0-9]\)$/\1(\2)/p' "$p")
	assert "man -l $p renders its page, $name" '[[ $out == *"$name"* ]] && [[ $out == *NAME* ]]' 'echo "$out" | head -5'
done


usage=$("$BIN" -x 2>&1)
opts=$(grep -oE '\[-[A-Za-z]' <<<"$usage" | cut -c3)
missing=
for o in $opts; do grep -qE "^\.(Op|It) Fl $o( |$)" mailfs/mailfs.1 || missing+=" -$o"; done
assert "mailfs(1) has every option of the usage line ($(echo $opts | tr -d ' '))" '[ -n "$opts" ] && [ -z "$missing" ]' 'echo "missing:$missing"'

fopts=$(sed -n '/^} fuseopts\[\] = {/,/^};/p;/fuseopts\[\] = {/,/^};/p' mailfs/srv/srv_fuse.c | grep -oE '^\s*\{ "[a-z]+"' | grep -oE '[a-z]+' | sort -u)
missing=
for o in $fopts; do grep -qE "^\.It Cm ([a-z]+ , )*$o( |,|$)" mailfs/mailfs.1 || missing+=" $o"; done
assert "mailfs(1) has every -o option ($(echo $fopts))" '[ -n "$fopts" ] && [ -z "$missing" ]' 'echo "missing:$missing"'

cmds=$(sed -n '/^static const Cmddef cmds\[\] = {/,/^};/p' mailfs/tree/ctl.c | grep -oE '^\s*\{ "[a-z]+"' | grep -oE '[a-z]+')
missing=
for c in $cmds; do grep -qE "^\.It Cm ([a-z]+ , )*$c( |,|$)" mailfs/mailfs.4 || missing+=" $c"; done
assert "mailfs(4) has every ctl command ($(echo $cmds))" '[ -n "$cmds" ] && [ -z "$missing" ]' 'echo "missing:$missing"'

files=$(grep -oE '^\s*\{ "[a-z]+",\s*0[0-7]+' mailfs/tree/files.c | grep -oE '"[a-z]+"' | tr -d '"')
missing=
for f in $files ctl search threads; do grep -qE "^\.(It|Pa) Pa ([a-z]+ , )*$f( |,|$)|^\.(It )?Pa $f( |,|$)|Pa mbox/$f$" mailfs/mailfs.4 || missing+=" $f"; done
assert "mailfs(4) has every file of the file table ($(echo $files | wc -w) files) and ctl, search" '[ -n "$files" ] && [ -z "$missing" ]' 'echo "missing:$missing"'

missing=
for t in mlist mdelete msave; do
	u=$(tools/$t 2>&1 </dev/null)
	grep -qE "^\.Nm $t" tools/mlist.1 || missing+=" $t"
	for o in $(grep -oE ' -[a-z]' <<<"$u" | cut -c3); do grep -qE "^\.Fl $o( |$)" tools/mlist.1 || missing+=" $t -$o"; done
done
for t in amail mailview; do grep -qE "^\.Nm $t" acme/amail.1 || missing+=" $t"; done
assert "the tool pages have every tool and option" '[ -z "$missing" ]' 'echo "missing:$missing"'
tap_done
