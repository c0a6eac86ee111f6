#!/usr/bin/env python3
"""
deliver.py MBOX N [--delay S] [--save DIR] [--tag T] [--locks both|fcntl|dotlock]

A delivery agent like procmail: appends N messages to MBOX, one at a time.
Each delivery: create MBOX.lock with O_CREAT|O_EXCL (retrying with short
sleeps while it exists), open MBOX for append, take an exclusive fcntl
lock, check that the open file is still the one at the path (another
program may have renamed a new mailbox over it; if so close and start
the delivery again), make sure the file ends with a blank line, append
"From deliver@example.org <asctime>\\n<headers>\\n\\n<body>\\n\\n", fsync,
unlock, remove the dotlock.  Each message (without the separating blank
line) is also written to DIR/<tag>-<i>.msg once it is delivered.
--locks fcntl or dotlock takes only that lock (to imitate MDAs set up
so); --hold S keeps the locks S seconds before appending.
Prints one line per retry to stderr and a summary to stdout.
"""
import argparse
import fcntl
import os
import random
import sys
import time


def dotlock(path, timeout=60.0):
    lock = path + ".lock"
    t0 = time.monotonic()
    while True:
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, b"%d\n" % os.getpid())
            os.close(fd)
            return lock
        except FileExistsError:
            if time.monotonic() - t0 > timeout:
                raise SystemExit("deliver.py: %s stays locked for %.0f s" % (lock, timeout))
            time.sleep(0.005 + random.random() * 0.01)


def message(tag, i, rng):
    now = time.time()
    asct = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime(now))
    mid = "<deliver-%s-%d-%d-%d@example.org>" % (tag, i, os.getpid(), time.time_ns())
    nlines = rng.choice([1, 3, 10, 40, 200])
    body = "".join("delivered %s %d line %d %s\n" % (tag, i, k, "x" * rng.randrange(0, 70))
                   for k in range(nlines))
    # an unquoted "From " line in the body that is not an envelope
    body += "From the desk of deliver.py, message %d\n" % i
    head = ("From deliver@example.org %s\n"
            "From: Deliver <deliver@example.org>\n"
            "To: test@example.org\n"
            "Subject: delivered %s %d\n"
            "Date: %s\n"
            "Message-ID: %s\n"
            "\n" % (asct, tag, i, time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(now)), mid))
    return (head + body).encode()


def deliver_one(path, msg, locks, hold):
    retries = 0
    while True:
        lock = dotlock(path) if locks in ("both", "dotlock") else None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if locks in ("both", "fcntl"):
                    fcntl.lockf(fd, fcntl.LOCK_EX)
                st = os.fstat(fd)
                try:
                    pst = os.stat(path)
                except FileNotFoundError:
                    pst = None
                if pst is None or (pst.st_dev, pst.st_ino) != (st.st_dev, st.st_ino):
                    retries += 1
                    print("deliver.py: %s was replaced while we opened it; again" % path, file=sys.stderr)
                    continue
                if hold:
                    time.sleep(hold)
                pre = b""
                if st.st_size > 0:
                    rfd = os.open(path, os.O_RDONLY)
                    try:
                        n = min(2, st.st_size)
                        tail = os.pread(rfd, n, st.st_size - n)
                    finally:
                        os.close(rfd)
                    if not tail.endswith(b"\n"):
                        pre = b"\n\n"
                    elif st.st_size >= 2 and tail != b"\n\n":
                        pre = b"\n"
                data = pre + msg + b"\n"
                off = 0
                while off < len(data):
                    off += os.write(fd, data[off:])
                os.fsync(fd)
                if locks in ("both", "fcntl"):
                    fcntl.lockf(fd, fcntl.LOCK_UN)
                return retries
            finally:
                os.close(fd)
        finally:
            if lock:
                os.unlink(lock)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mbox")
    ap.add_argument("n", type=int)
    ap.add_argument("--delay", type=float, default=0.0, help="seconds between deliveries (randomised 0..2S)")
    ap.add_argument("--save", help="directory for a copy of each delivered message")
    ap.add_argument("--tag", default="d")
    ap.add_argument("--locks", choices=["both", "fcntl", "dotlock"], default="both")
    ap.add_argument("--hold", type=float, default=0.0)
    ap.add_argument("--seed", type=int)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    if a.save:
        os.makedirs(a.save, exist_ok=True)
    retries = 0
    for i in range(1, a.n + 1):
        msg = message(a.tag, i, rng)
        retries += deliver_one(a.mbox, msg, a.locks, a.hold)
        if a.save:
            tmp = os.path.join(a.save, ".%s-%05d.tmp" % (a.tag, i))
            with open(tmp, "wb") as f:
                f.write(msg)
            os.rename(tmp, os.path.join(a.save, "%s-%05d.msg" % (a.tag, i)))
        if a.delay and i < a.n:
            time.sleep(rng.uniform(0, 2 * a.delay))
    print("deliver.py: %d messages delivered to %s, %d retries after a replaced mailbox" % (a.n, a.mbox, retries))


if __name__ == "__main__":
    main()
