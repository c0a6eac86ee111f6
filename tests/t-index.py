#!/usr/bin/env python3
"""The index end to end, through a real mount and over 9P: searches are
complete and right while it builds and after; a second start serves the
summaries from it; it resumes after kill -9; a broken store and one of
another schema are made again with one line on stderr; a mailbox
rewritten while mailfs was down gets no stale summary; new mail is
searchable within a second of being listed; on a full disk the index
stops growing and searches still answer whole; its files are 0600 in a
0700 directory.  usage: t-index.py MAILFS"""
import glob, os, re, shutil, signal, sqlite3, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p9client as p9
import tap as tap_

tap = tap_.Tap()
check = tap.check
N = 6000
WORDS = ["alpha%d" % k for k in range(50)]


def message(i, tag=""):
    w = WORDS[i % len(WORDS)]
    return ("From u%d@example.org Mon Mar  2 10:%02d:00 2026\nFrom: User %d <u%d@example.org>\n"
            "To: reader@example.org\nSubject: %snote %d\nMessage-ID: <m%d@example.org>\n"
            "Date: Mon, 02 Mar 2026 10:%02d:00 +0000\n\nThe word of this one is %s, said once%s.\n\n"
            % (i % 7, i % 60, i, i % 7, tag, i, i, i % 60, w, " again" if i % 3 == 0 else ""))


def expect(word, n, tag=""):
    return [i for i in range(1, n + 1) if WORDS[i % len(WORDS)] == word]


class Mailfs:
    def __init__(self, mailfs, box, mnt, env, args=()):
        self.mnt = mnt
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen([mailfs, "-f", "-m", mnt] + list(args) + [box], env=env, stderr=self.err)
        for _ in range(300):
            if os.path.ismount(mnt):
                break
            time.sleep(0.02)

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        self.p.send_signal(sig)
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        for _ in range(250):
            if not os.path.ismount(self.mnt):
                break
            time.sleep(0.02)
        if os.path.ismount(self.mnt):
            subprocess.run(["fusermount3", "-u", "-z", self.mnt])


def search(mnt, q, path="mbox/search"):
    """(answer, None) or (None, (errno, text read back))"""
    fd = os.open(os.path.join(mnt, path), os.O_RDWR)
    try:
        os.write(fd, q.encode())
        return os.pread(fd, 1 << 20, 0).decode(), None
    except OSError as e:
        return None, (e.errno, os.pread(fd, 4096, 0).decode())
    finally:
        os.close(fd)


def nums(s):
    return [int(x) for x in s.split()] if s else []


def status(mnt):
    with open(os.path.join(mnt, "mbox", "index")) as f:
        t = f.read()
    m = re.search(r"indexed (\d+) of (\d+)", t)
    made = re.search(r"made (\d+)", t)
    served = re.search(r"served (\d+)", t)
    return int(m.group(1)), int(m.group(2)), int(made.group(1)), int(served.group(1)), t


def until(fn, secs):
    end = time.time() + secs
    while time.time() < end:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    mailfs = sys.argv[1]
    slow = "asan" in mailfs
    tmp = tempfile.mkdtemp(prefix="t-index.")
    box, mnt, cache = os.path.join(tmp, "box"), os.path.join(tmp, "mnt"), os.path.join(tmp, "cache")
    os.mkdir(mnt)
    with open(box, "w") as f:
        f.write("".join(message(i) for i in range(1, N + 1)))
    env = dict(os.environ, TZ="UTC", HOME=tmp, XDG_CACHE_HOME=cache, NAMESPACE=os.path.join(tmp, "ns"))
    os.mkdir(env["NAMESPACE"], 0o700)
    fs = None
    try:
        # a first start: searches answer whole while the index builds
        fs = Mailfs(mailfs, box, mnt, env)
        have, total, _, _, _ = status(mnt)
        ans, err = search(mnt, WORDS[7])
        check("a search at once, before the index is built (%d of %d then), answers every match" % (have, total),
              err is None and nums(ans) == expect(WORDS[7], N), (err, (ans or "")[:200]))
        fs.stop()

        # kill -9 half way, and the next start resumes
        shutil.rmtree(cache)
        fs = Mailfs(mailfs, box, mnt, env)
        caught = until(lambda: status(mnt)[0] >= N // 10, 60)
        have = status(mnt)[0]
        fs.stop(signal.SIGKILL)
        check("kill -9 during the first build (at %d of %d indexed)" % (have, N), caught and have < N, have)
        fs = Mailfs(mailfs, box, mnt, env)
        done = until(lambda: status(mnt)[0] == N, 120)
        _, _, made, _, text = status(mnt)
        check("the next start resumes: it indexes %d, not all %d again" % (made, N), done and made < N, text)
        ans, err = search(mnt, WORDS[13] + " again")
        want = [i for i in expect(WORDS[13], N) if i % 3 == 0]
        check("and its answers are right (a word and a word ANDed)", nums(ans or "") == want, (err, ans and ans[:100]))
        fs.stop()

        # files: 0600 in a 0700 directory
        d = os.path.join(cache, "mailfs")
        files = glob.glob(os.path.join(d, "*"))
        check("the store's directory is 0700", os.stat(d).st_mode & 0o777 == 0o700, oct(os.stat(d).st_mode))
        check("its files (db, wal, shm) are 0600", files and all(os.stat(f).st_mode & 0o777 == 0o600 for f in files),
              [(f, oct(os.stat(f).st_mode)) for f in files])

        # a second start serves every info from the index
        fs = Mailfs(mailfs, box, mnt, env)
        infos = [read(os.path.join(mnt, "mbox", str(i), "info")) for i in range(1, N + 1)]
        _, _, made, served, text = status(mnt)
        check("a second start reads all %d infos from the index: nothing made, every one served" % N,
              made == 0 and served >= N, text)
        fs.stop()
        ref = Mailfs(mailfs, box, mnt, env, ["-i", "none"])
        same = sum(read(os.path.join(mnt, "mbox", str(i), "info")) == infos[i - 1] for i in range(1, N + 1))
        check("they are byte for byte what a fresh, unindexed run makes (%d of %d)" % (same, N), same == N)
        ref.stop()

        # a broken store, and one of another schema: made again, one line each
        db = [f for f in files if f.endswith(".db")][0]
        with open(db, "r+b") as f:
            f.write(b"this is not a database" * 100)
        for f in glob.glob(db + "-*"):
            os.unlink(f)
        fs = Mailfs(mailfs, box, mnt, env)
        ans, err = search(mnt, WORDS[21])
        fs.stop()
        lines = [l for l in fs.stderr().splitlines() if "index" in l]
        check("a broken store: one line on stderr, and made again", len(lines) == 1 and "made again" in lines[0], lines)
        check("and the search over it is right", nums(ans or "") == expect(WORDS[21], N), err)
        c = sqlite3.connect(db)
        c.execute("PRAGMA user_version=77")
        c.commit()
        c.close()
        fs = Mailfs(mailfs, box, mnt, env)
        ans, err = search(mnt, WORDS[22])
        fs.stop()
        lines = [l for l in fs.stderr().splitlines() if "index" in l]
        check("a store of another schema: one line on stderr, and made again",
              len(lines) == 1 and "schema version 77" in lines[0], lines)
        check("and the search over it is right", nums(ans or "") == expect(WORDS[22], N), err)

        # rewritten while mailfs was down: same count, other messages
        with open(box, "w") as f:
            f.write("".join(message(i, "new ") if i % 2 else message(i) for i in range(N, 0, -1)))
        fs = Mailfs(mailfs, box, mnt, env)
        bad = [i for i in range(1, N + 1, 37)
               if read(os.path.join(mnt, "mbox", str(i), "subject")).decode() != ("new " if (N + 1 - i) % 2 else "") + "note %d" % (N + 1 - i)]
        check("a mailbox rewritten while mailfs was down: no stale summary", not bad, bad[:5])
        ans, err = search(mnt, "new note")
        check("and a search sees what it holds now", len(nums(ans or "")) == N // 2, (err, (ans or "")[:80]))

        # new mail: searchable within a second of being listed
        with open(box, "a") as f:
            f.write(message(N + 1).replace("The word", "zanzibarquux: the word"))
        listed = until(lambda: os.path.isdir(os.path.join(mnt, "mbox", str(N + 1))), 30)
        t0 = time.time()
        ans, err = search(mnt, "zanzibarquux")
        dt = time.time() - t0
        check("new mail is listed, then found by a search within a second (%.3f s)" % dt,
              listed and nums(ans or "") == [N + 1] and (dt < 1 or slow), (err, ans))

        # over 9P too, and the root's search
        fs.stop()
        fs = Mailfs(mailfs, box, mnt, env, ["-s", "ix"])
        c = p9.connect(os.path.join(env["NAMESPACE"], "ix"))
        f, _ = c.walkto("mbox/search")
        c.open(f, p9.ORDWR)
        c.write(f, 0, b"zanzibarquux OR " + WORDS[3].encode())
        got = nums(c.read(f, 0, 1 << 16).decode())
        check("over 9P: write a query, read the numbers",
              got == sorted(N + 1 - i for i in expect(WORDS[3], N)) + [N + 1], got[:10])	# the box reversed, then new mail
        try:
            c.write(f, 0, b"subject:")
            e = None
        except p9.P9Error as x:
            e = x.ename
        check("over 9P a bad query is an Rerror saying why", e == "nothing after subject:", e)
        c.clunk(f)
        f, _ = c.walkto("search")
        c.open(f, p9.ORDWR)
        c.write(f, 0, b"zanzibarquux")
        got = c.read(f, 0, 4096).decode()
        check("the root's search: box/number lines", got == "mbox/%d\n" % (N + 1), got)
        c.clunk(f)
        c.close()
        ans, err = search(mnt, "is:bogus")
        check("through the mount a bad query fails the write (EINVAL) and reads back why",
              err and err[0] == 22 and err[1].startswith("unknown flag is:bogus"), err)
        fs.stop()

        # a full disk: the index stops growing, serving and search go on
        small = os.path.join(tmp, "small")
        os.mkdir(small)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=160k,mode=0700", "tmpfs", small]).returncode == 0
        if mounted:
            fenv = dict(env, XDG_CACHE_HOME=small)
            fs = Mailfs(mailfs, box, mnt, fenv)
            ans, err = search(mnt, WORDS[9])
            subj = read(os.path.join(mnt, "mbox", str(N), "subject")).decode()
            _, _, _, _, text = status(mnt)
            fs.stop()
            lines = [l for l in fs.stderr().splitlines() if "index" in l]
            check("a full disk: one notice on stderr", len(lines) == 1 and "full" in lines[0], lines)
            check("the index says it stopped growing", "stopped growing" in text, text)
            want = sorted(N + 1 - i for i in expect(WORDS[9], N))	# the box is reversed, and 6001 came
            check("searches still answer every match", nums(ans or "") == want, (err, (ans or "")[:80]))
            check("and files are still served", subj == "new note 1", subj)
            subprocess.run(["umount", small])
        else:
            for _ in range(4):
                check("a full disk # SKIP cannot mount a small tmpfs here", True)
        fs = None
    finally:
        if fs:
            fs.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    tap.done()


main()
