#!/usr/bin/env python3
"""
mboxcheck.py ORIGINAL CURRENT [--deleted-ids-file F] [--deleted-must-go]
                              [--delivered DIR]

An mbox reader independent of mailfs (and of Python's mailbox module,
which splits at any line starting "From ").  Checks that CURRENT is a
well-formed mbox and that its messages, compared by their exact bytes,
are:
  every message of ORIGINAL, exactly once,
  except those named in F (Message-IDs, or numbers = positions in
  ORIGINAL counting from 1), which may each be present once or absent
  (absent only, with --deleted-must-go),
  plus every file in DIR (each one message's exact bytes), exactly once,
  and nothing else.
A message starts at a line "From <sender> <asctime date>" at the start of
the file or after a blank line; that blank line is the separator and is
not part of the message before it.  At the end of the file one trailing
blank line is likewise a separator.  Exit 0 if all holds, 1 if not, 2 on
usage errors.
"""
import argparse
import collections
import os
import re
import sys

FROM_RE = re.compile(
    rb"From \S+ (Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    rb"( [1-9]|[0-3][0-9]) [0-2][0-9]:[0-5][0-9]:[0-6][0-9] [0-9]{4}\r?\n?\Z")


def is_fromline(line):
    return FROM_RE.match(line) is not None


def split_mbox(data):
    """(messages, problems): messages is a list of (offset, bytes)."""
    problems = []
    msgs = []
    if not data:
        return msgs, problems
    lines = [l + b"\n" for l in data.split(b"\n")]
    lines[-1] = lines[-1][:-1]
    if not lines[-1]:
        lines.pop()
    if not is_fromline(lines[0]):
        problems.append("does not start with a From_ line: %r" % lines[0][:80])
        return msgs, problems
    if not data.endswith(b"\n"):
        problems.append("does not end with a newline (last bytes %r)" % data[-40:])
    start = 0
    off = 0
    prev = None
    for i, line in enumerate(lines):
        if i > 0 and is_fromline(line):
            if prev in (b"\n", b"\r\n"):
                msgs.append((start, data[start:off - len(prev)]))
                start = off
            else:
                problems.append("offset %d: a From_ line not preceded by a blank line"
                                " (message at offset %d has no separator): %r"
                                % (off, start, line[:80]))
        prev = line
        off += len(line)
    last = data[start:]
    if last.endswith(b"\n\n"):
        last = last[:-1]
    elif last.endswith(b"\r\n\r\n"):
        last = last[:-2]
    msgs.append((start, last))
    for o, m in msgs:
        if not m.endswith(b"\n"):
            problems.append("offset %d: message does not end with a newline" % o)
    return msgs, problems


def message_id(msg):
    """The Message-ID header's value (angle brackets kept), or None."""
    head = msg.split(b"\n\n", 1)[0]
    lines = head.split(b"\n")[1:]   # skip the From_ line
    unfolded = []
    for l in lines:
        if l[:1] in (b" ", b"\t") and unfolded:
            unfolded[-1] += b" " + l.strip()
        else:
            unfolded.append(l.rstrip(b"\r"))
    for l in unfolded:
        if l.lower().startswith(b"message-id:"):
            return l[11:].strip().decode("latin-1")
    return None


def describe(msg):
    mid = message_id(msg)
    subj = None
    for l in msg.split(b"\n\n", 1)[0].split(b"\n"):
        if l.lower().startswith(b"subject:"):
            subj = l[8:].strip().decode("utf-8", "replace")
            break
    return "%d bytes, Message-ID %s, Subject %r, first line %r" % (
        len(msg), mid, subj, msg.split(b"\n", 1)[0][:70].decode("latin-1"))


def norm_id(s):
    s = s.strip()
    if s.startswith("<") and s.endswith(">"):
        s = s[1:-1]
    return s


def firstdiff(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1] if __doc__ else None)
    ap.add_argument("original")
    ap.add_argument("current")
    ap.add_argument("--deleted-ids-file", help="Message-IDs or message numbers (positions in ORIGINAL) requested for deletion, one a line")
    ap.add_argument("--deleted-must-go", action="store_true", help="the messages of --deleted-ids-file must be absent")
    ap.add_argument("--delivered", help="directory of delivered messages, one file each")
    ap.add_argument("-q", "--quiet", action="store_true", help="print only violations")
    a = ap.parse_args()

    errors = []
    orig_data = open(a.original, "rb").read()
    cur_data = open(a.current, "rb").read()
    orig, p = split_mbox(orig_data)
    if p:
        print("mboxcheck: ORIGINAL %s is not well-formed: %s" % (a.original, "; ".join(p[:5])), file=sys.stderr)
        return 2
    cur, p = split_mbox(cur_data)
    errors += ["CURRENT malformed: " + x for x in p]

    # what may be deleted
    deletable = set()     # indexes into orig
    if a.deleted_ids_file:
        byid = collections.defaultdict(list)
        for i, (_, m) in enumerate(orig):
            mid = message_id(m)
            if mid:
                byid[norm_id(mid)].append(i)
        for line in open(a.deleted_ids_file):
            w = line.strip()
            if not w:
                continue
            if w.isdigit():
                n = int(w)
                if not 1 <= n <= len(orig):
                    print("mboxcheck: deleted number %d is not in ORIGINAL (1..%d)" % (n, len(orig)), file=sys.stderr)
                    return 2
                deletable.add(n - 1)
            elif norm_id(w) in byid:
                deletable.update(byid[norm_id(w)])
            else:
                print("mboxcheck: deleted Message-ID %s is not in ORIGINAL" % w, file=sys.stderr)
                return 2

    # the expected multiset: for each distinct message, [min, max] copies and a label
    lo = collections.Counter()
    hi = collections.Counter()
    label = {}
    for i, (_, m) in enumerate(orig):
        hi[m] += 1
        if i not in deletable:
            lo[m] += 1
        elif a.deleted_must_go:
            hi[m] -= 1
        label.setdefault(m, "original #%d" % (i + 1))
    delivered = []
    if a.delivered:
        for name in sorted(os.listdir(a.delivered)):
            d = open(os.path.join(a.delivered, name), "rb").read()
            ms, p = split_mbox(d)
            if p or len(ms) != 1 or ms[0][1] != d:
                print("mboxcheck: delivered file %s is not one well-formed message: %s" % (name, p), file=sys.stderr)
                return 2
            delivered.append(d)
            lo[d] += 1
            hi[d] += 1
            label.setdefault(d, "delivered %s" % name)

    have = collections.Counter(m for _, m in cur)
    where = collections.defaultdict(list)
    for o, m in cur:
        where[m].append(o)

    missing = extra = dup = 0
    for m in set(lo) | set(hi):
        n = have.get(m, 0)
        if n < lo[m]:
            missing += 1
            errors.append("MISSING (%d of %d present) %s: %s" % (n, lo[m], label[m], describe(m)))
        elif n > hi[m]:
            if hi[m] == 0:
                errors.append("PRESENT though deleted: %s at offset(s) %s: %s" % (label[m], where[m], describe(m)))
            else:
                dup += 1
                errors.append("DUPLICATED (%d copies, at most %d expected) %s at offsets %s: %s"
                              % (n, hi[m], label[m], where[m], describe(m)))
    # unknown messages: say whether they look like a damaged known one
    known_ids = {}
    for m in label:
        mid = message_id(m)
        if mid:
            known_ids[mid] = m
    for m, n in have.items():
        if m in label:
            continue
        extra += 1
        hint = ""
        mid = message_id(m)
        if mid in known_ids:
            k = known_ids[mid]
            d = firstdiff(m, k)
            hint = " -- same Message-ID as %s (%d bytes) but the bytes differ from offset %d: have %r, expected %r" % (
                label[k], len(k), d, m[max(0, d - 20):d + 30], k[max(0, d - 20):d + 30])
        errors.append("UNEXPECTED message at offset(s) %s: %s%s" % (where[m], describe(m), hint))

    present_del = sum(1 for i in deletable if have.get(orig[i][1], 0) > 0)
    summary = ("mboxcheck: original %d messages, current %d messages (%d bytes); "
               "requested deletions %d (%d still present, %d gone); delivered %d; "
               "violations %d (missing %d, duplicated %d, unexpected %d)" % (
                   len(orig), len(cur), len(cur_data), len(deletable), present_del,
                   len(deletable) - present_del, len(delivered), len(errors), missing, dup, extra))
    if errors:
        print(summary)
        for e in errors[:40]:
            print("  " + e)
        if len(errors) > 40:
            print("  ... and %d more" % (len(errors) - 40))
        return 1
    if not a.quiet:
        print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
