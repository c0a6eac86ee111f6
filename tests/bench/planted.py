#!/usr/bin/env python3
"""planted.py N DIR: a deterministic mbox of N messages with words planted
where an index must look, and where it must not.

Each message gets planted words (plantNNN, 200 of them) in some of:
a 7bit body, a quoted-printable body with a soft line break inside the
word, a base64 body whose line breaks fall inside it, an RFC 2047
subject, an HTML part's text, a text/plain attachment, and an
application/octet-stream attachment that is UTF-8 text.  Decoys hold
other planted words where no text is: inside an HTML <script>, and in a
binary application/octet-stream attachment.

Writes DIR/planted.mbox, DIR/maildir/{cur,new,tmp} (the same messages,
one file each, for notmuch), and DIR/decoded/N.txt: the decoded text of
message N (its subject and its text parts, as a reader sees them).
The truth for a word is grep -l -w -i over DIR/decoded.
"""
import base64, os, quopri, random, sys

n, d = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(7)
WORDS = ["plant%03d" % i for i in range(200)]
FILL = "the of and to in is you that it was for on are as with his they at be this have or one".split()


def filler(k):
    return " ".join(rnd.choice(FILL) for _ in range(k))


def qp_split(text, word):
    """QP of text whose soft line break falls inside word."""
    i = text.index(word) + len(word) // 2
    return text[:i] + "=\n" + text[i:] + "\n"


def b64_split(text, word):
    """base64 of text, 76-column lines, with a line break inside word's encoding (shifted so)."""
    pad = 57 - (text.index(word) + len(word) // 2) % 57
    text = "x" * pad + " " + text
    return base64.encodebytes(text.encode()).decode(), text


os.makedirs(os.path.join(d, "decoded"), exist_ok=True)
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(d, "maildir", sub), exist_ok=True)
mbox = open(os.path.join(d, "planted.mbox"), "w")
for i in range(1, n + 1):
    w = rnd.sample(WORDS, 8)
    kind = i % 6
    subject = "note %d" % i
    hdrsubj = subject
    decoded = []
    parts = []
    if rnd.random() < 0.2:
        subject = "Résumé %s %d" % (w[0], i)
        hdrsubj = "=?utf-8?b?%s?=" % base64.b64encode(subject.encode()).decode()
    decoded.append(subject)
    if kind == 0:
        t = "%s %s %s.\n" % (filler(20), w[1], filler(20))
        body = ("Content-Type: text/plain; charset=us-ascii\n\n", t)
        decoded.append(t)
    elif kind == 1:
        t = "%s café %s %s.\n" % (filler(15), w[1], filler(15))
        body = ("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
                qp_split(quopri.encodestring(t.encode()).decode().replace("=\n", ""), w[1]))
        decoded.append(t)
    elif kind == 2:
        t = "%s %s %s.\n" % (filler(30), w[1], filler(30))
        enc, t = b64_split(t, w[1])
        body = ("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n", enc)
        decoded.append(t)
    else:
        body = None
        t = "%s %s.\n" % (filler(20), w[1])
        decoded.append(t)
        parts.append("Content-Type: text/plain; charset=utf-8\n\n" + t)
        if kind >= 3:
            h = "<html><head><script>var x = '%s';</script></head><body><p>%s <b>%s</b></p></body></html>\n" % (
                w[5], filler(10), w[2])
            parts.append("Content-Type: text/html; charset=utf-8\n\n" + h)
            decoded.append("%s %s\n" % (filler(0), w[2]))
        if kind >= 4:
            a = "%s %s\n" % (filler(12), w[3])
            parts.append('Content-Type: text/plain; charset=utf-8; name="notes-%d.txt"\n'
                         'Content-Disposition: attachment; filename="notes-%d.txt"\n\n%s' % (i, i, a))
            decoded.append(a)
            o = "%s %s\n" % (filler(12), w[4])
            parts.append('Content-Type: application/octet-stream; name="log-%d.dat"\n'
                         'Content-Disposition: attachment; filename="log-%d.dat"\n'
                         "Content-Transfer-Encoding: base64\n\n%s" % (i, i, base64.encodebytes(o.encode()).decode()))
            decoded.append(o)
        if kind == 5:
            blob = bytes([0, 255, 254, 1]) + (" %s " % w[6]).encode() + bytes([0, 200])
            parts.append('Content-Type: application/octet-stream; name="x-%d.bin"\n'
                         'Content-Disposition: attachment; filename="x-%d.bin"\n'
                         "Content-Transfer-Encoding: base64\n\n%s" % (i, i, base64.encodebytes(blob).decode()))
    hdr = ("From: Sender %d <s%d@example.org>\nTo: r@example.org\nSubject: %s\n"
           "Date: Mon, 02 Mar 2026 10:%02d:00 +0000\nMessage-ID: <p%d@example.org>\nMIME-Version: 1.0\n"
           % (i, i, hdrsubj, i % 60, i))
    if body:
        msg = hdr + body[0] + body[1]
    else:
        msg = hdr + 'Content-Type: multipart/mixed; boundary="pb"\n\n' + "".join(
            "--pb\n" + p + ("\n" if not p.endswith("\n") else "") for p in parts) + "--pb--\n"
    mbox.write("From s%d@example.org Mon Mar  2 10:00:00 2026\n%s\n" % (i, msg))
    with open(os.path.join(d, "maildir", "cur", "%010d.planted:2," % i), "w") as f:
        f.write(msg)
    with open(os.path.join(d, "decoded", "%d.txt" % i), "w") as f:
        f.write("\n".join(decoded))
mbox.close()
with open(os.path.join(d, "words"), "w") as f:
    f.write("\n".join(WORDS) + "\n")
