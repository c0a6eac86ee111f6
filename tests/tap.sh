# What the shell tests share: TAP lines.  Source it; $n counts the
# checks, $failed the failures; end with tap_done.
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() {
	n=$((n + 1)); failed=$((failed + 1))
	echo "not ok $n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -n 25 | sed 's/^/#   /'
	return 0
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check DESCRIPTION CMD...: ok if CMD succeeds; its output is shown if not
check() {
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$d"; else notok "$d" "$out"; fi
}
# assert DESCRIPTION EXPR [DIAG]: ok if the shell expression EXPR holds,
# evaluated here (what it sets stays set); if not, DIAG's output is shown
assert() {
	if eval "$2"; then ok "$1"; else notok "$1" "$(eval "${3:-true}" 2>&1)"; fi
}
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
# the plan, last, and the exit status: 0 if nothing failed
tap_done() { echo "1..$n"; [ "$failed" -eq 0 ]; }
