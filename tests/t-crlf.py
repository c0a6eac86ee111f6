#!/usr/bin/env python3
"""A message stored with CRLF lines under an LF From_ line (as an MDA
appends raw SMTP data) is split into header and body like any other:
every file of it, through the mount and over 9P, equals the Maildir
reading of the same message.  usage: t-crlf.py MAILFS"""
import os, shutil, subprocess, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p9client as p9
import tap as tap_

tap = tap_.Tap()
check = tap.check
MSG = (b"From: a@b.c\r\nSubject: crlf\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
       b"--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
       b"--B\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\n"
       b"ZWg=\n--B--\r\n")
# files whose content does not depend on the store (the envelope and flags do)
SAME = ["subject", "from", "type", "filename", "disposition", "body", "raw", "rawheader",
        "rawbody", "mimeheader", "header", "lines", "size"]
PATHS = [f for f in SAME] + ["1/" + f for f in SAME] + ["2/" + f for f in SAME]


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="t-crlf.")
    mbox = os.path.join(tmp, "crlf.mbox")
    with open(mbox, "wb") as f:
        f.write(b"From a@b.c Mon Jan  1 00:00:00 2024\n" + MSG + b"\n")
    md = os.path.join(tmp, "md")
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, d))
    with open(os.path.join(md, "cur", "1704067200.a.host:2,S"), "wb") as f:
        f.write(MSG)
    env = dict(os.environ, NAMESPACE=os.path.join(tmp, "ns"), TZ="UTC", HOME=tmp)
    mnts, srvs = [], []
    try:
        for name, box in (("mbox", mbox), ("maildir", md)):
            m = os.path.join(tmp, "mnt-" + name)
            os.mkdir(m)
            subprocess.run([mailfs, "-r", "-m", m, box], check=True, env=env)
            mnts.append(m)
            srvs.append(tap_.post(mailfs, ["-r", box], env["NAMESPACE"], "crlf" + name, env))

        def fuse(i, p):
            with open(os.path.join(mnts[i], "mbox", "1", p), "rb") as f:
                return f.read()
        check("the mbox message is split: no filename, 10 body lines, 2/body keeps its '='",
              fuse(0, "filename") == b"" and fuse(0, "lines") == b"10" and fuse(0, "2/body") == b"ZWg=",
              (fuse(0, "filename"), fuse(0, "lines"), fuse(0, "2/body")))
        check("raw has LF line ends", b"\r" not in fuse(0, "raw"), fuse(0, "raw")[:80])
        diff = [p for p in PATHS if fuse(0, p) != fuse(1, p)]
        check("through the mount every file equals the Maildir's (%d files)" % len(PATHS), not diff,
              "\n".join("%s: %r / %r" % (p, fuse(0, p)[:60], fuse(1, p)[:60]) for p in diff))
        cs = [p9.connect(os.path.join(env["NAMESPACE"], "crlf" + n)) for n in ("mbox", "maildir")]
        nine = lambda i, p: cs[i].readfile("mbox/1/" + p)[0]
        diff = [p for p in PATHS if nine(0, p) != nine(1, p) or nine(0, p) != fuse(1, p)]
        check("over 9P every file equals the Maildir's, and the mount's", not diff, diff)
        for c in cs:
            c.close()
    finally:
        for m in mnts:
            subprocess.run(["fusermount3", "-u", m])
        for s in srvs:
            tap_.stop(s)
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
