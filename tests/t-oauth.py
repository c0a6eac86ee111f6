#!/usr/bin/env python3
"""OAuth2 for IMAP against a real Dovecot whose oauth2 passdb checks each
bearer token at an introspection endpoint this test serves on loopback
(RFC 7662: POST token=..., {"active": true, "username": "alice"}).  A
key names a token command; mailfs runs it without a shell, logs in with
OAUTHBEARER (or XOAUTH2 where that is all the server offers), runs it
again when the server refuses an expired token, and never writes a
token to its cache or its -D trace.  Failing commands, refused tokens
and a server with neither mechanism are one clear line each.
usage: t-oauth.py MAILFS"""
import http.server, json, os, shutil, subprocess, sys, tempfile, threading, time, urllib.parse
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest
import tap as tap_

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tap = tap_.Tap()
check = tap.check

ACTIVE = set()	# the tokens the endpoint calls active
SEEN = []	# every token it was asked about


class Introspect(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        tok = urllib.parse.parse_qs(body).get("token", [""])[0]
        SEEN.append(tok)
        r = {"active": True, "username": "alice"} if tok in ACTIVE else {"active": False}
        b = json.dumps(r).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def log_message(self, *args):
        pass


def dovecot(d, *extra):
    env = imaptest.dovecot(d, *extra)
    subprocess.run([sys.executable, os.path.join(top, "tests/imapload.py"),
                    os.path.join(top, "testdata/sample.mbox"), env["IMAP_MAILDIR"]], check=True)
    return env


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="t-oauth.")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Introspect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/introspect" % httpd.server_address[1]
    dirs = {k: os.path.join(tmp, k) for k in ("both", "xoauth2", "plain")}
    home = os.path.join(tmp, "home")
    os.mkdir(home)
    cache = os.path.join(home, "cache")
    env = dict(os.environ, HOME=home, XDG_CACHE_HOME=cache, TZ="UTC", NAMESPACE=os.path.join(tmp, "ns"))
    counter = os.path.join(tmp, "counter")
    tokcmd = os.path.join(tmp, "tokcmd")
    with open(tokcmd, "w") as f:	# prints tok-N, one N more at each run; its arguments as it got them
        f.write('#!/bin/sh\nn=$(cat "$1" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$1"\n'
                'printf "%%s\\n" "$@" >%s/argv\necho "tok-$n"\n' % tmp)
    os.chmod(tokcmd, 0o755)
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    try:
        dv = {k: dovecot(d, *(["oauth2", url] if k == "both" else ["xoauth2", url] if k == "xoauth2" else []))
              for k, d in dirs.items()}

        def keyfile(cmd):
            k = os.path.join(home, "keys")
            with open(k, "w") as f:
                f.write("key proto=oauth2 service=imap server=127.0.0.1 user=alice tokencmd=%s\n" % cmd)
            os.chmod(k, 0o600)
            return k

        def mount(which, cmd, *opts):
            return subprocess.run([mailfs, "-k", keyfile(cmd), "-m", mnt] + list(opts) +
                                  ["imap://alice@127.0.0.1:%s/INBOX" % dv[which]["IMAP_PORT"]],
                                  env=env, capture_output=True, text=True, timeout=60)

        def log(which):
            with open(dv[which]["IMAP_LOG"]) as f:
                return f.read()

        def umount():
            subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
            time.sleep(0.3)

        # 1. OAUTHBEARER, a token from the command; the trace and the cache hold no token
        ACTIVE.clear()
        ACTIVE.add("tok-1")
        trace = open(os.path.join(tmp, "trace"), "w")
        p = subprocess.Popen([mailfs, "-f", "-D", "-k", keyfile("'%s %s ''$HOME;touch %s/pwned'''" % (tokcmd, counter, tmp)),
                              "-m", mnt, "imap://alice@127.0.0.1:%s/INBOX" % dv["both"]["IMAP_PORT"]],
                             env=env, stdout=trace, stderr=trace)
        for _ in range(100):
            if os.path.ismount(mnt):
                break
            time.sleep(0.1)
        subj = open(os.path.join(mnt, "mbox", "1", "subject")).read() if os.path.ismount(mnt) else None
        check("a key with a token command: mounted, the folder listed and read", subj == "Lunch on Friday?", repr(subj))
        check("logged in with OAUTHBEARER, the endpoint asked about tok-1",
              "method=OAUTHBEARER" in log("both") and "tok-1" in SEEN, log("both")[-400:])
        argv = open(os.path.join(tmp, "argv")).read()
        check("the command ran without a shell: its arguments exactly as the key split them, nothing run by them",
              argv == "%s\n$HOME;touch %s/pwned\n" % (counter, tmp) and not os.path.exists(os.path.join(tmp, "pwned")), repr(argv))

        # 2. the token expires: the next login is refused, the command runs again, the read succeeds
        ACTIVE.clear()
        ACTIVE.add("tok-2")
        subprocess.run([os.path.join(top, "tests/dovecot.sh"), "drop", dirs["both"]], capture_output=True)
        body = None
        for _ in range(3):
            try:
                body = open(os.path.join(mnt, "mbox", "4", "body")).read()
                break
            except OSError as e:
                body = e
                time.sleep(1)
        check("an expired token: refused, the command run again, the read goes on with the new token",
              isinstance(body, str) and "invoice" in body.lower() and open(counter).read().strip() == "2" and "tok-2" in SEEN,
              "%r; counter %s; seen %s" % (body, open(counter).read().strip(), SEEN))
        umount()
        p.wait(timeout=10)
        trace.close()
        leaked = [os.path.join(dp, f) for dp, _, fs in os.walk(cache) for f in fs
                  if b"tok-" in open(os.path.join(dp, f), "rb").read()]
        check("no token in the -D trace, nor anywhere in the cache",
              "tok-" not in open(os.path.join(tmp, "trace")).read() and not leaked and os.path.getsize(os.path.join(tmp, "trace")) > 0,
              leaked)

        # 3. a server offering XOAUTH2 alone
        ACTIVE.add("tok-3")
        r = mount("xoauth2", "'%s %s'" % (tokcmd, counter))
        ok = r.returncode == 0 and open(os.path.join(mnt, "mbox", "1", "subject")).read() == "Lunch on Friday?"
        check("a server with XOAUTH2 alone: logged in with XOAUTH2", ok and "method=XOAUTH2" in log("xoauth2"), r.stderr)
        umount()

        # 4. the errors, one line each
        def said(r):
            print("# mailfs said: " + r.stderr.strip())
            return r

        r = said(mount("plain", "'%s %s'" % (tokcmd, counter)))
        check("a server with neither mechanism: one line that says so",
              r.returncode != 0 and r.stderr.count("\n") == 1 and "offers neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2" in r.stderr, r.stderr)
        r = said(mount("both", "/bin/false"))
        check("a failing command: one line naming it and its status",
              r.returncode != 0 and r.stderr.count("\n") == 1 and "token command '/bin/false' failed (exit status 1)" in r.stderr, r.stderr)
        r = said(mount("both", "%s/no-such-command" % tmp))
        check("a command that does not exist: one line naming it",
              r.returncode != 0 and r.stderr.count("\n") == 1 and "no-such-command" in r.stderr, r.stderr)
        ACTIVE.clear()
        r = said(mount("both", "'%s %s'" % (tokcmd, counter)))
        check("a token refused, and the fresh one too: one line with the server's reason",
              r.returncode != 0 and r.stderr.count("\n") == 1 and "OAuth2 token refused" in r.stderr and "invalid_token" in r.stderr,
              r.stderr)
    finally:
        umount()
        for d in dirs.values():
            imaptest.stop(d)
        httpd.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.exit(tap.done())
