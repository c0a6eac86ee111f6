#!/usr/bin/env python3
"""Message files handed to the kernel (FUSE passthrough), through a real
mount, with requests counted in the -D trace: no READ reaches mailfs for
them, their bytes equal those of a mount without passthrough, the
backing files are shared by concurrent opens and closed again (no
descriptor or backing id piles up over 10,000 opens), and no open reads
stale bytes after a flag change, a delete, or a mailbox changed by
another program.  usage: t-passthrough.py MAILFS

Passthrough needs root (the kernel lets only CAP_SYS_ADMIN register
backing files) and a kernel that offers it (6.9 or newer); otherwise the
checks are skipped, saying why, unless MAILFS_REQUIRE_PASSTHROUGH is set
(as .ci/run sets it on this project's machines), when that fails."""
import mmap, os, re, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tap as tap_

tap = tap_.Tap()
check = tap.check
top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOXES = ["sample.mbox", "boxes/mixed.mbox", "boxes/nested.mbox", "boxes/alternative.mbox",
         "boxes/charsets.mbox"]
SERVED = {"flags", "ctl", "search", "thread", "threads", "index"}	# read and written as requests, or made at each open: never handed down


class Mount:
    def __init__(self, mailfs, box, mnt, log, opts=()):
        self.mnt, self.log = mnt, log
        os.mkdir(mnt)
        self.p = subprocess.Popen([mailfs, "-f", "-D", *opts, "-m", mnt, box],
                                  stderr=open(log, "wb"), env=dict(os.environ, TZ="UTC"))
        for _ in range(100):
            if os.path.ismount(mnt):
                break
            time.sleep(0.1)
        if not os.path.ismount(mnt):
            raise tap_.Fail("mailfs did not mount on %s:\n%s" % (mnt, self.trace()[-2000:]))

    def trace(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def reads(self, inos):
        """READ requests in the trace for these inodes."""
        return [l for l in self.trace().splitlines()
                if l.startswith("fuse: read ") and int(l.split()[2]) in inos]

    def held(self):
        """Backing ids mailfs holds now, by the last count the trace gives."""
        counts = re.findall(r"^fuse: passthrough: .*?(\d+) held$", self.trace(), re.M)
        return int(counts[-1]) if counts else 0

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.p.pid))

    def stop(self):
        subprocess.run(["fusermount3", "-u", self.mnt], stderr=subprocess.DEVNULL)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def files(root):
    """Every readable file of the tree under root but the served ones, sorted."""
    out = []
    for d, dirs, names in os.walk(root):
        dirs.sort(key=lambda x: (len(x), x))
        for n in sorted(names):
            p = os.path.join(d, n)
            if n not in SERVED and os.stat(p).st_mode & 0o400:
                out.append(os.path.relpath(p, root))
    return out


def read(path):
    with open(path, "rb") as f:
        return f.read()


def flagline(b):
    return next((l for l in b.decode(errors="replace").splitlines() if l.startswith("flags ")), "")


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="t-passthrough.")
    box = os.path.join(tmp, "box")
    with open(box, "wb") as out:
        for b in BOXES:
            out.write(read(os.path.join(top, "testdata", b)).rstrip(b"\n") + b"\n\n")
    shutil.copy(box, box + ".plain")
    mounts = []
    try:
        A = Mount(mailfs, box, os.path.join(tmp, "a"), os.path.join(tmp, "a.log"))
        mounts.append(A)
        m = re.search(r"^fuse: passthrough: (.*)$", A.trace(), re.M)
        on = m and m.group(1).startswith("on")
        if not on:
            why = m.group(1).replace("off, ", "", 1) if m else "no passthrough line in the -D trace"
            if os.environ.get("MAILFS_REQUIRE_PASSTHROUGH"):
                check("passthrough is on (MAILFS_REQUIRE_PASSTHROUGH is set)", False, why)
            else:
                tap.ok(True, "passthrough checks # SKIP %s" % why)
            return
        check("-D says passthrough is on", on, m.group(0) if m else "")
        B = Mount(mailfs, box + ".plain", os.path.join(tmp, "b"), os.path.join(tmp, "b.log"),
                  ["-o", "nopassthrough"])
        mounts.append(B)
        check("with -o nopassthrough -D says it is off, and why",
              "fuse: passthrough: off, it was turned off (-o nopassthrough)" in B.trace(),
              re.findall(r"^fuse: passthrough.*$", B.trace(), re.M))

        names = files(os.path.join(A.mnt, "mbox"))
        fixed = {os.stat(os.path.join(A.mnt, "mbox", p)).st_ino for p in names}
        got = {p: read(os.path.join(A.mnt, "mbox", p)) for p in names}
        check("every message and part file of %d messages read (%d files, %d bytes)"
              % (len([n for n in os.listdir(os.path.join(A.mnt, "mbox")) if n.isdigit()]),
                 len(names), sum(map(len, got.values()))), len(names) > 200, len(names))
        r = A.reads(fixed)
        check("and not one READ request reached mailfs for them", not r, "\n".join(r[:5]))
        ids = re.findall(r"^fuse: passthrough: backing id \d+ for (\d+)", A.trace(), re.M)
        check("each was opened with a backing id handed to the kernel",
              fixed <= {int(i) for i in ids}, sorted(fixed - {int(i) for i in ids})[:5])
        diff = [p for p in names if read(os.path.join(B.mnt, "mbox", p)) != got[p]]
        check("every file has the bytes of the same file served without passthrough",
              not diff, "\n".join(diff[:10]))
        check("and the fallback mount served them too, with READs or its page-cache push",
              "fuse: open " in B.trace() and "backing id" not in B.trace())

        big = max(names, key=lambda p: len(got[p]))
        with open(os.path.join(A.mnt, "mbox", big), "rb") as f:
            mm = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
            check("a handed-down file maps (mmap) to the same bytes: %s, %d bytes" % (big, len(got[big])),
                  mm[:] == got[big])
            mm.close()

        before = len(A.reads(fixed))
        for i in range(1000):
            read(os.path.join(A.mnt, "mbox", names[i % len(names)]))
        check("1,000 more reads of handed-down files: 0 READ requests",
              len(A.reads(fixed)) == before, len(A.reads(fixed)) - before)

        # concurrent opens of one inode share its backing id
        p = os.path.join(A.mnt, "mbox", "3", "rawbody")
        ino = os.stat(p).st_ino
        n0 = len(re.findall(r"backing id \d+ for %d," % ino, A.trace()))
        f1, f2 = open(p, "rb"), open(p, "rb")
        same = f1.read() == f2.read() == got["3/rawbody"]
        f1.close(), f2.close()
        n1 = len(re.findall(r"backing id \d+ for %d," % ino, A.trace()))
        check("two opens at once of one file share one backing id and read the same bytes",
              same and n1 - n0 <= 1, (same, n1 - n0))

        uring(mailfs, tmp, mounts, names, B)
        leak(A, names)
        stale(A)
        changedbehind(mailfs, tmp, mounts)
    except tap_.Fail as e:
        check("the passthrough checks ran", False, str(e))
    finally:
        for M in mounts:
            M.stop()
        shutil.rmtree(tmp, ignore_errors=True)


URING = "/sys/module/fuse/parameters/enable_uring"


def uring(mailfs, tmp, mounts, names, B):
    """-o uring, with the kernel's io_uring for FUSE turned on for it (and back)."""
    if not os.access(URING, os.W_OK):
        tap.ok(True, "FUSE over io_uring # SKIP %s is not writable here" % URING)
        return
    was = read(URING).strip()
    try:
        with open(URING, "w") as f:
            f.write("1\n")
        shutil.copy(os.path.join(tmp, "box.plain"), os.path.join(tmp, "box.uring"))
        U = Mount(mailfs, os.path.join(tmp, "box.uring"), os.path.join(tmp, "u"), os.path.join(tmp, "u.log"),
                  ["-o", "uring"])
        mounts.append(U)
        line = re.search(r"^fuse: transport: .*$", U.trace(), re.M)
        check("-o uring with the kernel offering it: -D says %s" % (line.group(0) if line else "nothing"),
              line and line.group(0).startswith("fuse: transport: io_uring"))
        diff = [p for p in names if read(os.path.join(U.mnt, "mbox", p)) != read(os.path.join(B.mnt, "mbox", p))]
        check("over io_uring, with passthrough, every file reads the same bytes", not diff, diff[:5])
        U.stop()
        mounts.remove(U)
    finally:
        with open(URING, "w") as f:
            f.write(("1" if was in ("Y", "1") else "0") + "\n")


def leak(A, names):
    """10,000 opens, with flag changes that retire backing files on the way."""
    top = os.path.join(A.mnt, "mbox")
    fd0, t0 = A.fds(), time.time()
    for i in range(10000):
        p = names[(i * 7919) % len(names)]
        with open(os.path.join(top, p), "rb") as f:
            f.read(64)
        if i % 500 == 0:	# retire message 1's info: later opens need a new backing file
            with open(os.path.join(top, "1", "flags"), "w") as w:
                w.write("+f\n" if i % 1000 == 0 else "-f\n")
    took = time.time() - t0
    fd1, held = A.fds(), A.held()
    check("10,000 opens in %.1f s: mailfs holds %d descriptors, as before (%d)" % (took, fd1, fd0),
          fd1 == fd0)
    check("and %d backing ids, no more than the %d files opened" % (held, len(names)),
          0 < held <= len(names))
    # the kernel forgets inodes it drops, and their backing files go with them
    if os.access("/proc/sys/vm/drop_caches", os.W_OK):
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("2\n")
        for _ in range(50):
            if A.held() < held // 4:
                break
            time.sleep(0.1)
        check("after the kernel dropped the inodes, their backing ids were closed: %d held" % A.held(),
              A.held() < held // 4)


def stale(A):
    """No open reads bytes older than itself, and none made newer under it."""
    top = os.path.join(A.mnt, "mbox")
    info, flags = os.path.join(top, "2", "info"), os.path.join(top, "2", "flags")
    held = open(info, "rb")
    old = held.read()
    with open(flags, "w") as w:
        w.write("+f\n" if "f" not in read(flags).decode()[:4] else "-f\n")
    want = "flags " + read(flags).decode().strip()
    time.sleep(0.3)	# the invalidation goes out from a thread of its own
    new = read(info)
    held.seek(0)
    again = held.read()
    check("after a flag change, a new open of info reads the new flags while an older open is held",
          flagline(new) == want, (flagline(new), want))
    check("and the older open still reads its own content, fixed for it", again == old)
    held.close()
    check("after the older open closed, info reads the new flags again",
          flagline(read(info)) == want, flagline(read(info)))

    # a deleted message: its files are gone for new opens; an open one keeps its bytes
    body = os.path.join(top, "4", "body")
    keep = open(body, "rb")
    was = keep.read()
    with open(os.path.join(top, "ctl"), "w") as w:
        w.write("delete 4\n")
    time.sleep(0.3)
    try:
        read(body)
        gone = False
    except FileNotFoundError:
        gone = True
    keep.seek(0)
    check("after a delete, its body does not open; an open made before still reads it",
          gone and keep.read() == was and len(was) > 0, (gone, len(was)))
    keep.close()


def changedbehind(mailfs, tmp, mounts):
    """A Maildir whose flags another program changes by renaming the file."""
    md = os.path.join(tmp, "md")
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, d))
    name = os.path.join(md, "cur", "1704067200.a.host:2,")
    with open(name, "wb") as f:
        f.write(b"From: a@b.c\nSubject: behind\n\nhello\n")
    C = Mount(mailfs, md, os.path.join(tmp, "c"), os.path.join(tmp, "c.log"))
    mounts.append(C)
    info = os.path.join(C.mnt, "mbox", "1", "info")
    before = flagline(read(info))
    os.rename(name, name + "FS")
    with open(os.path.join(C.mnt, "mbox", "ctl"), "w") as w:
        w.write("refresh\n")
    time.sleep(0.3)
    after = flagline(read(info))
    check("a Maildir flag renamed by another program: info, handed down before, says so now (%s, then %s)"
          % (before, after), before != after and "f" in after and "s" in after, (before, after))


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.exit(tap.done())
