"""9P sections 5 and 6: the golden trees over 9P, and concurrency and memory."""
from t9p_common import *  # noqa: F401,F403

# ================================================================ 5. trees

def dump9p(c, dirfid, rel, depth, out):
    """tests/treedump.py's format, through 9P: "path/" for a directory,
    "path<TAB>mode<TAB>size<TAB>sha1" for a file, "path<TAB>mode<TAB>-"
    for a write-only one (mode & 0444 == 0: a ctl file)."""
    lf = c.newfid()
    c.walk(dirfid, lf, [])
    c.open(lf)
    entries = c.dirread(lf)
    c.clunk(lf)
    for d in entries:
        path = rel + "/" + d.name if rel else d.name
        nf = c.newfid()
        c.walk(dirfid, nf, [d.name])
        st = c.stat(nf)
        if st.qid.type & QTDIR or st.mode & DMDIR:
            out.append("%s/" % path)
            if depth < MAXDEPTH:
                dump9p(c, nf, path, depth + 1, out)
            c.clunk(nf)
            continue
        if st.mode & 0o444 == 0:
            out.append("%s\t%o\t-" % (path, st.mode & 0o777))
            c.clunk(nf)
            continue
        if st.name == "index" and depth == 0:  # a box's: how far its index is, as treedump.py has it
            out.append("%s\t%o\t~" % (path, st.mode & 0o777))
            c.clunk(nf)
            continue
        c.open(nf)
        data = c.read_eof(nf)
        c.clunk(nf)
        # threads and thread are made at each open: length 0 until then, as treedump.py allows
        live = st.name in ("threads", "thread") and st.length == 0
        if len(data) != st.length and not live:
            out.append("SIZE MISMATCH %s stat %d read %d" % (path, st.length, len(data)))
        out.append("%s\t%o\t%d\t%s" % (path, st.mode & 0o777, len(data), hashlib.sha1(data).hexdigest()))


def sec_trees(t, binary):
    boxes = [SAMPLE] + sorted(glob.glob(os.path.join(TOP, "testdata", "boxes", "*.mbox")))
    for box in boxes:
        name = os.path.basename(box)[:-len(".mbox")]

        def one(box=box, name=name):
            S = Server(binary, box)
            try:
                c = fresh(S)
                c.settimeout(30)
                mb, _ = c.walkto("mbox")
                out = []
                dump9p(c, mb, "", 0, out)
                c.close()
                need(S.alive(), "server died: %s\n%s" % (S.status(), S.logtail()))
            finally:
                rc, killed = S.stop()
            with open(os.path.join(TOP, "testdata", "trees", name + ".tree")) as f:
                want = f.read().splitlines()
            if out != want:
                diff = list(difflib.unified_diff(want, out, "trees/%s.tree" % name, "9P dump", lineterm="", n=1))
                raise Fail("\n".join(diff[:24]))
            need(not killed, "server ignored SIGTERM for 5 s")
            need(rc is not None and rc <= 0, "exit status %s after SIGTERM\n%s" % (rc, S.lastlog))
            return "%d entries" % len(out)
        t.run("tree %s over 9P == testdata/trees/%s.tree" % (name, name), one)


# ================================================================ 6. concurrency

def collect_tree(c):
    """{dir path: [(name, isdir)]} and {file path: (size, sha1)} for mbox."""
    dirs, files = {}, {}

    def rec(path, depth):
        lst = c.ls(path)
        dirs[path] = [(d.name, bool(d.qid.type & QTDIR)) for d in lst]
        for d in lst:
            p = path + "/" + d.name
            if d.qid.type & QTDIR:
                if depth < 6:
                    rec(p, depth + 1)
            elif d.mode & 0o444:
                data = c.catfile(p)[0]
                files[p] = (len(data), hashlib.sha1(data).hexdigest())
    rec("mbox", 0)
    return dirs, files


def hammer(S, seconds, nthreads, dirs, files):
    stop_at = time.time() + seconds
    errors, counts = [], [0] * nthreads
    msgs = [n for n, isdir in dirs["mbox"] if isdir]

    def worker(i):
        rnd = random.Random(1000 + i)
        c = None
        ops = 0
        try:
            while time.time() < stop_at:
                if c is None or ops % 40 == 39:
                    if c is not None:
                        # leave a walked fid and an open fid behind: the server must free them at EOF
                        c.open(c.walkto("mbox/1/raw")[0])
                        c.walkto("mbox/2")
                        c.close()
                    c = fresh(S)
                ops += 1
                path = "mbox/" + rnd.choice(msgs)
                while True:
                    if rnd.random() < 0.3:
                        got = [(d.name, bool(d.qid.type & QTDIR)) for d in c.ls(path)]
                        if got != dirs.get(path):
                            errors.append("thread %d: listing of %s differs" % (i, path))
                    entries = dirs[path]
                    name, isdir = rnd.choice(entries)
                    if not isdir and path + "/" + name not in files:
                        continue        # write-only (ctl)
                    if isdir and path + "/" + name in dirs:
                        path += "/" + name
                        continue
                    if isdir:
                        break
                    p = path + "/" + name
                    data, ln = c.catfile(p)
                    if len(data) != ln:
                        errors.append("thread %d: %s stat length %d, read %d" % (i, p, ln, len(data)))
                    elif (len(data), hashlib.sha1(data).hexdigest()) != files[p]:
                        errors.append("thread %d: %s content differs from the first read" % (i, p))
                    counts[i] += 1
                    break
        except Exception as e:
            errors.append("thread %d after %d reads: %s: %s" % (i, counts[i], type(e).__name__, e))
        finally:
            if c is not None:
                c.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(nthreads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 60)
    hung = sum(th.is_alive() for th in threads)
    if hung:
        errors.append("%d threads still running %d s after the end" % (hung, 60))
    return errors, sum(counts)


def sec_concurrency(t, binary):
    try:
        S = Server(binary, SAMPLE)
    except Exception as e:
        t.ok(False, "concurrency: server start", "%s: %s" % (type(e).__name__, e))
        return
    t.server = S
    st = {}
    try:
        def prep():
            c = fresh(S)
            st["tree"] = collect_tree(c)
            c.close()
            return "%d dirs, %d files" % (len(st["tree"][0]), len(st["tree"][1]))
        if not t.run("concurrency: collect the sample tree", prep):
            return

        def warm():
            errors, n = hammer(S, 1.0, 32, *st["tree"])
            time.sleep(0.3)
            st["rss1"] = S.rss_kb()
            need(not errors, "\n".join(errors[:10]))
            return "%d reads, RSS %d kB" % (n, st["rss1"])
        t.run("concurrency warm-up: 32 connections for 1 s, no errors", warm)

        def run():
            errors, n = hammer(S, 4.0, 32, *st["tree"])
            time.sleep(0.3)
            st["rss2"] = S.rss_kb()
            need(not errors, "%d errors:\n%s" % (len(errors), "\n".join(errors[:10])))
            need(n > 32, "only %d reads in 4 s" % n)
            return "%d reads" % n
        t.run("concurrency: 32 connections for 4 s walking/reading random files, sizes == stat, no errors", run)

        def rss():
            need("rss1" in st and "rss2" in st, "no RSS figures")
            grow = st["rss2"] - st["rss1"]
            need(grow <= 20 * 1024, "RSS %d kB after warm-up, %d kB after the run: +%d kB" % (st["rss1"], st["rss2"], grow))
            return "%d kB -> %d kB" % (st["rss1"], st["rss2"])
        t.run("concurrency: server RSS no more than 20 MB above the warm-up figure", rss)
        t.server = None

        def ends():
            rc, killed = S.stop()
            need(not killed, "no exit within 5 s of SIGTERM")
            need(rc is not None and rc <= 0, "exit status %s after SIGTERM\n%s" % (rc, S.lastlog))
        t.run("concurrency: server exits on SIGTERM afterwards", ends)
    finally:
        t.server = None
        S.stop()
