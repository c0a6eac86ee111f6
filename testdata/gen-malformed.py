#!/usr/bin/env python3
"""Regenerate the two test mailboxes too big to write by hand.

    boxes/malformed-longheader.mbox  one Subject: line of exactly 102400 bytes
    boxes/malformed-deep.mbox        multipart/mixed nested 1000 levels deep

Both are followed by a small well-formed message, so a reader can be
checked for resynchronising after the hostile one. Output is fully
deterministic (no clocks, no randomness); run from any directory:

    python3 testdata/gen-malformed.py
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
BOXES = os.path.join(HERE, "boxes")

LINE_LEN = 100 * 1024  # bytes in the long header line, not counting its LF
DEPTH = 1000           # number of nested multipart entities


def trailer(from_date, rfc_date, tag):
    return (
        "From carol@example.com %s\n"
        "From: Carol Danvers <carol@example.com>\n"
        "To: alice@example.org\n"
        "Subject: Well-formed message after the %s one\n"
        "Date: %s\n"
        "Message-ID: <%s.after@example.com>\n"
        "\n"
        "If you can read this as its own message, the reader recovered.\n"
        "\n" % (from_date, tag, rfc_date, tag)
    ).encode("ascii")


def longheader():
    prefix = b"Subject: "
    words = []
    n = len(prefix)
    i = 0
    while True:
        w = b"word%05d" % i
        if n + len(w) + 1 > LINE_LEN:
            break
        words.append(w)
        n += len(w) + 1
        i += 1
    line = prefix + b" ".join(words)
    line += b"x" * (LINE_LEN - len(line))  # pad to the exact length
    assert len(line) == LINE_LEN and b"\n" not in line
    head = (
        b"From bob@example.org Mon Sep  8 10:00:00 2025\n"
        b"From: Bob Builder <bob@example.org>\n"
        b"To: alice@example.org\n"
        + line + b"\n"
        b"Date: Mon, 08 Sep 2025 10:00:00 +0000\n"
        b"Message-ID: <20250908100000.longheader@example.org>\n"
        b"\n"
        b"The Subject header above is a single unfolded line of 102400 bytes.\n"
        b"\n"
    )
    return head + trailer("Mon Sep  8 10:05:00 2025",
                          "Mon, 08 Sep 2025 10:05:00 +0000", "longheader")


def deep():
    out = [
        b"From bob@example.org Tue Sep  9 10:00:00 2025\n"
        b"From: Bob Builder <bob@example.org>\n"
        b"To: alice@example.org\n"
        b"Subject: multipart/mixed nested 1000 deep\n"
        b"Date: Tue, 09 Sep 2025 10:00:00 +0000\n"
        b"Message-ID: <20250909100000.deep@example.org>\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="deep0001"\n'
        b"\n"
    ]
    # Level k (1..DEPTH) is a multipart/mixed with boundary deepNNNN whose
    # only part is level k+1; the part inside level DEPTH is text/plain.
    for k in range(1, DEPTH + 1):
        out.append(b"--deep%04d\n" % k)
        if k < DEPTH:
            out.append(b'Content-Type: multipart/mixed; boundary="deep%04d"\n\n'
                       % (k + 1))
    out.append(b"Content-Type: text/plain; charset=us-ascii\n\n"
               b"The leaf, inside 1000 nested multiparts.\n")
    for k in range(DEPTH, 0, -1):
        out.append(b"--deep%04d--\n" % k)
    out.append(b"\n")
    return b"".join(out) + trailer("Tue Sep  9 10:05:00 2025",
                                   "Tue, 09 Sep 2025 10:05:00 +0000", "deep")


def main():
    os.makedirs(BOXES, exist_ok=True)
    for name, data in (("malformed-longheader.mbox", longheader()),
                       ("malformed-deep.mbox", deep())):
        with open(os.path.join(BOXES, name), "wb") as f:
            f.write(data)
        print("%-28s %7d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
