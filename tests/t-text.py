#!/usr/bin/env python3
"""The text file, and threads, end to end: through a real mount and
over 9P, every file under testdata/expected/{html,threads,sample} is
served as expected, every text file of the HTML corpus is the same
over both transports, and grep over text finds what grep over body
cannot.  usage: t-text.py MAILFS"""
import glob, os, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import p9client as p9
import tap as tap_

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tap = tap_.Tap()
check = tap.check


def boxpath(name):
    return os.path.join(TOP, "testdata", "sample.mbox" if name == "sample" else "boxes/%s.mbox" % name)


def expected(name):
    root = os.path.join(TOP, "testdata", "expected", name)
    for dirpath, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            full = os.path.join(dirpath, f)
            yield os.path.relpath(full, root), open(full, "rb").read()


def texts(mnt):
    """every text file under the mounted box, by path"""
    for dirpath, dirs, files in os.walk(os.path.join(mnt, "mbox")):
        dirs.sort(key=lambda d: [int(x) for x in d.split("/") if x.isdigit()] or [0])
        if "text" in files:
            yield os.path.relpath(os.path.join(dirpath, "text"), os.path.join(mnt, "mbox"))


def one(mailfs, tmp, name):
    mnt = os.path.join(tmp, "mnt-" + name)
    os.mkdir(mnt)
    env = dict(os.environ, NAMESPACE=os.path.join(tmp, "ns"), TZ="UTC", HOME=tmp)
    srv = "text-" + name
    subprocess.run([mailfs, "-r", "-m", mnt, "-s", srv, boxpath(name)], check=True, env=env)
    try:
        c = p9.connect(os.path.join(env["NAMESPACE"], srv))
        bad_mount, bad_9p = [], []
        n = 0
        for rel, want in expected(name):
            n += 1
            with open(os.path.join(mnt, "mbox", rel), "rb") as f:
                if f.read() != want:
                    bad_mount.append(rel)
            if c.catfile("mbox/" + rel)[0] != want:
                bad_9p.append(rel)
        check("%s: the %d expected files through the mount" % (name, n), n > 0 and not bad_mount, bad_mount[:5])
        check("%s: the same over 9P" % name, n > 0 and not bad_9p, bad_9p[:5])
        differ, k = [], 0
        for rel in texts(mnt):
            k += 1
            with open(os.path.join(mnt, "mbox", rel), "rb") as f:
                data = f.read()
            if os.stat(os.path.join(mnt, "mbox", rel)).st_size != len(data) or c.catfile("mbox/" + rel)[0] != data:
                differ.append(rel)
        check("%s: all %d text files: stat length = bytes read, and the same over 9P" % (name, k), k > 0 and not differ, differ[:5])
        c.close()
        return mnt
    except Exception:
        subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
        raise


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="t-text.")
    os.mkdir(os.path.join(tmp, "ns"), 0o700)
    mounts = []
    try:
        for name in ("html", "threads", "sample"):
            mounts.append(one(mailfs, tmp, name))
        mbox = os.path.join(mounts[0], "mbox")
        # "400&nbsp;packets" is inside <b> in the HTML: grep finds the phrase in text only
        body = subprocess.run(["grep", "-l", "over 400 packets"] + sorted(glob.glob(mbox + "/*/1/body")),
                              capture_output=True, text=True).stdout.split()
        text = subprocess.run(["grep", "-l", "over 400 packets"] + sorted(glob.glob(mbox + "/*/text")),
                              capture_output=True, text=True).stdout.split()
        check("grep -l over */text finds a phrase split by tags and entities, which */body misses",
              body == [] and text == [os.path.join(mbox, "1", "text")], (body, text))
        ru = subprocess.run(["grep", "-l", "пятницу"] + sorted(glob.glob(mbox + "/*/text")), capture_output=True, text=True).stdout
        check("grep finds a word of a windows-1251 message whose charset only its <meta> declares",
              ru.split() == [os.path.join(mbox, "2", "text")], ru)
    finally:
        for m in mounts:
            subprocess.run(["fusermount3", "-u", m], stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.exit(tap.done())
