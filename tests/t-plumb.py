#!/usr/bin/env python3
"""New-mail notices to the plumber, as acme Mail needs them (spec 4.6).

A stand-in plumber (tap.standin, a 9P server written with p9client's codec)
is posted as "plumb" in a fresh namespace; mailfs -s serves a copy of
the sample mailbox there.  Nothing may be plumbed for the messages it
starts with; a delivered message must be plumbed once as mailtype=new,
with data Mail/mbox/<n> and the digest its info shows; a deleted one as
mailtype=delete.  usage: t-plumb.py MAILFS
"""
import os, shutil, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p9client as p9
import tap as tap_

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
got = []
tap = tap_.Tap()
check = tap.check


def wait(k, secs=5):
    end = time.time() + secs
    while len(got) < k and time.time() < end:
        time.sleep(0.05)


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp()
    ns = os.path.join(tmp, "ns")
    os.mkdir(ns, 0o700)
    box = os.path.join(tmp, "box")
    shutil.copy(os.path.join(top, "testdata/sample.mbox"), box)
    tap_.standin(os.path.join(ns, "plumb"), write=lambda state, data: got.append(data))
    env = dict(os.environ, NAMESPACE=ns, TZ="UTC")
    srv = tap_.post(mailfs, [box], ns, "mail", env)
    try:
        time.sleep(0.5)
        check("nothing is plumbed for the messages at start", got == [], got)
        with open(box, "ab") as f:
            f.write(b"From carol@example.com Fri Jul  3 08:00:00 2026\nFrom: Carol <carol@example.com>\n"
                    b"Subject: it's new\nMessage-ID: <new1@example.com>\n\nhello\n\n")
        wait(1)
        check("a delivered message is plumbed once", len(got) == 1, got)
        c = p9.connect(os.path.join(ns, "mail"))
        info = c.catfile("mbox/6/info")[0].decode()
        digest = [l.split(" ", 1)[1] for l in info.splitlines() if l.startswith("digest ")][0]
        if got:
            lines = got[0].decode().split("\n", 6)
            check("src, dst, wdir, type: mailfs seemail / text", lines[:4] == ["mailfs", "seemail", "/", "text"], lines)
            attrs = lines[4]
            check("attributes: filetype=mail mailtype=new, sender, quoted subject, digest, date",
                  attrs.startswith("filetype=mail mailtype=new sender=") and "subject='it''s new'" in attrs
                  and ("digest=" + digest) in attrs and "date='" in attrs and " 2026'" in attrs, attrs)
            check("data Mail/mbox/6 with its length", lines[5:] == ["11", "Mail/mbox/6"], lines[5:])
        # reading a message over 9P marks it seen and rewrites the mbox: no announcement
        c.readfile("mbox/3/body")
        time.sleep(1.5)
        check("reading 3/body (marked seen, the mbox rewritten) plumbs nothing",
              len(got) == 1 and "s" in c.readfile("mbox/3/flags")[0].decode(), got)
        ctl, _ = c.walkto("mbox/ctl")
        c.open(ctl, p9.OWRITE)
        c.write(ctl, 0, b"delete mbox 2")
        wait(2)
        check("a deleted message is plumbed as mailtype=delete, Mail/mbox/2",
              len(got) == 2 and b"mailtype=delete" in got[1] and got[1].endswith(b"\n11\nMail/mbox/2"), got)
        c.close()
    finally:
        tap_.stop(srv)
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
