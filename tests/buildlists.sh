#!/usr/bin/env bash
# The Makefile's SRCS and the mkfile's OFILES must name the same sources.
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/tap.sh"
make_list=$(sed -n '/^SRCS = /,/^$/p' "$top/Makefile" | grep -o 'mailfs/[a-z_0-9/]*\.c' | sed 's/\.c$//' | sort)
mk_list=$(sed -n '/^OFILES=/,/^$/p' "$top/mkfile" | grep -o 'mailfs/[a-z_0-9/]*\.o' | sed 's/\.o$//' | sort)
if [ -n "$make_list" ] && [ "$make_list" = "$mk_list" ]; then
	ok "Makefile and mkfile name the same $(echo "$make_list" | wc -l) sources"
else
	notok "Makefile and mkfile source lists differ" "$(diff <(echo "$make_list") <(echo "$mk_list"))"
fi
tap_done
