#!/usr/bin/env bash
# t-install.sh: make install into a temporary DESTDIR puts the program,
# the tools, the acme tools and plumbing and the manual pages under
# DESTDIR$PREFIX and nowhere else; the installed mailfs serves a testdata
# mailbox and the installed mlist lists it; man reads the installed pages;
# make uninstall leaves nothing behind.  The same with another PREFIX, and
# with plan9 mk (in a copy of the source, which mk builds in place).
#
#	tests/t-install.sh
set -u
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
. tests/tap.sh
T=$(mktemp -d "${TMPDIR:-/tmp}/t-install.XXXXXX") || exit 2
trap 'fusermount3 -u "$T/m" 2>/dev/null; rm -rf "$T"' EXIT
mkdir "$T/m"
cp testdata/sample.mbox "$T/box"

# installed ROOT: the files under ROOT, one a line, sorted
installed() { (cd "$1" && find . -type f -o -type l | sort); }

# the whole round for one make-like tool: NAME, DESTDIR, PREFIX, then the command
round() {
	local name=$1 d=$2 prefix=$3
	shift 3
	out=$(DESTDIR=$d PREFIX=$prefix "$@" install 2>&1)
	rc=$?
	assert "$name install (PREFIX=$prefix): status $rc" '[ "$rc" -eq 0 ] && [ -x "$d$prefix/bin/mailfs" ]' 'echo "$out" | tail -5'
	list=$(installed "$d")
	outside=$(grep -v "^\.$prefix/" <<<"$list")
	assert "$name install: $(wc -l <<<"$list") files, every one under DESTDIR$prefix" \
		'[ -z "$outside" ] && grep -qx ".$prefix/bin/mailfs" <<<"$list" && grep -qx ".$prefix/share/man/man4/mailfs.4" <<<"$list" && grep -qx ".$prefix/share/mailfs/acme/plumbing" <<<"$list" && grep -qx ".$prefix/bin/mlist" <<<"$list"' \
		'echo "$list"'
	"$d$prefix/bin/mailfs" -m "$T/m" "$T/box"
	subject=$(timeout 10 cat "$T/m/mbox/1/subject")
	listing=$(timeout 10 "$d$prefix/bin/mlist" "$T/m/mbox" | wc -l)
	fusermount3 -u "$T/m"
	assert "$name: the installed mailfs serves the sample mailbox and the installed mlist lists its 5 messages" \
		'[ "$subject" = "Lunch on Friday?" ] && [ "$listing" -eq 5 ]' 'echo "$subject / $listing"'
	page=$(MANWIDTH=80 man -l "$d$prefix/share/man/man1/mailfs.1" 2>&1 | head -3)
	alias=$(MANWIDTH=80 man -M "$d$prefix/share/man" mdelete 2>&1 | grep -c '^MLIST(1)')	# the page it sources
	assert "$name: man -l reads the installed mailfs(1), and man -M finds mdelete through its alias page" \
		'[[ $page == *MAILFS* ]] && [ "$alias" -gt 0 ]' 'echo "$page"; MANWIDTH=80 man -M "$d$prefix/share/man" mdelete 2>&1 | head -3'
	out=$(DESTDIR=$d PREFIX=$prefix "$@" uninstall 2>&1)
	left=$(installed "$d"; [ -d "$d$prefix" ] && echo "$prefix is still there")
	assert "$name uninstall leaves nothing behind" '[ -z "$left" ]' 'echo "$left"; echo "$out" | tail -3'
}

round "make" "$T/d1" /usr/local make --no-print-directory -s
round "make" "$T/d2" /opt/mailfs make --no-print-directory -s
if [ -x /usr/lib/plan9/bin/mk ]; then
	mkdir -p "$T/src"
	cp -r mkfile mailfs tools acme "$T/src/"
	find "$T/src/mailfs" -name '*.o' -delete
	rm -f "$T/src/mailfs/mailfs"
	(cd "$T/src" && /usr/lib/plan9/bin/mk >"$T/mk.log" 2>&1)
	assert "mk builds mailfs in a copy of the source" '[ -x "$T/src/mailfs/mailfs" ]' 'tail -5 "$T/mk.log"'
	mkround() { (cd "$T/src" && /usr/lib/plan9/bin/mk "$@"); }
	round "mk" "$T/d3" /usr/local mkround
else
	skip "mk install" "no /usr/lib/plan9/bin/mk (Debian's 9base)"
fi
tap_done
