#!/usr/bin/env python3
"""9P2000 tests for mailfs, through an independent client (tests/p9client.py).

usage: python3 tests/t-9p.py MAILFS_BINARY

Starts "NAMESPACE=<tmp> MAILFS -f -s mailtest <mailbox>" itself and talks
9P2000 to the socket <tmp>/mailtest.  Output is TAP; the plan line comes
last; the exit status is non-zero when any test failed.  TODO tests
(expected failures) are "not ok N - ... # TODO reason" and do not count.

Sections: 1 conformance per message, 2 malformed input, 3 acme Mail's
conversation, 4 Topenfd, 5 the golden trees over 9P, 6 concurrency and
memory.  Expectations come from the plan9port 9P manual pages and the
mailfs specification (upasfs.md sections 1, 2, 4.7, 5).
"""
import difflib
import getpass
import glob
import hashlib
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from p9client import (  # noqa: E402
    Conn, Dir, Fcall, P9Error, ProtocolError, Qid, connect, pack, unpack_dirs,
    NOTAG, NOFID, QTDIR, DMDIR, OREAD, OWRITE, ORDWR, OTRUNC, IOHDRSZ,
    Tversion, Rversion, Tauth, Tattach, Rattach, Terror, Rerror, Tflush, Rflush,
    Twalk, Rwalk, Topen, Ropen, Topenfd, Ropenfd, Tcreate, Tread, Rread, Twrite,
    Tclunk, Rclunk, Tremove, Tstat, Rstat, Twstat, Rwstat, NAMES)

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(TOP, "testdata", "sample.mbox")
NESTED = os.path.join(TOP, "testdata", "boxes", "nested.mbox")
USER = getpass.getuser()
MAXDEPTH = 12                 # as tests/t-tree.sh runs treedump.py
WATCHDOG = 900                # seconds for the whole run


class Fail(Exception):
    pass


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def qeq(a, b):
    """Same file: qid type and path equal (vers may legitimately move)."""
    return a.type == b.type and a.path == b.path


# ---------------------------------------------------------------- TAP

class TAP:
    def __init__(self):
        self.n = 0
        self.failed = []
        self.server = None

    def ok(self, cond, desc, diag=None, todo=None, notes=()):
        self.n += 1
        line = "%s %d - %s" % ("ok" if cond else "not ok", self.n, desc)
        if todo and not cond:
            line += " # TODO " + todo
        print(line, flush=True)
        if not cond and diag:
            for l in str(diag).rstrip("\n").split("\n"):
                print("#   " + l)
        for note in notes:
            print("# note: " + note)
        if not cond and not todo:
            self.failed.append("%d - %s" % (self.n, desc))
        sys.stdout.flush()

    def run(self, desc, fn, *args, todo=None):
        """Run fn(*args).  It raises Fail (or anything) to fail; it may
        return a string (appended to the description) or (string, notes)."""
        notes = []
        try:
            res = fn(*args)
            if isinstance(res, tuple):
                res, notes = res
            if res:
                desc += ": " + res
            cond, diag = True, None
        except Fail as e:
            cond, diag = False, str(e)
        except Exception as e:
            cond = False
            tb = traceback.extract_tb(e.__traceback__)
            where = "; ".join("%s:%d" % (os.path.basename(f.filename), f.lineno) for f in tb[-3:])
            diag = "%s: %s\n(at %s)" % (type(e).__name__, e, where)
            if isinstance(e, P9Error) and e.req is not None:
                diag += "\nrequest was %r" % e.req
        S = self.server
        if S is not None and not S.alive():
            cond = False
            diag = (diag + "\n" if diag else "") + "SERVER DIED: %s\n%s" % (S.status(), S.logtail())
            self.ok(cond, desc, diag, todo, notes)
            try:
                S.restart()
            except Exception as e:
                print("# could not restart the server: %s" % e)
            return False
        self.ok(cond, desc, diag, todo, notes)
        return cond


# ---------------------------------------------------------------- server

class Server:
    def __init__(self, binary, box):
        self.binary, self.box = binary, box
        self.proc = None
        self.tmp = None
        self.start()

    def start(self):
        try:
            self._start()
        except BaseException:
            log = self.logtail()
            self.stop()
            self.lastlog = log
            raise

    def _start(self):
        self.tmp = tempfile.mkdtemp(prefix="t-9p.")
        self.sock = os.path.join(self.tmp, "mailtest")
        self.logpath = os.path.join(self.tmp, "log")
        self.logf = open(self.logpath, "wb")
        env = dict(os.environ, NAMESPACE=self.tmp, TZ="UTC")
        for attempt in range(20):
            try:
                # -S none: reading a message here must not mark it seen (and
                # rewrite the test data); t-mailctl.py tests that marking
                self.proc = subprocess.Popen([self.binary, "-f", "-S", "none", "-s", "mailtest", self.box],
                                             stdin=subprocess.DEVNULL, stdout=self.logf,
                                             stderr=subprocess.STDOUT, env=env)
                break
            except OSError:      # ETXTBSY/EACCES while the binary is being rebuilt
                if attempt == 19:
                    raise
                time.sleep(0.5)
        deadline = time.time() + 10
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited (%s) before creating %s\n%s"
                                   % (self.status(), self.sock, self.logtail()))
            if os.path.exists(self.sock):
                try:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.settimeout(2)
                    s.connect(self.sock)
                    s.close()
                    return
                except OSError:
                    pass
            if time.time() > deadline:
                raise RuntimeError("no socket %s after 10 s\n%s" % (self.sock, self.logtail()))
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def status(self):
        rc = self.proc.poll() if self.proc else None
        if rc is None:
            return "running"
        if rc < 0:
            try:
                return "killed by %s" % signal.Signals(-rc).name
            except ValueError:
                return "killed by signal %d" % -rc
        return "exit status %d" % rc

    def logtail(self, n=15):
        try:
            with open(self.logpath, "rb") as f:
                lines = f.read().decode("utf-8", "replace").splitlines()
            return "server log tail:\n" + "\n".join("  " + l for l in lines[-n:])
        except OSError:
            return "(no server log)"

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def stop(self):
        """SIGTERM, wait up to 5 s, then SIGKILL.  Returns (rc, was_killed)."""
        killed = False
        rc = None
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    self.proc.send_signal(signal.SIGTERM)
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    killed = True
                    self.proc.kill()
                    self.proc.wait()
            rc = self.proc.returncode
        try:
            self.logf.close()
        except Exception:
            pass
        if self.tmp:
            self.lastlog = self.logtail()
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        return rc, killed

    def restart(self):
        self.stop()
        self.start()


# ---------------------------------------------------------------- helpers

def raw_conn(S, timeout=10.0):
    return Conn(S.sock, timeout)


def fresh(S, msize=8192):
    return connect(S.sock, msize)


def want_error(c, f, exact=None, suggested=None):
    """Send f, require an Rerror (with exactly the string `exact` if given).
    Returns (ename, notes)."""
    r = c.rpc(f, check=False)
    need(r.type == Rerror, "sent %r\ngot %r, want Rerror%s" % (f, r, " %r" % exact if exact else ""))
    if exact is not None:
        need(r.ename == exact, "sent %r\ngot Rerror %r, want %r" % (f, r.ename, exact))
    notes = []
    if suggested is not None and r.ename != suggested:
        notes.append("%s: Rerror %r (suggested string %r)" % (NAMES[f.type], r.ename, suggested))
    return r.ename, notes


def want_reply(c, f, rtype):
    r = c.rpc(f, check=False)
    need(r.type == rtype, "sent %r\ngot %r, want %s" % (f, r, NAMES[rtype]))
    return r


def fid_unknown(c, fid):
    """A Tclunk of fid must fail (the fid does not exist)."""
    f = Fcall(Tclunk, c.newtag(), fid=fid)
    r = c.rpc(f, check=False)
    need(r.type == Rerror, "fid %d should not exist, but %r got %r" % (fid, f, r))


def isnum(name):
    return name.isdigit()


# ================================================================ 1. conformance

def sec_conformance(t, S):
    # -- Tversion
    def version_basic():
        c = raw_conn(S)
        f = Fcall(Tversion, NOTAG, msize=8192, version="9P2000")
        r = want_reply(c, f, Rversion)
        need(r.tag == NOTAG, "Rversion tag %d, want NOTAG" % r.tag)
        need(r.version == "9P2000", "Rversion version %r, want '9P2000'" % r.version)
        need(r.msize <= 8192, "Rversion msize %d > 8192" % r.msize)
        need(r.msize >= 256, "Rversion msize %d is too small to be usable" % r.msize)
        c.msize = r.msize
        c.attach()
        c.close()
        return "msize %d" % r.msize
    t.run("Tversion msize 8192 '9P2000' NOTAG -> Rversion msize<=8192 '9P2000'", version_basic)

    def version_dotted(v):
        c = raw_conn(S)
        f = Fcall(Tversion, NOTAG, msize=8192, version=v)
        r = want_reply(c, f, Rversion)
        need(r.version in ("9P2000", "unknown"), "sent %r\ngot version %r, want '9P2000' or 'unknown'" % (f, r.version))
        need(r.msize <= 8192, "msize %d > 8192" % r.msize)
        c.close()
        return "replied %r" % r.version
    for v in ("9P2000.L", "9P2000.u"):
        t.run("Tversion %r -> Rversion '9P2000' or 'unknown'" % v, version_dotted, v)

    def version_unknown():
        c = raw_conn(S)
        f = Fcall(Tversion, NOTAG, msize=8192, version="XYZ")
        r = want_reply(c, f, Rversion)
        need(r.version == "unknown", "sent %r\ngot %r, want version 'unknown'" % (f, r))
        c.close()
    t.run("Tversion 'XYZ' -> Rversion 'unknown' (not Rerror)", version_unknown)

    def version_big():
        c = raw_conn(S)
        f = Fcall(Tversion, NOTAG, msize=1 << 20, version="9P2000")
        r = want_reply(c, f, Rversion)
        need(r.version == "9P2000" and r.msize <= 1 << 20, "sent %r\ngot %r" % (f, r))
        c.msize = r.msize
        c.attach()
        fid, _ = c.walkto("mbox/4/raw")
        c.open(fid)
        full = c.read_eof(fid)
        f = Fcall(Tread, c.newtag(), fid=fid, offset=0, count=1 << 20)
        rr = want_reply(c, f, Rread)
        need(rr.raw_size <= r.msize, "Rread of %d bytes exceeds negotiated msize %d" % (rr.raw_size, r.msize))
        need(rr.data == full[:len(rr.data)] and rr.data, "Rread data wrong (%d bytes)" % len(rr.data))
        c.close()
        return "server msize %d" % r.msize
    t.run("Tversion msize 1 MB -> Rversion msize <= request; replies honour it", version_big)

    def version_small():
        big = fresh(S)
        c = raw_conn(S)
        f = Fcall(Tversion, NOTAG, msize=512, version="9P2000")
        r = want_reply(c, f, Rversion)
        need(r.version == "9P2000" and r.msize <= 512, "sent %r\ngot %r" % (f, r))
        c.msize = r.msize
        c.attach()
        fid, _ = c.walkto("mbox/1")
        c.open(fid)
        off, names = 0, []
        while True:
            f = Fcall(Tread, c.newtag(), fid=fid, offset=off, count=4096)
            rr = want_reply(c, f, Rread)
            need(rr.raw_size <= c.msize, "sent %r: Rread of %d bytes > msize %d" % (f, rr.raw_size, c.msize))
            if not rr.data:
                break
            names += [d.name for d in unpack_dirs(rr.data)]
            off += len(rr.data)
        need(names == [d.name for d in big.ls("mbox/1")], "listing at msize %d differs: %r" % (c.msize, names))
        fid2, _ = c.walkto("mbox/4/raw")
        c.open(fid2)
        need(c.read_eof(fid2) == big.catfile("mbox/4/raw")[0], "mbox/4/raw differs at msize %d" % c.msize)
        c.close()
        big.close()
        return "msize %d" % r.msize
    t.run("Tversion msize 512: directory and file reads fit in 512-byte replies", version_small)

    def version_resets():
        c = fresh(S)
        f1, _ = c.walkto("mbox")
        r = want_reply(c, Fcall(Tversion, NOTAG, msize=8192, version="9P2000"), Rversion)
        need(r.version == "9P2000", "second Tversion: %r" % r)
        r = c.rpc(Fcall(Tclunk, c.newtag(), fid=f1), check=False)
        need(r.type == Rerror, "fid %d survived a Tversion: Tclunk got %r" % (f1, r))
        r = c.rpc(Fcall(Tattach, c.newtag(), fid=c.root, afid=NOFID, uname=USER, aname=""), check=False)
        need(r.type == Rattach, "root fid %d not freed by Tversion: Tattach got %r" % (c.root, r))
        c.close()
    t.run("a second Tversion clunks every fid of the connection", version_resets)

    # -- Tauth
    def auth():
        c = raw_conn(S)
        c.version()
        return want_error(c, Fcall(Tauth, 1, afid=77, uname=USER, aname=""), "authentication not required")[0]
    t.run("Tauth -> Rerror 'authentication not required'", auth)

    # -- Tattach
    def attach():
        c = raw_conn(S)
        c.version()
        f = Fcall(Tattach, 3, fid=0, afid=NOFID, uname=USER, aname="")
        r = want_reply(c, f, Rattach)
        need(r.qid.type & QTDIR, "root qid %r lacks QTDIR" % (r.qid,))
        d = c.stat(0)
        need(qeq(d.qid, r.qid), "Rattach qid %r != Tstat qid %r" % (r.qid, d.qid))
        f = Fcall(Tattach, 4, fid=0, afid=NOFID, uname=USER, aname="")
        en, notes = want_error(c, f, suggested="fid already in use")
        r2 = c.rpc(Fcall(Tattach, 5, fid=9, afid=NOFID, uname="someone-else", aname=""), check=False)
        need(r2.type == Rattach, "Tattach with another uname: %r (spec 5.2: accept any uname)" % r2)
        c.close()
        return "root qid %r; used fid -> %r" % (r.qid, en), notes
    t.run("Tattach NOFID -> Rattach QTDIR; Tattach on a used fid -> Rerror; any uname", attach)

    # -- Twalk
    def walks():
        c = fresh(S)
        R = c.root
        rq = c.stat(R).qid
        nf = c.newfid()
        r = want_reply(c, Fcall(Twalk, c.newtag(), fid=R, newfid=nf, wname=[]), Rwalk)
        need(r.wqid == [], "clone returned qids %r" % r.wqid)
        d = c.stat(nf)
        need(d.name == "/" and qeq(d.qid, rq), "clone stat %r" % d)
        for path, n in (("mbox", 1), ("mbox/1", 2), ("mbox/1/info", 3)):
            nf = c.newfid()
            f = Fcall(Twalk, c.newtag(), fid=R, newfid=nf, wname=path.split("/"))
            r = want_reply(c, f, Rwalk)
            need(len(r.wqid) == n, "sent %r\ngot %r" % (f, r))
            for q, name in zip(r.wqid, path.split("/")):
                want_dir = name != "info"
                need(bool(q.type & QTDIR) == want_dir, "%s: qid %r, QTDIR should be %s" % (path, q, want_dir))
            need(qeq(c.stat(nf).qid, r.wqid[-1]), "%s: stat qid differs from walk qid" % path)
    t.run("Twalk: clone (nwname 0), mbox, mbox/1, mbox/1/info with right qids", walks)

    def dotdot():
        c = fresh(S)
        R = c.root
        rq = c.stat(R).qid
        mb, mq = c.walkto("mbox")
        m1, _ = c.walkto("mbox/1")
        nf = c.newfid()
        r = want_reply(c, Fcall(Twalk, c.newtag(), fid=m1, newfid=nf, wname=[".."]), Rwalk)
        need(len(r.wqid) == 1 and qeq(r.wqid[0], mq[0]), "'..' from mbox/1 gave %r, mbox is %r" % (r.wqid, mq))
        need(c.stat(nf).name == "mbox", "'..' from mbox/1 stat name %r" % c.stat(nf).name)
        r = want_reply(c, Fcall(Twalk, c.newtag(), fid=m1, newfid=c.newfid(), wname=["..", ".."]), Rwalk)
        need(len(r.wqid) == 2 and qeq(r.wqid[1], rq), "'../..' from mbox/1 gave %r, root %r" % (r.wqid, rq))
        r = want_reply(c, Fcall(Twalk, c.newtag(), fid=R, newfid=c.newfid(), wname=[".."]), Rwalk)
        need(len(r.wqid) == 1 and qeq(r.wqid[0], rq), "'..' from root gave %r, root %r" % (r.wqid, rq))
        _, q2 = c.walkto("mbox/2")
        r = want_reply(c, Fcall(Twalk, c.newtag(), fid=R, newfid=c.newfid(), wname=["mbox", "1", "..", "2"]), Rwalk)
        need(len(r.wqid) == 4 and qeq(r.wqid[3], q2[1]), "mbox/1/../2 gave %r, mbox/2 is %r" % (r.wqid, q2))
    t.run("Twalk '..': mbox/1 -> mbox, mbox/1/../.. -> root, root/.. -> root, mbox/1/../2", dotdot)

    def walk_missing_first():
        c = fresh(S)
        nf = c.newfid()
        en, _ = want_error(c, Fcall(Twalk, c.newtag(), fid=c.root, newfid=nf, wname=["nonexistent"]),
                           "file does not exist")
        fid_unknown(c, nf)
        mb, _ = c.walkto("mbox")
        for name in ("99999", "0", "01", "+1", "1x"):
            nf = c.newfid()
            want_error(c, Fcall(Twalk, c.newtag(), fid=mb, newfid=nf, wname=[name]), "file does not exist")
            fid_unknown(c, nf)
    t.run("Twalk first name missing -> Rerror 'file does not exist', newfid not made (also mbox/99999, 0, 01, +1, 1x)",
          walk_missing_first)

    def walk_missing_later():
        c = fresh(S)
        for names, n in ((["mbox", "nonexistent"], 1), (["mbox", "1", "nonexistent"], 2),
                         (["mbox", "99999", "info"], 1)):
            nf = c.newfid()
            f = Fcall(Twalk, c.newtag(), fid=c.root, newfid=nf, wname=names)
            r = want_reply(c, f, Rwalk)
            need(len(r.wqid) == n, "sent %r\ngot %r, want %d qids" % (f, r, n))
            fid_unknown(c, nf)
    t.run("Twalk later name missing -> short Rwalk, newfid not made", walk_missing_later)

    def walk_from_file():
        c = fresh(S)
        nf = c.newfid()
        f = Fcall(Twalk, c.newtag(), fid=c.root, newfid=nf, wname=["mbox", "1", "info", "x"])
        r = c.rpc(f, check=False)
        need(r.type == Rerror or (r.type == Rwalk and len(r.wqid) < 4), "sent %r\ngot %r" % (f, r))
        fid_unknown(c, nf)
        fi, _ = c.walkto("mbox/1/info")
        notes = []
        for names in (["x"], [".."]):
            nf = c.newfid()
            en, n = want_error(c, Fcall(Twalk, c.newtag(), fid=fi, newfid=nf, wname=names),
                               suggested="not a directory")
            notes += n
            fid_unknown(c, nf)
        nf = c.newfid()
        r = want_reply(c, Fcall(Twalk, c.newtag(), fid=fi, newfid=nf, wname=[]), Rwalk)
        need(c.stat(nf).name == "info", "clone of a file fid: stat %r" % c.stat(nf))
        return "from a file fid: %r" % en, notes
    t.run("Twalk through or from a file -> error; clone of a file fid works", walk_from_file)

    def walk_maxwelem():
        c = fresh(S)
        nf = c.newfid()
        en, _ = want_error(c, Fcall(Twalk, c.newtag(), fid=c.root, newfid=nf, wname=["mbox", ".."] * 8 + ["mbox"]))
        fid_unknown(c, nf)
        rq = c.stat(c.root).qid
        r = want_reply(c, Fcall(Twalk, c.newtag(), fid=c.root, newfid=c.newfid(), wname=["mbox", ".."] * 8), Rwalk)
        need(len(r.wqid) == 16 and qeq(r.wqid[-1], rq), "16 names: %r" % r)
        return "17 names -> %r" % en
    t.run("Twalk with 17 names -> Rerror (16 work)", walk_maxwelem)

    def walk_newfid_inuse():
        c = fresh(S)
        m1, _ = c.walkto("mbox/1")
        en, notes = want_error(c, Fcall(Twalk, c.newtag(), fid=c.root, newfid=m1, wname=["mbox"]),
                               suggested="fid already in use")
        need(c.stat(m1).name == "1", "fid %d changed by a refused walk: %r" % (m1, c.stat(m1)))
        # newfid == fid: walks the fid itself
        mb, _ = c.walkto("mbox")
        r = want_reply(c, Fcall(Twalk, c.newtag(), fid=mb, newfid=mb, wname=["2"]), Rwalk)
        need(len(r.wqid) == 1 and c.stat(mb).name == "2", "walk with newfid == fid: %r, stat %r" % (r, c.stat(mb)))
        want_error(c, Fcall(Twalk, c.newtag(), fid=mb, newfid=mb, wname=["nonexistent"]), "file does not exist")
        need(c.stat(mb).name == "2", "failed walk with newfid == fid changed the fid: %r" % c.stat(mb))
        return "%r" % en, notes
    t.run("Twalk newfid in use (!= fid) -> Rerror, fid untouched; newfid == fid moves fid", walk_newfid_inuse)

    def walk_misc():
        c = fresh(S)
        notes = []
        want_error(c, Fcall(Twalk, c.newtag(), fid=4242, newfid=c.newfid(), wname=["mbox"]))
        od, _ = c.walkto("mbox")
        c.open(od)
        want_error(c, Fcall(Twalk, c.newtag(), fid=od, newfid=c.newfid(), wname=["1"]))
        for bad in (["mbox/1"], [""], ["../mbox"]):
            nf = c.newfid()
            want_error(c, Fcall(Twalk, c.newtag(), fid=c.root, newfid=nf, wname=bad))
            fid_unknown(c, nf)
        for bad in (["mbox", "1/info"], ["mbox", ""]):
            nf = c.newfid()
            f = Fcall(Twalk, c.newtag(), fid=c.root, newfid=nf, wname=bad)
            r = c.rpc(f, check=False)
            need(r.type == Rerror or (r.type == Rwalk and len(r.wqid) < len(bad)), "sent %r\ngot %r" % (f, r))
            fid_unknown(c, nf)
        return None, notes
    t.run("Twalk from an unknown fid, from an open fid, names with '/' or '' -> Rerror", walk_misc)

    def walk_alias():
        c = fresh(S)
        fid, q = c.walkto("mbox/1/body.txt")
        c.open(fid)
        need(c.read_eof(fid) == c.catfile("mbox/1/body")[0], "body.txt reads differently from body")
    t.run("Twalk mbox/1/body.txt (spec 4.2/5.2 alias) reads as body", walk_alias)

    def walk_vs_listing():
        c = fresh(S)
        bad = []
        for path in ("", "mbox", "mbox/1", "mbox/3", "mbox/3/1"):
            pf, _ = c.walkto(path) if path else (c.root, None)
            for d in c.ls(path) if path else c.ls("/"):
                nf = c.newfid()
                r = c.walk(pf, nf, [d.name])
                st = c.stat(nf)
                if not (qeq(r.wqid[0], d.qid) and qeq(st.qid, d.qid)):
                    bad.append("%s/%s: listing qid %r, walk %r, stat %r" % (path, d.name, d.qid, r.wqid[0], st.qid))
                if (st.name, st.mode, st.length) != (d.name, d.mode, d.length):
                    bad.append("%s/%s: listing (%r,%o,%d) vs stat (%r,%o,%d)" % (
                        path, d.name, d.name, d.mode, d.length, st.name, st.mode, st.length))
                c.clunk(nf)
        need(not bad, "\n".join(bad[:10]))
    t.run("walked qids, Tstat and directory entries agree (root, mbox, mbox/1, mbox/3, mbox/3/1)", walk_vs_listing)

    # -- Topen
    def opens():
        c = fresh(S)
        for path in ("mbox", "mbox/1", "mbox/1/subject", "/"):
            fid, qs = c.walkto(path) if path != "/" else (c.root, [c.stat(c.root).qid])
            f = Fcall(Topen, c.newtag(), fid=fid, mode=OREAD)
            r = want_reply(c, f, Ropen)
            need(qeq(r.qid, qs[-1]), "%s: Ropen qid %r, walk qid %r" % (path, r.qid, qs[-1]))
    t.run("Topen OREAD of directories and a file -> Ropen with the walk's qid", opens)

    def open_write_ro():
        c = fresh(S)
        fid, _ = c.walkto("mbox/1/subject")
        for mode in (OWRITE, ORDWR):
            want_error(c, Fcall(Topen, c.newtag(), fid=fid, mode=mode), "permission denied")
        en, _ = want_error(c, Fcall(Topen, c.newtag(), fid=fid, mode=OREAD | OTRUNC))
        c.open(fid, OREAD)   # the fid is still usable after refused opens
        need(c.read_eof(fid) == c.catfile("mbox/1/subject")[0], "subject differs")
        return "OTRUNC -> %r" % en
    t.run("Topen OWRITE/ORDWR of mbox/1/subject -> 'permission denied'; OREAD|OTRUNC -> Rerror", open_write_ro)

    def open_dir_write():
        c = fresh(S)
        fid, _ = c.walkto("mbox")
        return want_error(c, Fcall(Topen, c.newtag(), fid=fid, mode=OWRITE))[0]
    t.run("Topen OWRITE of a directory -> Rerror", open_dir_write)

    def open_twice():
        c = fresh(S)
        fid, _ = c.walkto("mbox/1/info")
        c.open(fid)
        en, notes = want_error(c, Fcall(Topen, c.newtag(), fid=fid, mode=OREAD), suggested="file already open for I/O")
        want_error(c, Fcall(Topen, c.newtag(), fid=5555, mode=OREAD))
        return "%r" % en, notes
    t.run("Topen of an open fid -> Rerror; of an unknown fid -> Rerror", open_twice)

    # -- Tread, files
    def read_offsets():
        c = fresh(S)
        full, length = c.catfile("mbox/1/raw")
        need(len(full) == length and length > 20, "raw: %d bytes, stat %d" % (len(full), length))
        fid, _ = c.walkto("mbox/1/raw")
        c.open(fid)
        L = len(full)
        for off, cnt in ((0, 10), (5, 10), (L - 3, 10), (L - 1, 1), (0, 0), (7, 0), (0, L), (1, L)):
            got = c.read(fid, off, cnt)
            need(got == full[off:off + cnt], "Tread offset %d count %d: %r, want %r" % (off, cnt, got[:30], full[off:off + cnt][:30]))
        for off in (L, L + 1, L + 100, 1 << 32, 1 << 62):
            got = c.read(fid, off, 100)
            need(got == b"", "Tread offset %d (file has %d bytes) gave %d bytes" % (off, L, len(got)))
        want_error(c, Fcall(Tread, c.newtag(), fid=c.walkto("mbox/1/raw")[0], offset=0, count=10))
        return "%d-byte file" % L
    t.run("Tread of a file at offsets 0, middle, end, past end (0 bytes); unopened fid -> Rerror", read_offsets)

    def read_huge_offsets():
        c = fresh(S)
        fid, _ = c.walkto("mbox/1/raw")
        c.open(fid)
        for off in ((1 << 63) - 1, 1 << 63, (1 << 64) - 1):
            f = Fcall(Tread, c.newtag(), fid=fid, offset=off, count=100)
            r = want_reply(c, f, Rread)
            need(r.data == b"", "sent %r\ngot %r" % (f, r))
    t.run("Tread of a file at offsets 2^63-1, 2^63, 2^64-1 -> 0 bytes (read(9P): offset >= length)",
          read_huge_offsets)

    def read_clamp():
        c = fresh(S, 512)
        fid, _ = c.walkto("mbox/4/raw")
        c.open(fid)
        full = c.read_eof(fid)
        need(len(full) > c.msize, "mbox/4/raw is only %d bytes" % len(full))
        for cnt in (c.msize - IOHDRSZ + 1, c.msize, 1 << 20, 0xFFFFFFFF):
            f = Fcall(Tread, c.newtag(), fid=fid, offset=0, count=cnt)
            r = want_reply(c, f, Rread)
            need(r.raw_size <= c.msize and len(r.data) <= c.msize - IOHDRSZ,
                 "sent %r\nRread %d bytes of data, message %d > msize %d" % (f, len(r.data), r.raw_size, c.msize))
            need(r.data and r.data == full[:len(r.data)], "clamped read data wrong")
        d, _ = c.walkto("mbox/1")
        c.open(d)
        f = Fcall(Tread, c.newtag(), fid=d, offset=0, count=0xFFFFFFFF)
        r = want_reply(c, f, Rread)
        need(r.raw_size <= c.msize, "directory Rread message %d > msize %d" % (r.raw_size, c.msize))
        unpack_dirs(r.data)
        return "msize %d" % c.msize
    t.run("Tread count > msize-24 (file and directory) is clamped to the msize (msize 512)", read_clamp)

    # -- Tread, directories
    def dir_offsets():
        c = fresh(S)
        full = [(d.name, d.qid.path) for d in c.ls("mbox/1")]
        d, _ = c.walkto("mbox/1")
        c.open(d)
        r0 = c.read(d, 0, 200)
        e0 = unpack_dirs(r0)
        need(r0 and e0, "first Rread empty")
        r1 = c.read(d, len(r0), 200)
        unpack_dirs(r1)
        need(r1, "second read at offset %d empty though listing has %d entries" % (len(r0), len(full)))
        for bad in (1, len(r0) + len(r1) + 1, 100000):
            want_error(c, Fcall(Tread, c.newtag(), fid=d, offset=bad, count=200), "bad offset")
        again = c.read(d, 0, 200)
        need([(x.name, x.qid.path) for x in unpack_dirs(again)] == [(x.name, x.qid.path) for x in e0],
             "offset 0 again gave a different first read")
        # carry on from there to the end
        names = [(x.name, x.qid.path) for x in unpack_dirs(again)]
        off = len(again)
        while True:
            chunk = c.read(d, off, 200)
            if not chunk:
                break
            names += [(x.name, x.qid.path) for x in unpack_dirs(chunk)]
            off += len(chunk)
        need(names == full, "restarted listing differs from a fresh one")
        d2, _ = c.walkto("mbox")
        c.open(d2)
        want_error(c, Fcall(Tread, c.newtag(), fid=d2, offset=7, count=8000), "bad offset")
        return "%d entries in mbox/1" % len(full)
    t.run("directory Tread: 0 then previous end; other offsets -> 'bad offset'; 0 restarts", dir_offsets)

    def dir_whole():
        c = fresh(S)
        ref = [d.name for d in c.ls("mbox/3")]
        for count in (8168, 1000, 300, 150, 100):
            fid, _ = c.walkto("mbox/3")
            c.open(fid)
            names = [d.name for d in c.dirread(fid, count)]
            c.clunk(fid)
            need(names == ref, "count %d: listing %r differs from %r" % (count, names, ref))
        return "%d entries" % len(ref)
    t.run("directory Rreads hold whole entries only, same listing at counts 8168..100", dir_whole)

    def dir_root():
        c = fresh(S)
        names = [d.name for d in c.ls("/")]
        need("mbox" in names and all(names), "root listing %r" % names)
        for d in c.ls("/"):
            need(d.name != "mbox" or d.qid.type & QTDIR, "mbox entry without QTDIR")
        return "%r" % names
    t.run("root directory lists mbox (QTDIR)", dir_root)

    # -- Twrite
    def writes():
        c = fresh(S)
        fid, _ = c.walkto("mbox/1/subject")
        want_error(c, Fcall(Twrite, c.newtag(), fid=fid, offset=0, data=b"x"))
        c.open(fid)
        en, _ = want_error(c, Fcall(Twrite, c.newtag(), fid=fid, offset=0, data=b"hello"))
        d, _ = c.walkto("mbox")
        c.open(d)
        want_error(c, Fcall(Twrite, c.newtag(), fid=d, offset=0, data=b"x"))
        need(c.catfile("mbox/1/subject")[0] != b"hello", "the write went through")
        return "%r" % en
    t.run("Twrite on an OREAD fid, an unopened fid, a directory -> Rerror", writes)

    # -- Tclunk
    def clunks():
        c = fresh(S)
        fid, _ = c.walkto("mbox/1/info")
        c.open(fid)
        want_reply(c, Fcall(Tclunk, c.newtag(), fid=fid), Rclunk)
        en, notes = want_error(c, Fcall(Tclunk, c.newtag(), fid=fid), suggested="unknown fid")
        want_error(c, Fcall(Tstat, c.newtag(), fid=fid))
        want_error(c, Fcall(Tread, c.newtag(), fid=fid, offset=0, count=10))
        f2, _ = c.walkto("mbox")
        want_reply(c, Fcall(Tclunk, c.newtag(), fid=f2), Rclunk)
        want_reply(c, Fcall(Twalk, c.newtag(), fid=c.root, newfid=fid, wname=["mbox"]), Rwalk)  # reusable
        want_reply(c, Fcall(Tclunk, c.newtag(), fid=c.root), Rclunk)
        want_error(c, Fcall(Twalk, c.newtag(), fid=c.root, newfid=c.newfid(), wname=[]))
        want_reply(c, Fcall(Tattach, c.newtag(), fid=c.root, afid=NOFID, uname=USER, aname=""), Rattach)
        return "second clunk -> %r" % en, notes
    t.run("Tclunk succeeds (open and unopened fids, root); the fid is then unknown and reusable", clunks)

    # -- Tstat
    def stats():
        c = fresh(S)
        d = c.stat(c.root)
        need(d.name == "/" and d.qid.type & QTDIR and d.mode & DMDIR, "root stat %r" % d)
        need(d.mode & 0o777 == 0o555, "root mode %o, spec 1.6 DMDIR|0555" % (d.mode & 0o777))
        d = c.statpath("mbox")
        need(d.name == "mbox" and d.qid.type & QTDIR and d.mode & DMDIR, "mbox stat %r" % d)
        need(d.mode & 0o777 == 0o555, "mbox mode %o, spec 1.6 DMDIR|0555" % (d.mode & 0o777))
        for n in ("1", "3", "4"):
            fid, qs = c.walkto("mbox/" + n)
            d = c.stat(fid)
            need(d.name == n and d.qid.type & QTDIR and d.mode & DMDIR and qeq(d.qid, qs[-1]),
                 "mbox/%s stat %r" % (n, d))
            need(d.mode & 0o777 == 0o555, "mbox/%s mode %o" % (n, d.mode & 0o777))
        need(d.uid, "empty uid in %r" % d)
        return "root %r uid %r" % (c.stat(c.root).name, d.uid)
    t.run("Tstat root (name '/'), mbox, message dirs (name = number, QTDIR, DMDIR|0555)", stats)

    def stat_files():
        c = fresh(S)
        bad, n = [], 0
        for msg in ("1", "3", "3/1", "4", "4/2", "5"):
            for d in c.ls("mbox/" + msg):
                if d.qid.type & QTDIR:
                    continue
                path = "mbox/%s/%s" % (msg, d.name)
                fid, qs = c.walkto(path)
                st = c.stat(fid)
                c.open(fid)
                data = c.read_eof(fid)
                ra, ln = c.read_all(fid)
                c.clunk(fid)
                n += 1
                if st.length != len(data):
                    bad.append("%s: stat length %d, read %d bytes" % (path, st.length, len(data)))
                if ra != data:
                    bad.append("%s: readfile-style read differs from read-to-EOF" % path)
                if st.qid.type & QTDIR or st.mode & DMDIR or not qeq(st.qid, qs[-1]) or st.name != d.name:
                    bad.append("%s: stat %r" % (path, st))
        need(not bad, "\n".join(bad[:15]))
        return "%d files" % n
    t.run("Tstat of files: name, no QTDIR/DMDIR, length == bytes read (mbox/1,3,3/1,4,4/2,5)", stat_files)

    # -- Twstat
    def wstats():
        c = fresh(S)
        fid, _ = c.walkto("mbox/1/subject")
        before = c.stat(fid)
        want_reply(c, Fcall(Twstat, c.newtag(), fid=fid, stat=Dir.nochange().pack()), Rwstat)
        d, _ = c.walkto("mbox")
        want_reply(c, Fcall(Twstat, c.newtag(), fid=d, stat=Dir.nochange().pack()), Rwstat)
        m = Dir.nochange()
        m.mode = 0o666
        want_error(c, Fcall(Twstat, c.newtag(), fid=fid, stat=m.pack()), "permission denied")
        m = Dir.nochange()
        m.name = "renamed"
        want_error(c, Fcall(Twstat, c.newtag(), fid=fid, stat=m.pack()), "permission denied")
        m = Dir.nochange()
        m.length = 0
        en, _ = want_error(c, Fcall(Twstat, c.newtag(), fid=fid, stat=m.pack()))
        after = c.stat(fid)
        need((after.name, after.mode, after.length) == (before.name, before.mode, before.length),
             "stat changed: %r -> %r" % (before, after))
        bad = Dir.nochange().pack()[:-3]
        want_error(c, Fcall(Twstat, c.newtag(), fid=fid, stat=bad))
        return "length change -> %r" % en
    t.run("Twstat all don't-touch -> Rwstat; mode/name change -> 'permission denied'; length/garbled -> Rerror",
          wstats)

    # -- Tremove, Tcreate
    def removes():
        c = fresh(S)
        before = c.catfile("mbox/1/subject")[0]
        fid, _ = c.walkto("mbox/1/subject")
        want_error(c, Fcall(Tremove, c.newtag(), fid=fid), "permission denied")
        fid_unknown(c, fid)
        need(c.catfile("mbox/1/subject")[0] == before, "subject changed after Tremove")
    t.run("Tremove of a file -> 'permission denied', the fid is clunked anyway, file intact", removes)

    def creates():
        c = fresh(S)
        for path in ("mbox", "mbox/1"):
            fid, _ = c.walkto(path)
            want_error(c, Fcall(Tcreate, c.newtag(), fid=fid, name="newfile", perm=0o644, mode=ORDWR),
                       "permission denied")
            want_error(c, Fcall(Tcreate, c.newtag(), fid=fid, name="newdir", perm=DMDIR | 0o755, mode=OREAD),
                       "permission denied")
            need(c.stat(fid).name == path.split("/")[-1], "fid changed by a failed Tcreate")
        fid = c.newfid()
        c.walk(c.root, fid, [])
        want_error(c, Fcall(Tcreate, c.newtag(), fid=fid, name="x", perm=0o644, mode=OWRITE), "permission denied")
        want_error(c, Fcall(Twalk, c.newtag(), fid=c.root, newfid=c.newfid(), wname=["x"]), "file does not exist")
        r = c.rpc(Fcall(Twalk, c.newtag(), fid=c.root, newfid=c.newfid(), wname=["mbox", "newfile"]), check=False)
        need(r.type == Rwalk and len(r.wqid) == 1, "walk mbox/newfile after the refused create: %r" % r)
    t.run("Tcreate (file or directory, in mbox, mbox/1, root) -> 'permission denied'", creates)

    # -- Tflush
    def flushes():
        c = fresh(S)
        want_reply(c, Fcall(Tstat, 7, fid=c.root), Rstat)
        r = want_reply(c, Fcall(Tflush, 8, oldtag=7), Rflush)
        need(r.tag == 8, "Rflush tag %d, want 8" % r.tag)
        want_reply(c, Fcall(Tflush, 9, oldtag=999), Rflush)
        # flush racing an outstanding read: the read's reply may come before Rflush, never after
        fid, _ = c.walkto("mbox/4/raw")
        c.open(fid)
        c.send_raw(pack(Fcall(Tread, 20, fid=fid, offset=0, count=8000)) + pack(Fcall(Tflush, 21, oldtag=20)))
        seq = []
        while True:
            r = c.recv()
            seq.append((r.tag, NAMES.get(r.type)))
            if r.tag == 21:
                need(r.type == Rflush, "Tflush answered %r" % r)
                break
            need(r.tag == 20 and r.type == Rread, "unexpected %r" % r)
        want_reply(c, Fcall(Tclunk, 22, fid=fid), Rclunk)   # the next message must be this one
        return "in-flight flush sequence %s" % seq
    t.run("Tflush of an answered tag, an unknown tag, and a pending read -> Rflush", flushes)

    # -- pipelining and tags
    def pipelining():
        c = fresh(S)
        fids = [c.walkto("mbox/%d/%s" % (1 + i % 5, ("info", "subject", "raw", "type")[i % 4]))[0] for i in range(127)]
        for f in fids:
            c.open(f)
        reqs = []
        for i, f in enumerate(fids):
            reqs.append(Fcall(Tread, 1000 + i, fid=f, offset=0, count=8000))
            reqs.append(Fcall(Tstat, 2000 + i, fid=f))
        reqs.append(Fcall(Tstat, 0, fid=c.root))
        reqs.append(Fcall(Tstat, 0xFFFE, fid=c.root))
        got = c.pipeline(reqs)
        for i, f in enumerate(fids):
            rr, rs = got[1000 + i], got[2000 + i]
            need(rr.type == Rread and rs.type == Rstat, "tags %d/%d: %r %r" % (1000 + i, 2000 + i, rr, rs))
            ln = Dir.unpack(rs.stat).length
            need(len(rr.data) == min(ln, 8000, c.msize - IOHDRSZ),
                 "pipelined read of fid %d gave %d bytes, stat length %d" % (f, len(rr.data), ln))
        need(got[0].type == Rstat and got[0xFFFE].type == Rstat, "tags 0 / 0xFFFE: %r %r" % (got[0], got[0xFFFE]))
        return "%d requests in one write" % len(reqs)
    t.run("256 pipelined requests (distinct tags incl. 0 and 0xFFFE) each get their reply", pipelining)


# ================================================================ 2. malformed input

def malformed_case(S, payload, mode="reply", before="attach", timeout=5.0):
    """Send payload on a fresh connection and judge the reaction.

    mode "reply": the server must answer Rerror(s) or close within timeout.
    mode "shutwr": payload, then our half-close; the server must reach EOF
    (replies of any kind allowed) within timeout.
    mode "close": payload, then we close at once.
    mode "any": any reply or a close within timeout.
    Afterwards the server must be alive and a new connection must work."""
    c = Conn(S.sock, timeout)
    what = ""
    try:
        if before in ("version", "attach"):
            c.version()
        if before == "attach":
            c.attach(fid=0)
        try:
            c.send_raw(payload)
        except (BrokenPipeError, ConnectionResetError):
            c.close()
            mode, what = "close", "closed by the server while we sent"
        if mode == "close" and what:
            pass
        elif mode == "close":
            c.close()
            what = "closed by us"
        elif mode == "shutwr":
            c.sock.shutdown(socket.SHUT_WR)
            n = 0
            try:
                while True:
                    c.recv_raw()
                    n += 1
            except EOFError:
                what = "%d replies, then EOF" % n
            except ConnectionResetError:
                what = "%d replies, then connection reset" % n
            except (ProtocolError,) as e:
                what = "undecodable reply (%s)" % e
            except socket.timeout:
                raise Fail("no EOF from the server %.0f s after our half-close (hang)" % timeout)
        else:
            try:
                r = c.recv()
                if mode == "reply":
                    need(r.type == Rerror, "got %r, want Rerror or a closed connection" % r)
                    what = "Rerror %r" % r.ename
                else:
                    what = "%s" % NAMES.get(r.type)
            except EOFError:
                what = "connection closed"
            except ConnectionResetError:
                what = "connection reset"
            except socket.timeout:
                raise Fail("neither a reply nor a close within %.0f s (hang)" % timeout)
    finally:
        c.close()
    time.sleep(0.05)
    need(S.alive(), "server died: %s\n%s" % (S.status(), S.logtail()))
    c2 = fresh(S)
    data, ln = c2.readfile("mbox/1/info")
    need(data and len(data) == ln, "new connection: mbox/1/info read %d bytes, stat %d" % (len(data), ln))
    c2.close()
    return what


def hdr(size, type, tag=1):
    return struct.pack("<IBH", size, type, tag)


def msg(type, tag, body):
    return struct.pack("<IBH", 7 + len(body), type, tag) + body


def pstr(s):
    return struct.pack("<H", len(s)) + s


def sec_malformed(t, S):
    cases = [
        ("size field 0", struct.pack("<I", 0), "reply"),
        ("size field 4", struct.pack("<I", 4) + b"\x78\x01\x00\x00\x00\x00\x00", "reply"),
        ("size field 6", struct.pack("<I", 6) + b"\x78\x01\x00\x00\x00\x00\x00", "reply"),
        ("size field 1 MB (> msize), 1000 bytes sent",
         hdr(1 << 20, Twrite) + struct.pack("<IQI", 0, 0, (1 << 20) - 23) + b"x" * 1000, "reply"),
        ("size field 0xFFFFFFFF", hdr(0xFFFFFFFF, Tread) + b"\0" * 16, "reply"),
        ("message of msize+1 bytes, all sent",
         msg(Twrite, 1, struct.pack("<IQI", 0, 0, 8192 + 1 - 23) + b"y" * (8192 + 1 - 23)), "reply"),
        ("Tclunk with no fid (size 7)", msg(Tclunk, 1, b""), "reply"),
        ("Tread cut inside its fields (size 12)", msg(Tread, 1, b"\0\0\0\0\0"), "reply"),
        ("Tattach uname length 1000 past the end",
         msg(Tattach, 1, struct.pack("<II", 5, NOFID) + struct.pack("<H", 1000) + b"abc"), "reply"),
        ("Twalk name length past the end",
         msg(Twalk, 1, struct.pack("<IIH", 0, 6, 1) + struct.pack("<H", 300) + b"mbox"), "reply"),
        ("Twalk nwname 3 with one name",
         msg(Twalk, 1, struct.pack("<IIH", 0, 6, 3) + pstr(b"mbox")), "reply"),
        ("Twalk nwname 0xFFFF with no names", msg(Twalk, 1, struct.pack("<IIH", 0, 6, 0xFFFF)), "reply"),
        ("Twrite count past the end", msg(Twrite, 1, struct.pack("<IQI", 0, 0, 5000) + b"abc"), "reply"),
        ("Twstat stat length past the end", msg(Twstat, 1, struct.pack("<IH", 0, 500) + b"\0" * 20), "reply"),
        ("Tversion version length past the end", msg(Tversion, NOTAG, struct.pack("<IH", 8192, 50) + b"9P2000"),
         "reply"),
        ("unknown type 200", msg(200, 1, b"\0\0\0\0"), "reply"),
        ("unknown type 0", msg(0, 1, b"\0\0\0\0"), "reply"),
        ("Terror (106) as a request", msg(Terror, 1, b""), "reply"),
        ("Rversion (101) as a request", msg(Rversion, 1, struct.pack("<I", 8192) + pstr(b"9P2000")), "reply"),
        ("Rerror (107) as a request", msg(Rerror, 1, pstr(b"boo")), "reply"),
        ("Tclunk with 3 trailing bytes", msg(Tclunk, 1, struct.pack("<I", 0) + b"abc"), "any"),
        ("Tattach with a NUL in uname", msg(Tattach, 1, struct.pack("<II", 5, NOFID) + pstr(b"ro\0ot") + pstr(b"")),
         "any"),
        ("Twalk with a NUL in a name (NUL is illegal in 9P strings)",
         msg(Twalk, 1, struct.pack("<IIH", 0, 6, 1) + pstr(b"mb\0ox")), "reply"),
        ("Twalk with a non-UTF-8 name",
         msg(Twalk, 1, struct.pack("<IIH", 0, 6, 1) + pstr(b"\xff\xfe")), "reply"),
        ("half a Twalk, then close",
         msg(Twalk, 1, struct.pack("<IIH", 0, 6, 2) + pstr(b"mbox") + pstr(b"1"))[:9], "close"),
        ("a 4-byte size alone, then close", struct.pack("<I", 100), "close"),
        ("Twalk + Topen + 64 Treads pipelined, then close without reading the replies",
         pack(Fcall(Twalk, 1, fid=0, newfid=1, wname=["mbox", "4", "raw"])) + pack(Fcall(Topen, 2, fid=1, mode=OREAD)) +
         b"".join(pack(Fcall(Tread, 10 + i, fid=1, offset=0, count=8000)) for i in range(64)), "close"),
    ]
    for desc, payload, mode in cases:
        t.run("malformed: %s -> %s" % (desc, "Rerror or close" if mode == "reply" else "no crash"),
              malformed_case, S, payload, mode)

    rnd = random.Random(20240607)
    for i in range(6):
        n = rnd.choice((1, 3, 7, 40, 200, 3000))
        payload = bytes(rnd.getrandbits(8) for _ in range(n))
        t.run("malformed: random garbage #%d (%d bytes), then half-close -> no hang, no crash" % (i + 1, n),
              malformed_case, S, payload, "shutwr")
    for i in range(6):
        # a plausible header (right size, a real T type) over random bytes
        typ = rnd.choice([Tversion, Tauth, Tattach, Tflush, Twalk, Topen, Tcreate, Tread, Twrite,
                          Tclunk, Tremove, Tstat, Twstat])
        body = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 60)))
        payload = msg(typ, rnd.getrandbits(16), body)
        t.run("malformed: %s with %d random bytes, then half-close -> no hang, no crash" % (NAMES[typ], len(body)),
              malformed_case, S, payload, "shutwr")

    t.run("malformed: Tattach before Tversion -> Rerror or close",
          malformed_case, S, pack(Fcall(Tattach, 1, fid=0, afid=NOFID, uname=USER, aname="")), "reply", "none")
    t.run("malformed: Twalk before Tversion -> Rerror or close",
          malformed_case, S, pack(Fcall(Twalk, 1, fid=0, newfid=1, wname=["mbox"])), "reply", "none")

    def reused_tag():
        c = fresh(S)
        fid, _ = c.walkto("mbox/4/raw")
        c.open(fid)
        c.send_raw(pack(Fcall(Tread, 5, fid=fid, offset=0, count=8000)) + pack(Fcall(Tstat, 5, fid=c.root)) +
                   pack(Fcall(Tclunk, 6, fid=fid)))
        seen = []
        while True:
            r = c.recv()
            seen.append((r.tag, NAMES.get(r.type)))
            if r.tag == 6:
                break
            need(r.tag == 5, "unexpected reply %r" % r)
        need(1 <= len(seen) - 1 <= 2, "replies %r" % seen)
        c2 = fresh(S)
        c2.readfile("mbox/1/info")
        return "replies %s" % seen
    t.run("malformed: a tag reused while in flight -> replies still come back", reused_tag)


# ================================================================ 3. acme Mail

INFO_ORDER = ["unixdate", "flags", "digest", "from", "to", "cc", "replyto", "bcc", "inreplyto", "date",
              "sender", "messageid", "subject", "type", "lines", "filename"]
CTIME = re.compile(r"^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   r"([ 123]\d) (\d\d):(\d\d):(\d\d) (\S{3}) (\d{4})$")


def check_info(data, top):
    """Problems with an info file (spec 2.2); [] when fine."""
    bad = []
    if not data:
        return ["empty"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ["not UTF-8"]
    if not text.endswith("\n"):
        bad.append("does not end in a newline")
    lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    keys, vals = [], {}
    for i, line in enumerate(lines):
        if line == "":
            bad.append("empty line %d (Mail stops there)" % (i + 1))
            break
        if " " not in line:
            bad.append("line %d has no space: %r" % (i + 1, line))
            continue
        k, v = line.split(" ", 1)
        if v.strip() == "":
            bad.append("empty value for %r" % k)
        if k in vals:
            bad.append("key %r twice" % k)
        keys.append(k)
        vals[k] = v
    idx = [INFO_ORDER.index(k) if k in INFO_ORDER else 100 + i for i, k in enumerate(keys)]
    if idx != sorted(idx):
        bad.append("keys out of the spec's order: %s" % " ".join(keys))
    if "type" not in vals:
        bad.append("no type key")
    if "digest" not in vals:
        bad.append("no digest key")
    elif not re.fullmatch(r"[0-9a-f]{40}", vals["digest"]):
        bad.append("digest %r is not 40 lowercase hex digits" % vals["digest"])
    if top:
        if not keys or keys[0] != "unixdate":
            bad.append("first key %r, want unixdate" % (keys[:1],))
    if "unixdate" in vals:
        m = re.match(r"^(\d+) (.*)$", vals["unixdate"])
        if not m or not CTIME.match(m.group(2)):
            bad.append("unixdate value %r is not '<secs> <ctime>'" % vals["unixdate"])
        else:
            secs, ct = int(m.group(1)), m.group(2)
            if len(ct.split()) != 6:
                bad.append("unixdate ctime %r does not have 6 fields" % ct)
            zone = ct.split()[4]
            want = time.strftime("%a %b %e %H:%M:%S " + zone + " %Y", time.gmtime(secs))
            if zone in ("UTC", "GMT") and ct != want:
                bad.append("unixdate %r: ctime %r, but %d seconds is %r" % (vals["unixdate"], ct, secs, want))
    return bad


def sec_mail(t, S, label, nmsgs):
    st = {"c": None}

    def handshake():
        c = Conn(S.sock)
        r = want_reply(c, Fcall(Tversion, NOTAG, msize=8192, version="9P2000"), Rversion)
        need(r.version == "9P2000" and r.msize <= 8192, "Rversion %r" % r)
        c.msize = r.msize
        r = want_reply(c, Fcall(Tattach, 0, fid=0, afid=NOFID, uname=USER, aname=""), Rattach)
        need(r.qid.type & QTDIR, "root qid %r" % (r.qid,))
        c.root = 0
        c._fid = 10
        st["c"] = c
    t.run("%s: Mail's Tversion 8192 NOTAG + Tattach NOFID uname %r" % (label, USER), handshake)
    c = st["c"] or fresh(S)

    def box_stat():
        fid, _ = c.walkto(["mbox"])
        d = c.stat(fid)
        c.clunk(fid)
        need(d.qid.type & QTDIR and d.name == "mbox", "mbox stat %r" % d)
    t.run("%s: Twalk [mbox] + Tstat -> QTDIR" % label, box_stat)

    def ctl():
        fid, _ = c.walkto(["mbox", "ctl"])
        c.open(fid, OWRITE)
        c.clunk(fid)
    t.run("%s: Twalk [mbox ctl] + Topen OWRITE" % label, ctl)

    listing = {}

    def list_box():
        fid, _ = c.walkto(["mbox"])
        c.open(fid)
        ents, off = [], 0
        while True:
            f = Fcall(Tread, c.newtag(), fid=fid, offset=off, count=8168)
            r = want_reply(c, f, Rread)
            if not r.data:
                break
            try:
                ents += unpack_dirs(r.data)
            except Exception as e:
                raise Fail("Rread at offset %d holds a partial entry: %s" % (off, e))
            off += len(r.data)
        c.clunk(fid)
        names = [d.name for d in ents]
        nums = [int(n) for n in names if isnum(n)]
        need(all(names), "empty name in %r" % names)
        need(nums == sorted(nums) and len(set(nums)) == len(nums), "message names not ascending: %r" % names)
        first_num = next((i for i, n in enumerate(names) if isnum(n)), len(names))
        need(all(isnum(n) for n in names[first_num:]), "non-numeric names after messages: %r" % names)
        need(len(nums) == nmsgs, "%d messages, want %d: %r" % (len(nums), nmsgs, names))
        for d in ents:
            need(not isnum(d.name) or (d.qid.type & QTDIR), "message %s without QTDIR" % d.name)
        listing["msgs"] = [n for n in names if isnum(n)]
        return "%s" % " ".join(names)
    t.run("%s: list mbox (Tread 8168 at growing offsets): whole entries, ascending numbers" % label, list_box)
    msgs = listing.get("msgs") or [str(i) for i in range(1, nmsgs + 1)]

    def infos():
        bad = []
        for n in msgs:
            data, ln = c.readfile("mbox/%s/info" % n)
            for b in check_info(data, True):
                bad.append("mbox/%s/info: %s" % (n, b))
        need(not bad, "\n".join(bad[:20]))
        return "%d messages" % len(msgs)
    t.run("%s: readfile every message's info: non-empty, 'unixdate <secs> <ctime>' first, keys in spec order"
          % label, infos)

    # walk the whole message trees as Mail does when opening each message
    ents = []          # (path, top, names of files)
    problems = {"list": [], "parts": [], "text": [], "size": [], "must": []}

    def walk_entity(path, top, depth):
        try:
            lst = c.ls(path)
        except Exception as e:
            problems["list"].append("%s: %s" % (path, e))
            return
        names = [d.name for d in lst]
        if not all(names):
            problems["list"].append("%s: empty name" % path)
        nums = [d for d in lst if isnum(d.name)]
        first = next((i for i, d in enumerate(lst) if isnum(d.name)), len(lst))
        if [d.name for d in lst[first:]] != [d.name for d in nums] or \
                [int(d.name) for d in nums] != sorted(int(d.name) for d in nums):
            problems["list"].append("%s: numeric entries not last/ascending: %r" % (path, names))
        for d in lst:
            if bool(d.qid.type & QTDIR) != isnum(d.name):
                problems["list"].append("%s/%s: QTDIR %s for a %s name" % (
                    path, d.name, bool(d.qid.type & QTDIR), "numeric" if isnum(d.name) else "file"))
        ents.append((path, top, [d.name for d in lst if not isnum(d.name)]))
        for d in nums:
            sub = path + "/" + d.name
            data, ln = c.readfile(sub + "/info")
            for b in check_info(data, False):
                problems["parts"].append("%s/info: %s" % (sub, b))
            if depth < MAXDEPTH:
                walk_entity(sub, False, depth + 1)

    def open_messages():
        for n in msgs:
            d = c.statpath("mbox/" + n)
            if d.name != n or not d.qid.type & QTDIR:
                problems["list"].append("mbox/%s: stat name %r qid %r" % (n, d.name, d.qid))
            walk_entity("mbox/" + n, True, 1)
        need(not problems["list"], "\n".join(problems["list"][:20]))
        return "%d messages, %d entities" % (len(msgs), len(ents))
    t.run("%s: list every message and part dir (files first, numeric parts ascending, QTDIR only on parts, "
          "stat name = number)" % label, open_messages)

    def part_infos():
        need(not problems["parts"], "\n".join(problems["parts"][:20]))
        return "%d parts" % (len(ents) - len(msgs))
    t.run("%s: readfile info of every part, recursively: non-empty, type and digest, keys in order" % label,
          part_infos)

    def text_parts():
        bad, ntext = [], 0
        for path, top, files in ents:
            ty, _ = c.readfile(path + "/type")
            if not ty:
                bad.append("%s/type is empty" % path)
            info, _ = c.readfile(path + "/info")
            it = [l[5:] for l in info.decode("utf-8", "replace").split("\n") if l.startswith("type ")]
            if it != [ty.decode("utf-8", "replace")]:
                bad.append("%s: info type %r, type file %r" % (path, it, ty))
            if ty.startswith(b"text"):
                ntext += 1
                for f in ("header", "body"):
                    try:
                        c.readfile(path + "/" + f)
                    except Exception as e:
                        bad.append("%s/%s: %s" % (path, f, e))
        need(not bad, "\n".join(bad[:20]))
        return "%d text entities" % ntext
    t.run("%s: readfile type of every entity (== info type), header and body of text parts" % label, text_parts)

    def sizes():
        bad, n = [], 0
        for path, top, files in ents:
            want = ["info", "body", "header", "type", "raw"] + (["unixheader"] if top else [])
            for f in want:
                if f not in files:
                    bad.append("%s: no %s in the listing" % (path, f))
                    continue
                data, ln = c.catfile(path + "/" + f)
                rf, rl = c.readfile(path + "/" + f)
                n += 1
                if len(data) != ln:
                    bad.append("%s/%s: stat length %d, %d bytes read" % (path, f, ln, len(data)))
                elif rf != data:
                    bad.append("%s/%s: readfile got %d bytes, read-to-EOF %d" % (path, f, len(rf), len(data)))
        need(not bad, "\n".join(bad[:20]))
        return "%d files" % n
    t.run("%s: stat length == bytes read for info body header type raw (+unixheader) of every message and part"
          % label, sizes)

    def musts():
        bad = []
        for n in msgs:
            p = "mbox/" + n
            rawunix = c.catfile(p + "/rawunix")[0]
            unixheader = c.catfile(p + "/unixheader")[0]
            raw = c.catfile(p + "/raw")[0]
            digest = c.catfile(p + "/digest")[0].decode()
            info = c.readfile(p + "/info")[0].decode("utf-8", "replace")
            mid = c.catfile(p + "/messageid")[0]
            idig = [l[7:] for l in info.split("\n") if l.startswith("digest ")]
            if idig != [digest]:
                bad.append("%s: info digest %r, digest file %r" % (p, idig, digest))
            if digest != hashlib.sha1(rawunix).hexdigest():
                bad.append("%s: digest %s != sha1(rawunix) %s" % (p, digest, hashlib.sha1(rawunix).hexdigest()))
            if rawunix != unixheader + raw:
                bad.append("%s: rawunix != unixheader + raw" % p)
            if not unixheader.startswith(b"From ") or not unixheader.endswith(b"\n") or unixheader.count(b"\n") != 1:
                bad.append("%s: unixheader %r" % (p, unixheader))
            if raw.startswith(b"From "):
                bad.append("%s: raw starts with a From line" % p)
            if b"\n" in mid:
                bad.append("%s: messageid %r has a newline" % (p, mid))
            ud = c.catfile(p + "/unixdate")[0].decode()
            iu = [l[9:] for l in info.split("\n") if l.startswith("unixdate ")]
            if not iu or iu[0].split(" ", 1)[1] + "\n" != ud:
                bad.append("%s: unixdate file %r vs info %r" % (p, ud, iu))
        need(not bad, "\n".join(bad[:20]))
    t.run("%s: digest == info digest == sha1(rawunix); rawunix == unixheader+raw; From line; "
          "messageid without NL; unixdate file == info ctime" % label, musts)
    c.close()


# ================================================================ 4. Topenfd

def read_fd(fd, timeout=10.0):
    out = b""
    while True:
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            raise Fail("descriptor gave no EOF within %.0f s after %d bytes" % (timeout, len(out)))
        b = os.read(fd, 65536)
        if not b:
            return out
        out += b


def sec_openfd(t, S):
    def openfd(path):
        c = fresh(S)
        want, ln = c.catfile(path)
        fid, qs = c.walkto(path)
        f = Fcall(Topenfd, c.newtag(), fid=fid, mode=OREAD)
        r = c.rpc(f, check=False)
        need(r.type == Ropenfd, "sent %r\ngot %r" % (f, r))
        need(qeq(r.qid, qs[-1]), "Ropenfd qid %r, walk qid %r" % (r.qid, qs[-1]))
        fd, payload = c.recv_fd()
        try:
            need(len(payload) == 1, "payload %r" % payload)
            seq = read_fd(fd)           # read(2) from where the descriptor stands, as marshal does
            try:
                at0 = os.pread(fd, max(len(want), 1) + 4096, 0)
                kind = "seekable %s" % ("file" if os.path.stat.S_ISREG(os.fstat(fd).st_mode) else "fd")
            except OSError:
                at0, kind = seq, "pipe/socket"
        finally:
            os.close(fd)

        def first_diff(a, b):
            return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        need(at0 == want, "%s: reading from offset 0 gave %d bytes, read_all %d (first difference at %d)" % (
            kind, len(at0), len(want), first_diff(at0, want)))
        need(seq == want, "%s: reading from offset 0 is right, but read(2) of the descriptor as received gave "
             "%d bytes, want %d: its file offset is not at 0 (a plain reader such as marshal gets nothing)"
             % (kind, len(seq), len(want)))
        # openfd(9P): after the transaction the fid counts as clunked and can be reused
        r2 = c.rpc(Fcall(Twalk, c.newtag(), fid=c.root, newfid=fid, wname=["mbox"]), check=False)
        need(r2.type == Rwalk, "fid %d not reusable after Topenfd: %r" % (fid, r2))
        c.readfile("mbox/1/info")
        return "qid %r iounit %d, %d bytes, payload %r" % (r.qid, r.iounit, len(seq), payload)
    for path in ("mbox/1/raw", "mbox/1/messageid", "mbox/4/raw"):
        t.run("Topenfd OREAD %s -> Ropenfd + SCM_RIGHTS fd reading the same bytes" % path, openfd, path)

    def openfd_denied():
        c = fresh(S)
        fid, _ = c.walkto("mbox/1/raw")
        en, _ = want_error(c, Fcall(Topenfd, c.newtag(), fid=fid, mode=ORDWR), "permission denied")
        c.stat(c.root)
        need(not c.fds, "a descriptor arrived with the Rerror")
    t.run("Topenfd ORDWR of a read-only file -> 'permission denied', no descriptor", openfd_denied)


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
        c.open(nf)
        data = c.read_eof(nf)
        c.clunk(nf)
        if len(data) != st.length:
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


# ================================================================ main

class Watchdog(Exception):
    pass


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python3 tests/t-9p.py MAILFS_BINARY")
    binary = os.path.abspath(sys.argv[1])
    t = TAP()
    servers = []

    def on_alarm(sig, frame):
        raise Watchdog("watchdog: the run took more than %d s" % WATCHDOG)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(WATCHDOG)
    try:
        S = None

        def start_sample():
            servers.append(Server(binary, SAMPLE))
            t.server = servers[-1]
            mode = os.stat(servers[-1].sock).st_mode & 0o777
            need(mode == 0o600, "socket mode %o, want 600" % mode)
            return servers[-1].sock
        if t.run("server starts on sample.mbox and creates its socket with mode 0600", start_sample) or servers:
            S = servers[-1]
        if S:
            t.server = S
            print("# section 1: conformance", flush=True)
            sec_conformance(t, S)
            print("# section 2: malformed input", flush=True)
            sec_malformed(t, S)
            print("# section 3: acme Mail's conversation", flush=True)
            sec_mail(t, S, "sample", 5)
            print("# section 4: Topenfd", flush=True)
            sec_openfd(t, S)

            def ends():
                rc, killed = S.stop()
                need(not killed, "no exit within 5 s of SIGTERM")
                need(rc is not None and rc <= 0, "exit status %s after SIGTERM\n%s" % (rc, S.lastlog))
                return "exit: %s" % S.status()
            t.server = None
            t.run("sample server survived sections 1-4 and exits on SIGTERM", ends)
        try:
            N = Server(binary, NESTED)
            servers.append(N)
            t.server = N
            sec_mail(t, N, "nested", 5)
            t.server = None

            def nends():
                rc, killed = N.stop()
                need(not killed and rc is not None and rc <= 0, "exit status %s, killed %s\n%s" % (rc, killed, N.lastlog))
            t.run("nested server exits on SIGTERM", nends)
        except Exception as e:
            t.ok(False, "nested: server start", "%s: %s" % (type(e).__name__, e))
        t.server = None
        print("# section 5: trees over 9P", flush=True)
        sec_trees(t, binary)
        print("# section 6: concurrency", flush=True)
        sec_concurrency(t, binary)
    except Watchdog as e:
        print("Bail out! %s" % e, flush=True)
        t.failed.append("watchdog")
    except KeyboardInterrupt:
        print("Bail out! interrupted", flush=True)
        t.failed.append("interrupted")
    finally:
        signal.alarm(0)
        for s in servers:
            try:
                s.stop()
            except Exception:
                pass
    print("1..%d" % t.n)
    if t.failed:
        print("# %d of %d failed: %s" % (len(t.failed), t.n, ", ".join(x.split(" - ")[0] for x in t.failed)))
    sys.exit(1 if t.failed else 0)


if __name__ == "__main__":
    main()
