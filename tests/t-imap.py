#!/usr/bin/env python3
"""An IMAP folder served as the upas/fs tree, against a real Dovecot.

tests/dovecot.sh starts a throw-away Dovecot on loopback; the sample
mailbox is loaded into alice's INBOX.  mailfs mounts
imap://alice@127.0.0.1:PORT/INBOX with a 0600 key file and must show
the same messages as the sample mbox mounted beside it (every file that
does not depend on the store: subjects, addresses, bodies, parts), then:
a part read, flags stored on the server, a delete expunged on the
server with the other numbers kept, mail appended while mounted shown
(IDLE; and polling on a server without IDLE), a dropped connection
survived, the on-disk cache filled, a wrong password and an untrusted
certificate refused with one line, imaps with the private CA, and the
same tree over 9P.  usage: t-imap.py MAILFS
"""
import imaplib, os, shutil, socket, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p9client as p9
import tap as tap_

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tap = tap_.Tap()
check = tap.check
# Broken MIME that Dovecot's parser, whose BODYSTRUCTURE makes the part
# tree of an IMAP message, reads otherwise than GMime: a boundary that never
# comes is one text part there, none here; nesting ends sooner there.
DIVERGE = {"malformed-boundary", "malformed-deep"}
# files whose content does not depend on how the message was stored
SAME = ["subject", "from", "to", "cc", "replyto", "date", "type", "filename",
        "disposition", "messageid", "inreplyto", "body", "mimeheader", "header"]


asked = []


def factotum(path, password):
    """A stand-in factotum's rpc file (factotum(4)): start, then read gives 'ok user password'."""
    def write(state, data):
        req = data.decode()
        if req.startswith("start "):
            asked.append(req)
            state["phase"] = "started"
        elif req == "read" and state.get("phase") == "started":
            state["phase"] = "reading"

    def read(state):
        return {"started": b"ok", "reading": ("ok alice %s" % password).encode()}.get(state.get("phase"), b"error phase")
    return tap_.standin(path, walk=lambda name: name == "rpc", write=write, read=read)


def dovecot(d, *extra):
    out = subprocess.run([os.path.join(top, "tests/dovecot.sh"), "start", d] + list(extra),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit("Bail out! dovecot did not start: " + out.stdout + out.stderr)
    env = {}
    for line in out.stdout.splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip().strip("'\"")
    return env


def imap(env):
    c = imaplib.IMAP4("127.0.0.1", int(env["IMAP_PORT"]))
    c.login("alice", "secret")
    c.select("INBOX")
    return c


def mount(mailfs, mnt, url, args, env):
    p = subprocess.run([mailfs] + args + ["-m", mnt, url], capture_output=True, text=True, env=env, timeout=120)
    return p.returncode, p.stderr.strip()


def umount(mnt):
    subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
    for _ in range(50):
        if not os.path.ismount(mnt):
            return
        time.sleep(0.1)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        return "error: %s" % e


def tree(root):
    """every file of a message directory, to any depth: {relative path: content}"""
    out = {}
    if not os.path.isdir(root):
        return {".": "missing"}
    stack = [""]
    while stack:	# not recursive: a test message nests 1000 deep
        rel = stack.pop()
        for name in sorted(os.listdir(os.path.join(root, rel))):
            p = os.path.join(rel, name)
            if os.path.isdir(os.path.join(root, p)):
                stack.append(p)
            elif name in SAME:
                out[p] = read(os.path.join(root, p))
    return out


def nums(d):
    return sorted(int(n) for n in os.listdir(d) if n.isdigit())


def waitfor(cond, secs):
    end = time.time() + secs
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.2)
    return cond()


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp()
    d = os.path.join(tmp, "dovecot")
    env = dovecot(d)
    home = os.path.join(tmp, "home")
    os.mkdir(home)
    penv = dict(os.environ, HOME=home, XDG_CACHE_HOME=os.path.join(home, "cache"), TZ="UTC",
                NAMESPACE=os.path.join(tmp, "ns"))
    keys = os.path.join(home, "keys")
    with open(keys, "w") as f:
        f.write("key proto=pass service=imap server=127.0.0.1 user=alice !password=secret\n")
    os.chmod(keys, 0o600)
    subprocess.run([sys.executable, os.path.join(top, "tests/imapload.py"),
                    os.path.join(top, "testdata/sample.mbox"), env["IMAP_MAILDIR"]], check=True)
    port = env["IMAP_PORT"]
    url = "imap://alice@127.0.0.1:%s/INBOX" % port
    mnt, ref = os.path.join(tmp, "mnt"), os.path.join(tmp, "ref")
    os.mkdir(mnt)
    os.mkdir(ref)
    box = os.path.join(tmp, "sample.mbox")
    shutil.copy(os.path.join(top, "testdata/sample.mbox"), box)
    try:
        rc, err = mount(mailfs, mnt, url, ["-k", keys], penv)
        check("mailfs mounts an IMAP folder", rc == 0, err)
        rc, err = mount(mailfs, ref, box, [], penv)	# a copy: ctl open needs a writable mount
        cache = os.path.join(home, "cache", "mailfs", "imap")
        cachefiles = lambda: [os.path.join(r, f) for r, _, fs in os.walk(cache) for f in fs]
        subj = [read(os.path.join(mnt, "mbox", n, "subject")) for n in sorted(os.listdir(os.path.join(mnt, "mbox"))) if n.isdigit()]
        want = [read(os.path.join(ref, "mbox", n, "subject")) for n in sorted(os.listdir(os.path.join(ref, "mbox"))) if n.isdigit()]
        check("subjects read from headers alone", subj == want, subj)
        check("... and no message body was fetched for them", cachefiles() == [], cachefiles()[:3])
        # a part on its own: the skeleton and that section, never the whole message
        pdf = read(os.path.join(mnt, "mbox", "4", "2", "body"))
        check("an attachment reads as the mbox's", pdf == read(os.path.join(ref, "mbox", "4", "2", "body")))
        names = sorted(os.path.basename(f) for f in cachefiles())
        check("... fetched as its section alone: the cache holds 4's skeleton and section 2, not 4",
              len(names) == 2 and names[0].endswith("-2") and names[1].endswith("-skel"), names)
        check("its file name and type come from the skeleton",
              read(os.path.join(mnt, "mbox", "4", "2", "filename")) == read(os.path.join(ref, "mbox", "4", "2", "filename"))
              and read(os.path.join(mnt, "mbox", "4", "2", "type")) == b"application/pdf")
        want, got = nums(os.path.join(ref, "mbox")), nums(os.path.join(mnt, "mbox"))
        check("the folder lists every message (%d)" % len(want), got == want, "%s vs %s" % (got, want))
        diff = []
        for n in want:
            a = tree(os.path.join(ref, "mbox", str(n)))
            b = tree(os.path.join(mnt, "mbox", str(n)))
            diff += ["%d/%s" % (n, k) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        check("every message's files and parts equal the mbox's", not diff, "\n".join(diff[:10] + sorted(set(x.split("/")[0] + "/" + x.split("/")[1] for x in diff))))
        parts = [n for n in want if os.path.isdir(os.path.join(mnt, "mbox", str(n), "2"))]
        check("a part's body reads", parts and read(os.path.join(mnt, "mbox", str(parts[0]), "2", "body"))
              == read(os.path.join(ref, "mbox", str(parts[0]), "2", "body")))
        info = read(os.path.join(mnt, "mbox", "1", "info"))
        check("info carries the keyed lines", isinstance(info, bytes) and b"\nsubject " in b"\n" + info, info)

        c = imap(env)
        typ, data = c.uid("SEARCH", None, "ALL")
        uids = data[0].split()
        with open(os.path.join(mnt, "mbox", "ctl"), "w") as f:
            f.write("read 1\n")
        typ, data = c.uid("FETCH", uids[0], "(FLAGS)")
        check("'read 1' stores \\Seen on the server", b"\\Seen" in data[0], data)
        check("the flags file shows it", b"s" in read(os.path.join(mnt, "mbox", "1", "flags")))
        with open(os.path.join(mnt, "mbox", "2", "flags"), "w") as f:
            f.write("+f")
        typ, data = c.uid("FETCH", uids[1], "(FLAGS)")
        check("writing +f to a flags file stores \\Flagged", b"\\Flagged" in data[0], data)

        with open(os.path.join(mnt, "ctl"), "w") as f:
            f.write("delete mbox 3\n")
        c.noop()
        typ, data = c.uid("SEARCH", None, "ALL")
        check("a delete expunges that message on the server", data[0].split() == uids[:2] + uids[3:], data)
        check("the others keep their numbers", nums(os.path.join(mnt, "mbox")) == [n for n in want if n != 3])

        msg = b"From: carol@example.org\r\nSubject: appended while mounted\r\n\r\nhello\r\n"
        c.append("INBOX", None, None, msg)
        new = max(want) + 1
        check("mail appended while mounted shows (IDLE)",
              waitfor(lambda: os.path.exists(os.path.join(mnt, "mbox", str(new))), 10))
        check("with its subject", read(os.path.join(mnt, "mbox", str(new), "subject")) == b"appended while mounted")

        # only mailfs's connections are left to drop: ours goes first
        c.logout()
        dropped = subprocess.run([os.path.join(top, "tests/dovecot.sh"), "drop", d],
                                 capture_output=True, text=True)
        killed = set(dropped.stdout.split())
        check("the server dropped mailfs's connections", dropped.returncode == 0 and killed,
              dropped.stdout + dropped.stderr)
        time.sleep(0.5)
        with open(os.path.join(mnt, "mbox", "ctl"), "w") as f:
            f.write("replied 2\n")
        now = set(subprocess.run([os.path.join(top, "tests/dovecot.sh"), "imaps", d],
                                 capture_output=True, text=True).stdout.split())
        check("mailfs connected again: a new imap process serves it", now and not now & killed,
              "killed %s, now %s" % (sorted(killed), sorted(now)))
        c = imap(env)
        typ, data = c.uid("FETCH", uids[1], "(FLAGS)")
        check("a dropped connection is made again: 'replied 2' reaches the server",
              b"\\Answered" in data[0], data)
        check("numbers are the same after it", nums(os.path.join(mnt, "mbox")) == [n for n in want if n != 3] + [new])

        # every test mailbox as a folder of its own, opened through the root ctl
        diff, opened, served = [], 0, []
        for name in sorted(os.listdir(os.path.join(top, "testdata/boxes"))):
            if not name.endswith(".mbox") or name == "format-empty.mbox":
                continue
            folder = name[:-5]
            orig = os.path.join(top, "testdata/boxes", name)
            subprocess.run([sys.executable, os.path.join(top, "tests/imapload.py"), orig,
                            os.path.join(env["IMAP_MAILDIR"], "." + folder)], check=True)
            # the reference: Dovecot serves NUL bytes as 0x80 (IMAP allows no NUL), so the same here
            src = os.path.join(tmp, name)
            with open(orig, "rb") as f, open(src, "wb") as g:
                g.write(f.read().replace(b"\0", b"\x80"))
            try:
                with open(os.path.join(mnt, "ctl"), "w") as f:
                    f.write("open %s\n" % folder)
                with open(os.path.join(ref, "ctl"), "w") as f:
                    f.write("open %s %s\n" % (src, folder))
            except OSError as e:
                diff.append("%s: open: %s" % (folder, e))
                continue
            opened += 1
            rn, mn = nums(os.path.join(ref, folder)), nums(os.path.join(mnt, folder))
            if rn != mn:
                diff.append("%s: listing %s vs %s" % (folder, mn, rn))
            if folder in DIVERGE:	# served as the server parses them: every file must read
                for n in mn:
                    bad = [k for k, v in tree(os.path.join(mnt, folder, str(n))).items() if isinstance(v, str)]
                    served.extend("%s/%d/%s" % (folder, n, k) for k in bad)
                continue
            for n in rn:
                a = tree(os.path.join(ref, folder, str(n)))
                b = tree(os.path.join(mnt, folder, str(n)))
                diff += ["%s/%d/%s" % (folder, n, k) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        check("'open NAME' opens the server's folder NAME (%d of them)" % opened, opened >= 20, diff[:3])
        check("the MIME the server parses otherwise (%s) is served, every file readable" % ", ".join(sorted(DIVERGE)),
              not served, served[:5])
        check("each other test mailbox as an IMAP folder serves the files of its mbox", not diff, "\n".join(diff[:10] + sorted(set(x.split("/")[0] + "/" + x.split("/")[1] for x in diff))))

        files = cachefiles()
        check("fetched messages are in the on-disk cache", len(files) >= len(want) - 1, files[:3])
        check("cache files are private", files and all(os.stat(f).st_mode & 0o077 == 0 for f in files))
        cdirs = sorted({os.path.dirname(f) for f in files})
        check("and so are the directories they are in: 0700", cdirs and all(os.stat(d).st_mode & 0o777 == 0o700 for d in cdirs),
              ["%s %o" % (d, os.stat(d).st_mode & 0o777) for d in cdirs][:3])
        umount(mnt)

        # over 9P too
        srv = tap_.post(mailfs, ["-k", keys, url], penv["NAMESPACE"], "imaptest", penv)
        try:
            cl = p9.connect(os.path.join(penv["NAMESPACE"], "imaptest"))
            fid, _ = cl.walkto("mbox/1/subject")
            cl.open(fid)
            check("over 9P the same subject", cl.read(fid, 0, 8192) == read(os.path.join(ref, "mbox", "1", "subject")))
        except Exception as e:
            check("over 9P the same subject", False, e)
        tap_.stop(srv)

        bad = os.path.join(home, "badkeys")
        with open(bad, "w") as f:
            f.write("key proto=pass service=imap server=127.0.0.1 user=alice !password=wrong\n")
        os.chmod(bad, 0o600)
        t = time.time()
        rc, err = mount(mailfs, mnt, url, ["-k", bad], penv)
        check("a wrong password is refused, one line", rc != 0 and "login refused" in err and "\n" not in err, err)
        check("... within 10 s", time.time() - t < 10)
        os.chmod(bad, 0o644)
        rc, err = mount(mailfs, mnt, url, ["-k", bad], penv)
        check("a key file others may read is refused", rc != 0 and "chmod 600" in err, err)
        s0 = socket.socket()
        s0.bind(("127.0.0.1", 0))
        closed = s0.getsockname()[1]
        s0.close()
        rc, err = mount(mailfs, mnt, "imap://alice@127.0.0.1:%d/INBOX" % closed, ["-k", keys], penv)
        check("a server that is not there is one clear line", rc != 0 and "cannot connect" in err and "\n" not in err, err)
        rc, err = mount(mailfs, mnt, "imap://alice@127.0.0.1:%s/Nonesuch" % port, ["-k", keys], penv)
        check("a missing folder is one clear line", rc != 0 and "no such folder" in err, err)

        # no key file: the password comes from a posted factotum
        os.makedirs(penv["NAMESPACE"], exist_ok=True)
        fs = factotum(os.path.join(penv["NAMESPACE"], "factotum"), "secret")
        rc, err = mount(mailfs, mnt, url, ["-k", os.path.join(home, "nokeys")], penv)
        check("with no key file, factotum's key logs in", rc == 0, err)
        check("factotum was asked for proto=pass with server and user",
              asked and "proto=pass" in asked[0] and "server=127.0.0.1" in asked[0] and "user=alice" in asked[0], asked)
        umount(mnt)
        fs.close()
        os.unlink(os.path.join(penv["NAMESPACE"], "factotum"))
        rc, err = mount(mailfs, mnt, url, ["-k", os.path.join(home, "nokeys")], penv)
        check("with neither, one line says where a key goes", rc != 0 and "no password for alice@127.0.0.1" in err
              and "\n" not in err, err)

        surl = "imaps://alice@127.0.0.1:%s/INBOX" % env["IMAPS_PORT"]
        rc, err = mount(mailfs, mnt, surl, ["-k", keys], penv)
        check("imaps with an unknown CA is refused", rc != 0 and "certificate not trusted" in err, err)
        if rc == 0:
            umount(mnt)
        skeys = os.path.join(home, "skeys")
        with open(skeys, "w") as f:
            f.write("key proto=pass service=imaps server=127.0.0.1 user=alice !password=secret\n")
        os.chmod(skeys, 0o600)
        rc, err = mount(mailfs, mnt, surl, ["-k", skeys, "-C", env["IMAP_CA"]], penv)
        check("imaps with the private CA mounts", rc == 0, err)
        check("and lists the folder", rc == 0 and len(nums(os.path.join(mnt, "mbox"))) == len(want))
        umount(mnt)
        subprocess.run([os.path.join(top, "tests/dovecot.sh"), "stop", d])

        # a server without IDLE: the periodic look finds new mail
        d2 = os.path.join(tmp, "dovecot2")
        env2 = dovecot(d2, "noidle")
        url2 = "imap://alice@127.0.0.1:%s/INBOX" % env2["IMAP_PORT"]
        rc, err = mount(mailfs, mnt, url2, ["-k", keys], penv)
        check("a server without IDLE mounts", rc == 0, err)
        c2 = imap(env2)
        c2.append("INBOX", None, None, msg)
        check("and its new mail shows by polling",
              waitfor(lambda: os.path.exists(os.path.join(mnt, "mbox", "1")), 25))
        c2.append("INBOX", None, None, msg.replace(b"appended", b"second"))
        with open(os.path.join(mnt, "ctl"), "w") as f:
            f.write("refresh\n")
        with open(os.path.join(mnt, "ctl"), "w") as f:
            f.write("delete mbox 1\n")
        c2.noop()
        typ, data = c2.uid("SEARCH", None, "ALL")
        check("without UIDPLUS a delete is a plain EXPUNGE: one message left", len(data[0].split()) == 1, data)
        check("the one the delete did not name", read(os.path.join(mnt, "mbox", "2", "subject")) == b"second while mounted"
              and nums(os.path.join(mnt, "mbox")) == [2])
        umount(mnt)
        subprocess.run([os.path.join(top, "tests/dovecot.sh"), "stop", d2])
    finally:
        umount(mnt)
        umount(ref)
        for x in (d, os.path.join(tmp, "dovecot2")):
            if os.path.isdir(x):
                subprocess.run([os.path.join(top, "tests/dovecot.sh"), "stop", x], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
