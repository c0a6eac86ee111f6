#!/usr/bin/env bash
# A throw-away Dovecot IMAP server on loopback, for the IMAP tests and
# the IMAP benchmark.
#
#	tests/dovecot.sh start DIR [noidle]	start one; prints shell assignments
#	tests/dovecot.sh start DIR oauth2|xoauth2 URL
#						the same, with OAuth2 bearer tokens
#						(OAUTHBEARER and XOAUTH2, or XOAUTH2
#						alone) checked by POST to URL, an
#						RFC 7662 introspection endpoint
#	tests/dovecot.sh stop DIR		stop it and wait until it is gone
#	tests/dovecot.sh imaps DIR		the pids of the imap processes, one a connection
#	tests/dovecot.sh drop DIR		kill the imap processes serving
#						connections (not the master), so
#						clients see their connection drop
#
# start creates DIR (if needed) and everything in it:
#	dovecot.conf	the whole configuration (nothing from /etc/dovecot)
#	passwd		alice/secret, bob/hunter2 (passwd-file, PLAIN scheme)
#	ca.pem ca.key	a private CA; server.pem/server.key for "localhost"
#			and 127.0.0.1, signed by it
#	mail/USER	USER's Maildir++ root: INBOX is mail/USER/{cur,new,tmp},
#			other folders mail/USER/.NAME
#	home/USER	USER's Dovecot home (kept out of the maildir)
#	run/ state/	base_dir (master.pid, sockets) and state_dir
#	dovecot.log	everything Dovecot logs
# and prints, for eval "$(tests/dovecot.sh start DIR)":
#	IMAP_PORT=N IMAPS_PORT=N IMAP_CA=DIR/ca.pem IMAP_MAILDIR=DIR/mail/alice
#	IMAP_LOG=DIR/dovecot.log
# one per line, values quoted with printf %q (plain paths come out bare).
# It returns once the imap port answers with its greeting, or non-zero
# with the log tail on stderr.  A DIR whose Dovecot still runs is refused.
#
# With "noidle" the server advertises neither IDLE nor UIDPLUS (for the
# polling and plain EXPUNGE paths); everything else is the same.
#
# As root: Dovecot refuses to serve mail as uid 0, so the imap processes
# run as Debian's "mail" user (uid 8), chrooted into DIR, which may
# therefore sit under a 0700 directory such as mkdtemp's.  start makes
# mail/USER and its cur, new and tmp mail's; files a test (as root)
# drops there stay root's 0644, which Dovecot reads, renames and
# unlinks fine.  A folder directory a test creates itself must be
# chowned to mail.  auth and the other helpers run as root;
# imap-login as dovenull, chrooted.
# As a normal user, every Dovecot process runs as that user, unchrooted.
# DIR must not contain white space (dovecot.conf quoting).
set -eu
export LC_ALL=C

usage() {
	echo "usage: $0 start DIR [noidle | oauth2 URL | xoauth2 URL] | stop DIR | drop DIR | imaps DIR" >&2
	exit 2
}

(($# >= 2)) || usage
cmd=$1
dir=$2

die() {
	echo "dovecot.sh: $*" >&2
	exit 1
}

# the master's pid if this instance runs, else nothing
masterpid() {
	local p
	[[ -f $dir/run/master.pid ]] || return 0
	p=$(cat "$dir/run/master.pid" 2>/dev/null || true)
	# a stale pid file (after a crash or reboot) may name another process
	if [[ $p =~ ^[0-9]+$ ]] && kill -0 "$p" 2>/dev/null &&
		[[ $(cat "/proc/$p/comm" 2>/dev/null) == dovecot ]]; then
		echo "$p"
	fi
}

# waitgone PID...: until none of them exists (10 s, then SIGKILL)
waitgone() {
	local i p alive
	for ((i = 0; i < 200; i++)); do
		alive=
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[[ -z $alive ]] && return 0
		sleep 0.05
	done
	kill -KILL "$@" 2>/dev/null || true
	sleep 0.1
}

# two free loopback ports, from the kernel; a race with another binder
# is possible but unlikely, and start then fails loudly
freeports() {
	python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))
'
}

# greeted PORT: an IMAP server on PORT sends its "* OK" greeting
greeted() {
	local line=
	{
		exec 3<>"/dev/tcp/127.0.0.1/$1" &&
			IFS= read -r -t 1 line <&3
		exec 3<&-
	} 2>/dev/null || true
	[[ $line == "* OK"* ]]
}

mkcerts() {
	local d=$dir
	# reuse the CA across restarts of the same DIR: a client that trusted
	# DIR/ca.pem keeps trusting the server
	[[ -s $d/ca.pem && -s $d/server.pem && -s $d/server.key ]] && return 0
	(
		umask 077
		openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
			-keyout "$d/ca.key" -out "$d/ca.pem" -subj "/CN=mailfs test CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign"
		openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" \
			-out "$d/server.csr" -subj "/CN=localhost"
		printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			"basicConstraints=critical,CA:FALSE" \
			"keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth" \
			"subjectKeyIdentifier=hash" \
			"authorityKeyIdentifier=keyid,issuer" >"$d/server.ext"
		openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
			-CAcreateserial -days 30 -extfile "$d/server.ext" -out "$d/server.pem"
	) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "openssl failed"; }
	chmod 644 "$d/ca.pem" "$d/server.pem"
}

# Dovecot 2.3's post-login capabilities minus IDLE and UIDPLUS.  There is no syntax
# to remove one capability, so noidle lists them all; imap-login adds
# STARTTLS and AUTH= itself before login.
NOIDLE_CAPS="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY\
 THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL\
 CATENATE UNSELECT CHILDREN NAMESPACE LIST-EXTENDED I18NLEVEL=1\
 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS\
 BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE\
 LITERAL+ NOTIFY"

start() {
	local variant=${1:-} url=${2:-} muid mgid prefix p ports port sport u i log tail
	case $variant in
	"" | noidle) ;;
	oauth2 | xoauth2) [[ -n $url ]] || usage ;;
	*) usage ;;
	esac
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	[[ -z $(masterpid) ]] || die "a dovecot already runs in $dir (stop it first)"
	if (($(id -u) == 0)); then
		# Dovecot never lets imap run as uid 0 ("userdb returned 0 as
		# uid"), so as root the mail processes run as Debian's "mail"
		# user.  They chroot into DIR first (as root), so DIR may sit
		# under a directory "mail" cannot enter, like mkdtemp's 0700 one.
		muid=$(id -u mail) || die "as root this needs the system user 'mail'"
		mgid=$(id -g mail)
		prefix=		# mail paths as seen inside the chroot
	else
		# a normal user can neither switch users nor chroot
		muid=$(id -u)
		mgid=$(id -g)
		prefix=$dir
	fi
	mkdir -p "$dir/run" "$dir/state"
	for u in alice bob; do
		mkdir -p "$dir/mail/$u/cur" "$dir/mail/$u/new" "$dir/mail/$u/tmp" "$dir/home/$u"
		# the directories are the mail user's, so Dovecot can add its
		# index files and rename or unlink messages; messages a test
		# (root) drops in stay root's, 0644, and are still readable
		chown "$muid:$mgid" "$dir/mail/$u" "$dir/mail/$u/cur" "$dir/mail/$u/new" \
			"$dir/mail/$u/tmp" "$dir/home/$u"
	done
	mkcerts
	printf '%s\n' 'alice:{PLAIN}secret::::::' 'bob:{PLAIN}hunter2::::::' >"$dir/passwd"
	chmod 600 "$dir/passwd"

	ports=$(freeports)
	port=${ports% *}
	sport=${ports#* }
	log=$dir/dovecot.log
	: >"$log"

	{
		echo "# written by tests/dovecot.sh; nothing from /etc/dovecot"
		echo "base_dir = $dir/run"
		echo "state_dir = $dir/state"
		# a distinct name per instance: two may run at once
		echo "instance_name = mailfs-test-$port"
		echo "log_path = $log"
		echo "protocols = imap"
		echo "listen = 127.0.0.1"
		echo "ssl = yes"
		echo "ssl_cert = <$dir/server.pem"
		echo "ssl_key = <$dir/server.key"
		# without DH parameters Dovecot 2.3 warns at start; ECDHE works anyway
		if [[ -r /usr/share/dovecot/dh.pem ]]; then
			echo "ssl_dh = </usr/share/dovecot/dh.pem"
		fi
		echo "disable_plaintext_auth = no"
		case $variant in
		oauth2) echo "auth_mechanisms = plain login oauthbearer xoauth2" ;;
		xoauth2) echo "auth_mechanisms = plain login xoauth2" ;;
		*) echo "auth_mechanisms = plain login" ;;
		esac
		# a wrong password must be refused at once, not after 2 s, and
		# repeated failures must not earn an anvil penalty (2, 4, 8 s;
		# trusted networks alone did not stop that).  The auth process
		# still answers a failure on its next 0.5 s tick, and logs one
		# "net_connect_unix(anvil-auth-penalty) failed" error at start.
		echo "auth_failure_delay = 0"
		echo "login_trusted_networks = 127.0.0.0/8"
		echo "service anvil {"
		echo "  unix_listener anvil-auth-penalty {"
		echo "    mode = 0"
		echo "  }"
		[[ -z $prefix ]] || echo "  chroot ="
		echo "}"
		if [[ $variant == *oauth2 ]]; then
			# bearer tokens, checked by POSTing them to the test's
			# introspection endpoint; passwords for the rest
			echo "passdb {"
			echo "  driver = oauth2"
			echo "  mechanisms = xoauth2 oauthbearer"
			echo "  args = $dir/oauth2.conf"
			echo "}"
			{
				echo "introspection_mode = post"
				echo "introspection_url = $url"
				echo "username_attribute = username"
				echo "active_attribute = active"
				echo "active_value = true"
			} >"$dir/oauth2.conf"
		fi
		echo "passdb {"
		echo "  driver = passwd-file"
		[[ $variant != *oauth2 ]] || echo "  mechanisms = plain login"
		echo "  args = scheme=PLAIN username_format=%u $dir/passwd"
		echo "}"
		echo "userdb {"
		echo "  driver = static"
		echo "  args = uid=$muid gid=$mgid home=$dir/home/%u"
		echo "}"
		# Maildir++: INBOX is the root, so IMAP_MAILDIR/cur is INBOX
		echo "mail_location = maildir:$prefix/mail/%u"
		# uid 8 ("mail") is below the default first_valid_uid of 500
		echo "first_valid_uid = $muid"
		echo "first_valid_gid = $mgid"
		if [[ -z $prefix ]]; then
			# mail_chroot "DIR/." strips DIR from the home directory;
			# mail_location above is already relative to the chroot
			echo "valid_chroot_dirs = $dir"
			echo "mail_chroot = $dir/."
			# auth, stats etc. as root: as "dovecot" they could not
			# reach DIR under a 0700 parent.  imap-login refuses root;
			# it stays dovenull, chrooted by the master into
			# DIR/run/login, so it needs no access to DIR's parents.
			echo "default_internal_user = root"
			echo "default_internal_group = root"
		else
			echo "default_internal_user = $(id -un)"
			echo "default_internal_group = $(id -gn)"
			echo "default_login_user = $(id -un)"
		fi
		echo "service imap-login {"
		[[ -z $prefix ]] || echo "  chroot ="
		echo "  inet_listener imap {"
		echo "    address = 127.0.0.1"
		echo "    port = $port"
		echo "  }"
		echo "  inet_listener imaps {"
		echo "    address = 127.0.0.1"
		echo "    port = $sport"
		echo "    ssl = yes"
		echo "  }"
		echo "}"
		# the tests open every test mailbox as a folder at once: one
		# connection each, over the default of 10 per user and address
		echo "protocol imap {"
		echo "  mail_max_userip_connections = 100"
		echo "}"
		if [[ $variant == noidle ]]; then
			echo "imap_capability = $NOIDLE_CAPS"
		fi
	} >"$dir/dovecot.conf"

	# the master daemonizes once its listeners are up; config errors
	# come out on its stderr before that
	if ! /usr/sbin/dovecot -c "$dir/dovecot.conf" >>"$log" 2>&1; then
		echo "dovecot.sh: dovecot failed to start; $log:" >&2
		tail -20 "$log" >&2
		exit 1
	fi
	# ready when a connection gets the "* OK" greeting: the master
	# listens before imap-login can serve, and imap-login may fail
	for ((i = 0; i < 100; i++)); do
		greeted "$port" && break
		[[ -n $(masterpid) ]] || break
		sleep 0.1
	done
	if [[ -z $(masterpid) ]] || ! greeted "$port"; then
		echo "dovecot.sh: dovecot in $dir does not greet on port $port; $log:" >&2
		tail -20 "$log" >&2
		p=$(masterpid)
		[[ -z $p ]] || { kill "$p" 2>/dev/null; waitgone "$p"; }
		exit 1
	fi
	printf 'IMAP_PORT=%q\n' "$port"
	printf 'IMAPS_PORT=%q\n' "$sport"
	printf 'IMAP_CA=%q\n' "$dir/ca.pem"
	printf 'IMAP_MAILDIR=%q\n' "$dir/mail/alice"
	printf 'IMAP_LOG=%q\n' "$log"
}

stop() {
	local p
	[[ -d $dir ]] || return 0
	p=$(masterpid)
	[[ -n $p ]] || return 0
	# SIGTERM: the master stops its children, then exits
	kill "$p" 2>/dev/null || true
	waitgone "$p"
}

# the imap (post-login) processes of this instance: children of its
# master named imap, one per logged-in connection
imaps() {
	local p
	p=$(masterpid)
	[[ -n $p ]] || die "no dovecot runs in $dir"
	pgrep -P "$p" -x imap || true
}

# kill them, and print their pids; with TLS the imap-login process
# proxying each connection then closes it too.  Dropping nothing fails.
drop() {
	local kids
	kids=$(imaps)
	[[ -n $kids ]] || die "no imap connection to drop in $dir"
	# shellcheck disable=SC2086
	kill -KILL $kids 2>/dev/null || true
	# shellcheck disable=SC2086
	waitgone $kids
	echo $kids
}

case $cmd in
start)
	(($# <= 4)) || usage
	start "${3:-}" "${4:-}"
	;;
stop)
	(($# == 2)) || usage
	stop
	;;
drop)
	(($# == 2)) || usage
	drop
	;;
imaps)
	(($# == 2)) || usage
	imaps
	;;
*) usage ;;
esac
