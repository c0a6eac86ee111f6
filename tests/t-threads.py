#!/usr/bin/env python3
"""Threads through a real mount and over 9P: the box's threads file and
each message's thread file agree with the References and In-Reply-To
of the mailbox (placeholders for missing parents, siblings by date,
newest thread first), are the same over 9P, and follow new mail and
deletes at once.  usage: t-threads.py MAILFS"""
import os, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p9client as p9
import tap as tap_

tap = tap_.Tap()
check = tap.check


def msg(n, subject, mid, day, irt=None, refs=None):
    h = "From a@b.c Mon Mar  %d 10:00:00 2026\nFrom: u%d@example.org\nSubject: %s\nMessage-ID: %s\n" % (day, n, subject, mid)
    h += "Date: Mon, %d Mar 2026 10:00:00 +0000\n" % day
    if irt:
        h += "In-Reply-To: %s\n" % irt
    if refs:
        h += "References: %s\n" % refs
    return h + "\nbody %d\n\n" % n


BOX = (msg(1, "plans", "<p1@x>", 1) +
       msg(2, "Re: plans", "<p2@x>", 3, irt="<p1@x>", refs="<p1@x>") +
       msg(3, "Re: plans", "<p3@x>", 2, irt="<p1@x>", refs="<p1@x>") +	# older than 2: first sibling
       msg(4, "Re: lost", "<l2@x>", 4, irt="<gone@x>") +
       msg(5, "news", "<n1@x>", 5) +
       msg(6, "Re: plans", "<p6@x>", 6, refs="<p1@x> <p3@x>"))


def read(path):
    with open(path) as f:
        return f.read()


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="t-threads.")
    box, mnt = os.path.join(tmp, "box"), os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    with open(box, "w") as f:
        f.write(BOX)
    env = dict(os.environ, NAMESPACE=os.path.join(tmp, "ns"), TZ="UTC", HOME=tmp)
    os.mkdir(env["NAMESPACE"], 0o700)
    srv = None
    try:
        subprocess.run([mailfs, "-m", mnt, "-s", "thr", box], check=True, env=env)
        t = read(os.path.join(mnt, "mbox", "threads"))
        want = "0\t1\n1\t3\n2\t6\n1\t2\n0\t5\n0\t-\n1\t4\n"
        check("mbox/threads: 6 under 3 under 1, siblings by date, a placeholder for a missing parent, "
              "the thread of the newest message first", t == want, repr(t))
        check("mbox/3/thread is its thread alone", read(os.path.join(mnt, "mbox", "3", "thread")) == "0\t1\n1\t3\n2\t6\n1\t2\n",
              read(os.path.join(mnt, "mbox", "3", "thread")))
        check("mbox/4/thread: under its placeholder", read(os.path.join(mnt, "mbox", "4", "thread")) == "0\t-\n1\t4\n")
        c = p9.connect(os.path.join(env["NAMESPACE"], "thr"))
        check("over 9P the same threads", c.catfile("mbox/threads")[0].decode() == t)
        with open(box, "a") as f:	# new mail in the lost thread: it goes on top
            f.write(msg(7, "Re: lost", "<l3@x>", 7, irt="<l2@x>", refs="<gone@x> <l2@x>"))
        for _ in range(50):
            t = read(os.path.join(mnt, "mbox", "threads"))
            if "\t7\n" in t:
                break
            time.sleep(0.1)
        check("new mail: threads shows it at once, its thread bumped to the top",
              t == "0\t-\n1\t4\n2\t7\n0\t1\n1\t3\n2\t6\n1\t2\n0\t5\n", repr(t))
        with open(os.path.join(mnt, "mbox", "ctl"), "w") as f:
            f.write("delete 3\n")
        t = read(os.path.join(mnt, "mbox", "threads"))
        check("a delete: 3 leaves, its reply 6 moves up to 1 (no placeholder between two messages)",
              t == "0\t-\n1\t4\n2\t7\n0\t1\n1\t2\n1\t6\n0\t5\n", repr(t))
        check("and over 9P too", c.catfile("mbox/threads")[0].decode() == t)
        c.close()
        st = os.stat(os.path.join(mnt, "mbox", "threads"))
        check("threads is read-only (0444) and made at each open (length 0, as ctl)", st.st_mode & 0o777 == 0o444 and st.st_size == 0)
    finally:
        subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.exit(tap.done())
