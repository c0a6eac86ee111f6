#!/usr/bin/env python3
"""What acme Mail writes over 9P, and the search file both ways.

Starts mailfs -f -s on a copy of the sample mailbox (and a FUSE mount of
another copy), then checks: the box ctl opened OWRITE takes refresh,
"delete mbox" with no numbers, "delete mbox 2/ 99" (unknown numbers
skipped), save, unknown commands; each write is one command whose error
is the write's; search answers per fid, ascending, no trailing blank.
usage: t-mailctl.py MAILFS
"""
import os, shutil, signal, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p9client as p9
import tap as tap_

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tap = tap_.Tap()
check = tap.check


def werr(c, fid, data):
    try:
        c.write(fid, 0, data)
        return None
    except p9.P9Error as e:
        return e.ename


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp()
    box = os.path.join(tmp, "box")
    shutil.copy(os.path.join(top, "testdata/sample.mbox"), box)
    ns = os.path.join(tmp, "ns")
    env = dict(os.environ, NAMESPACE=ns, TZ="UTC", HOME=tmp)
    srv = tap_.post(mailfs, [box], ns, "mailtest", env)
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    box2 = os.path.join(tmp, "box2")
    shutil.copy(os.path.join(top, "testdata/sample.mbox"), box2)
    try:
        c = p9.connect(os.path.join(ns, "mailtest"))
        ctl, _ = c.walkto("mbox/ctl")
        c.open(ctl, p9.OWRITE)
        check("box ctl opens OWRITE (Mail exits otherwise)", True)
        check("refresh (7 bytes, no newline) succeeds", werr(c, ctl, b"refresh") is None)
        check("'delete mbox' with no numbers succeeds", werr(c, ctl, b"delete mbox") is None)
        e = werr(c, ctl, b"delete mbox 2/ 99")
        fid, _ = c.walkto("mbox")
        c.open(fid)
        names = [d.name for d in c.dirread(fid)]
        c.clunk(fid)
        check("'delete mbox 2/ 99' deletes 2 and skips 99", e is None and "2" not in names and "5" in names,
              "error %r, listing %r" % (e, names))
        with open(box, "rb") as f:
            check("the mailbox file lost message 2 only", f.read().count(b"\nFrom ") + 1 == 4)
        check("an unknown command is the write's error", werr(c, ctl, b"bogus") == "unknown control message")
        e = werr(c, ctl, b"save stored 1/ 3/")
        stored = os.path.join(tmp, "mail", "stored")
        ok = e is None and os.path.exists(stored) and open(stored, "rb").read().count(b"From ") >= 2
        check("save stored 1/ 3/ appends to $HOME/mail/stored", ok, "error %r" % e)
        check("save of an unknown message fails: no such message",
              werr(c, ctl, b"save stored 42") == "no such message")
        check("save with too few fields fails: bad control message",
              (werr(c, ctl, b"save stored") or "").startswith("bad control message"))
        other = os.path.join(tmp, "other.mbox")
        shutil.copy(os.path.join(top, "testdata/boxes/plain.mbox"), other)
        check("open path name: the box appears in the root",
              werr(c, ctl, ("open %s other" % other).encode()) is None and c.statpath("other").name == "other")
        check("open of the same name and path again: nothing to do",
              werr(c, ctl, ("open %s other" % other).encode()) is None)
        check("open of a used name for another path: 'mbox name in use'",
              "mbox name in use" in (werr(c, ctl, ("open %s other" % box).encode()) or ""))
        check("a / in the name: '/ not allowed in mailbox name'",
              werr(c, ctl, ("open %s a/b" % other).encode()) == "/ not allowed in mailbox name")
        octl, _ = c.walkto("other/ctl")
        c.open(octl, p9.OWRITE)
        check("close other, written to its own ctl, always succeeds", werr(c, octl, b"close other") is None)
        c.clunk(octl)
        fid, _ = c.walkto("")
        c.open(fid)
        names = [d.name for d in c.dirread(fid)]
        c.clunk(fid)
        check("a closed box leaves the root; mbox stays", "other" not in names and "mbox" in names, names)
        mfid, _ = c.walkto("mbox/3")
        try:
            c.remove(mfid)
            removed = True
        except p9.P9Error:
            removed = False
        fid, _ = c.walkto("mbox")
        c.open(fid)
        names = [d.name for d in c.dirread(fid)]
        c.clunk(fid)
        check("Tremove of a message directory deletes it (and clunks the fid)", removed and "3" not in names, names)

        ro = os.path.join(tmp, "ro.mbox")
        shutil.copy(os.path.join(top, "testdata/sample.mbox"), ro)
        before = open(ro, "rb").read()
        rosrv = tap_.post(mailfs, ["-r", ro], ns, "mailro", env)
        try:
            rc = p9.connect(os.path.join(ns, "mailro"))
            rctl, _ = rc.walkto("mbox/ctl")
            rc.open(rctl, p9.OWRITE)
            e1, e2 = werr(rc, rctl, b"delete mbox 1"), werr(rc, rctl, b"flag +s 1")
            check("-r over 9P: delete and flag fail, read-only", e1 == e2 == "mailbox is read-only", (e1, e2))
            check("-r: refresh still works", werr(rc, rctl, b"refresh") is None)
            rc.close()
            check("-r: the mailbox file is untouched", open(ro, "rb").read() == before)
        finally:
            tap_.stop(rosrv)
        c.clunk(ctl)

        s1, _ = c.walkto("mbox/search")
        c.open(s1, p9.ORDWR)
        s2, _ = c.walkto("mbox/search")
        c.open(s2, p9.ORDWR)
        check("search reads nothing before a query", c.read(s1, 0, 100) == b"")
        c.write(s1, 0, b"lunch")
        c.write(s2, 0, "MÜNCHEN".encode())
        r1, r2 = c.read(s1, 0, 100), c.read(s2, 0, 100)
        check("search: results per fid, ascending, no trailing blank",
              r1 == b"1" and r2 == b"5", "fid 1 %r, fid 2 %r" % (r1, r2))
        c.write(s1, 0, b"example")
        r = c.read(s1, 0, 100).decode()
        nums = [int(x) for x in r.split(" ")] if r else []
        check("search over every message: ascending numbers, single spaces",
              nums == sorted(nums) and len(nums) >= 3 and not r.endswith(" ") and "  " not in r, r)
        c.close()

        subprocess.run([mailfs, "-m", mnt, box2], check=True, env=env)
        fd = os.open(os.path.join(mnt, "mbox/search"), os.O_RDWR)
        os.write(fd, b"invoice")
        got = os.pread(fd, 100, 0)
        os.close(fd)
        check("search through the mount: write a query, read the answer", got == b"4", got)

        def flags(i):
            with open(os.path.join(mnt, "mbox/%d/flags" % i)) as f:
                return f.read()

        def write(path, data):
            # the descriptor is closed whatever fails: one left open keeps
            # the mount busy, and the unmount at the end fails
            fd = os.open(os.path.join(mnt, path), os.O_WRONLY)
            err = None
            try:
                os.write(fd, data)
            except OSError as e:
                err = e.errno
            try:
                os.close(fd)
            except OSError as e:
                err = err or e.errno
            return err

        check("a new message is recent: ----r--", flags(1) == "----r--", flags(1))
        check("writing +s-r to flags", write("mbox/1/flags", b"+s-r\n") is None and flags(1) == "-----s-", flags(1))
        with open(box2, "rb") as f:
            stored = f.read().split(b"\nFrom ")[0]
        check("the mbox keeps it as Status: RO", b"\nStatus: RO\n" in stored, stored[:400])
        check("ctl flag +af 2 and replied 3, one close",
              write("mbox/ctl", b"flag +af 2\nreplied 3\n") is None and flags(2) == "a--fr--" and flags(3) == "a---r--",
              (flags(2), flags(3)))
        info = open(os.path.join(mnt, "mbox/2/info")).read()
        check("info carries the new flags line", "\nflags a--fr--\n" in info, info)
        check("a bad flag string fails the write: EINVAL", write("mbox/1/flags", b"+q") == 22)
        with open(box2, "rb") as f:
            data = f.read()
        check("flags only add header lines: every message's body is unchanged",
              data.count(b"Lunch on Friday") >= 1 and data.count(b"\nFrom ") == 4 and b"X-Status: AF" in data
              and b"X-Status: A\n" in data)

        # one grammar on both transports: 12 and 12/ are numbers, 1x is not
        c = p9.connect(os.path.join(ns, "mailtest"))
        ctl, _ = c.walkto("mbox/ctl")
        c.open(ctl, p9.OWRITE)
        check("over 9P 'delete mbox 1x' fails: bad message number",
              werr(c, ctl, b"delete mbox 1x") == "bad message number" and c.statpath("mbox/1").name == "1")
        check("through the mount 'delete mbox 1x' fails the write: EINVAL, 1 stays",
              write("mbox/ctl", b"delete mbox 1x\n") == 22 and os.path.isdir(os.path.join(mnt, "mbox/1")))
        # the lines of one open are one transaction: a refused one voids the others
        fd = os.open(os.path.join(mnt, "mbox/ctl"), os.O_RDWR)
        e1 = e2 = e3 = None
        try:
            os.write(fd, b"delete mbox 4\n")
        except OSError as e:
            e1 = e.errno
        try:
            os.write(fd, b"garbage\n")
        except OSError as e:
            e2 = e.errno
        told = os.read(fd, 200)
        try:
            os.close(fd)
        except OSError as e:
            e3 = e.errno
        check("through the mount a refused line fails its write (EINVAL), the one before was taken",
              e1 is None and e2 == 22, (e1, e2))
        check("reading the ctl on the same open gives the error", told == b"unknown control message\n", told)
        check("close reports the refusal too (EINVAL) and applies nothing: 4 is still there",
              e3 == 22 and os.path.isdir(os.path.join(mnt, "mbox/4")), e3)

        # a name a sender chose: no way out of the mail directory, no name that reads otherwise
        outside = os.path.join(tmp, "outside")
        os.mkdir(outside)
        os.makedirs(os.path.join(tmp, "mail"), exist_ok=True)
        os.symlink(outside, os.path.join(tmp, "mail", "link"))
        e1, e2 = werr(c, ctl, b"save ../../x 1"), werr(c, ctl, b"save link/y 1")
        check("save ../../x is refused: it leaves the mail directory; nothing written",
              "leaves the mail directory" in (e1 or "") and not os.path.exists(os.path.join(os.path.dirname(tmp), "x")), e1)
        check("save link/y is refused: a symbolic link leads out; nothing written",
              "symbolic link" in (e2 or "") and os.listdir(outside) == [], e2)
        check("save kept 1, under the mail directory, still works",
              werr(c, ctl, b"save kept 1") is None and os.path.exists(os.path.join(tmp, "mail", "kept")))
        evil = os.path.join(tmp, "evil.mbox")
        with open(evil, "wb") as f:
            f.write(b"From a@b.c Mon Jan  1 00:00:00 2024\nFrom: a@b.c\nSubject: bidi\n"
                    b"Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nhi\n"
                    b"--B\nContent-Type: application/octet-stream\n"
                    b"Content-Disposition: attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe\n\nx\n--B--\n")
        rctl2, _ = c.walkto("ctl")
        c.open(rctl2, p9.OWRITE)
        werr(c, rctl2, ("open %s evil" % evil).encode())
        c.clunk(rctl2)
        fname = c.readfile("evil/1/2/filename")[0]
        info = c.readfile("evil/1/2/info")[0]
        check("a filename's U+202E is made '_' in filename and info",
              fname == b"invoice_fdp.exe" and b"filename invoice_fdp.exe" in info and b"\xe2\x80\xae" not in info,
              (fname, info))

        # reading a message over 9P marks it seen, as a person reads it in acme Mail
        def flags9(i):
            return c.readfile("mbox/%d/flags" % i)[0].decode()
        before = flags9(5)
        c.readfile("mbox/5/body")
        after = flags9(5)
        with open(box, "rb") as f:
            last = f.read().split(b"\nFrom ")[-1]
        check("over 9P reading 5/body marks it seen, stored as Status: RO",
              "s" not in before and after == "-----s-" and b"\nStatus: RO\n" in last, (before, after))
        c.readfile("mbox/1/header")
        check("reading 1/header does not", "s" not in flags9(1), flags9(1))
        c.close()
        with open(os.path.join(mnt, "mbox/4/body"), "rb") as f:
            f.read()
        check("through the mount reading does not mark (grep -r marks nothing)", "s" not in flags(4), flags(4))
        none = os.path.join(tmp, "none.mbox")
        shutil.copy(os.path.join(top, "testdata/sample.mbox"), none)
        run = os.path.join(tmp, "run")
        os.mkdir(run, 0o700)
        nsrv = tap_.post(mailfs, ["-S", "none", none], ns, "mailnone", dict(env, XDG_RUNTIME_DIR=run))
        try:
            nc = p9.connect(os.path.join(ns, "mailnone"))
            # a walk makes no content: the costly parts' container cache stays empty
            cache = os.path.join(run, "mailfs-%d" % os.getuid(), str(nsrv.pid))
            made = lambda: sorted(os.listdir(cache)) if os.path.isdir(cache) else []
            for path in ("mbox/4/body", "mbox/4/2/body", "mbox/4/2/filename"):
                fid, _ = nc.walkto(path)
                nc.clunk(fid)
            walked = made()
            fid, _ = nc.walkto("mbox/4/2/body")
            nc.stat(fid)
            nc.clunk(fid)
            check("over 9P a walk to 4/body and 4/2/body decodes nothing; a stat of 4/2/body does",
                  walked == [] and len(made()) == 1, (walked, made()))
            nc.readfile("mbox/2/body")
            nc.readfile("mbox/2/raw")
            check("-S none: over 9P reading marks nothing, the mailbox is untouched",
                  "s" not in nc.readfile("mbox/2/flags")[0].decode() and
                  open(none, "rb").read() == open(os.path.join(top, "testdata/sample.mbox"), "rb").read())
            nc.close()
        finally:
            tap_.stop(nsrv)
    finally:
        if os.path.ismount(mnt):
            r = subprocess.run(["fusermount3", "-u", mnt], capture_output=True, text=True)
            check("the mount is unmounted at the end", r.returncode == 0, r.stderr.strip())
        tap_.stop(srv)
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
