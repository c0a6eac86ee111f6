"""What the 9P test sections share (tests/t-9p.py runs them): the
independent client's names, the test boxes, the server under test and
small checks."""
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
from tap import Tap, Fail  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(TOP, "testdata", "sample.mbox")
NESTED = os.path.join(TOP, "testdata", "boxes", "nested.mbox")
USER = getpass.getuser()
MAXDEPTH = 12                 # as tests/t-tree.sh runs treedump.py
WATCHDOG = 900                # seconds for the whole run


def need(cond, msg):
    if not cond:
        raise Fail(msg)


def qeq(a, b):
    """Same file: qid type and path equal (vers may legitimately move)."""
    return a.type == b.type and a.path == b.path


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
