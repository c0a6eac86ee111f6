#!/usr/bin/env python3
"""IMAP BINARY (RFC 3516): a message whose attachment is sent as it is
(Content-Transfer-Encoding binary, and 8bit text) with NUL bytes in it,
on the test Dovecot (which offers BINARY, and in a normal FETCH sends
each NUL as 0x80): read through the IMAP mount, the parts' bodies are
the same bytes as the same message's read from an mbox, NULs included;
the base64 part beside them too.  usage: t-binary.py MAILFS"""
import os, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest
import tap as tap_

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tap = tap_.Tap()
check = tap.check

BLOB = bytes(range(256)).replace(b"\r", b"").replace(b"\n", b"") + b"\n" + b"\x00" * 8 + b"tail\x00\n"
MSG = (b"From: a@example.org\nTo: b@example.org\nSubject: NULs\nMessage-ID: <nuls@example.org>\n"
       b"Date: Tue, 1 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
       b"--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nzero\x00byte, caf\xc3\xa9\n"
       b"--b\nContent-Type: application/octet-stream; name=blob.bin\nContent-Transfer-Encoding: binary\n\n" + BLOB +
       b"--b\nContent-Type: application/octet-stream; name=b64.bin\nContent-Transfer-Encoding: base64\n\nAAECAwAA/w==\n"
       b"--b--\n")


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="t-binary.")
    d = os.path.join(tmp, "dovecot")
    env = imaptest.dovecot(d)
    with open(os.path.join(env["IMAP_MAILDIR"], "cur", "1.nuls:2,S"), "wb") as f:
        f.write(MSG)
    box = os.path.join(tmp, "box")
    with open(box, "wb") as f:
        f.write(b"From a@example.org Tue Dec  1 10:00:00 2026\n" + MSG + b"\n")
    keys, penv = imaptest.home(tmp)
    im, mb = os.path.join(tmp, "imap"), os.path.join(tmp, "mbox")
    os.mkdir(im)
    os.mkdir(mb)
    try:
        subprocess.run([mailfs, "-k", keys, "-m", im, "imap://alice@127.0.0.1:%s/INBOX" % env["IMAP_PORT"]],
                       env=penv, check=True, timeout=60)
        subprocess.run([mailfs, "-r", "-m", mb, box], env=penv, check=True, timeout=60)

        def body(root, part):
            with open(os.path.join(root, "mbox", "1", part, "body"), "rb") as f:
                return f.read()
        for part, what in (("2", "a binary attachment with NULs"), ("1", "8bit text with a NUL"), ("3", "a base64 part")):
            a, b = body(im, part), body(mb, part)
            check("%s: over IMAP the same %d bytes as from the mbox" % (what, len(b)), a == b and len(b) > 0,
                  "imap %r... mbox %r..." % (a[:40], b[:40]))
        # the line end before a boundary is the boundary's (RFC 2046), not the body's
        check("the attachment is the exact bytes sent", body(im, "2") == BLOB[:-1])
        subprocess.run(["fusermount3", "-u", im])
        time.sleep(0.3)
        subprocess.run([mailfs, "-k", keys, "-m", im, "imap://alice@127.0.0.1:%s/INBOX" % env["IMAP_PORT"]],
                       env=penv, check=True, timeout=60)
        check("and again from the cache, a second mount", body(im, "2") == BLOB[:-1])
    finally:
        for m in (im, mb):
            subprocess.run(["fusermount3", "-u", m], stderr=subprocess.DEVNULL)
        imaptest.stop(d)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.exit(tap.done())
