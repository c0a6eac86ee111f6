"""What the Python tests of mailfs share: TAP checks, a mailfs serving
9P in the foreground, started and stopped, and stand-ins for the 9P
services mailfs itself dials (the plumber, factotum)."""
import os, signal, socket, struct, subprocess, sys, threading, time, traceback
import p9client as p9


class Fail(Exception):
    """Raised by a check run with Tap.run: it failed, and says why."""


class Tap:
    """TAP lines for every Python test.  check(what, cond, detail) and
    ok(cond, what, diag) print one check; run(what, fn, ...) runs fn as
    a check (it fails by raising), and with a server set, a check after
    which the server died fails too; done() prints the plan."""

    def __init__(self):
        self.n = 0
        self.failed = []
        self.server = None      # anything with alive(), status(), logtail(), restart()

    def ok(self, cond, desc, diag=None, todo=None, notes=()):
        self.n += 1
        line = "%s %d - %s" % ("ok" if cond else "not ok", self.n, desc)
        if todo and not cond:
            line += " # TODO " + todo
        print(line, flush=True)
        if not cond and diag not in (None, ""):
            for l in str(diag).rstrip("\n").split("\n"):
                print("#   " + l)
        for note in notes:
            print("# note: " + note)
        if not cond and not todo:
            self.failed.append("%d - %s" % (self.n, desc))
        sys.stdout.flush()
        return cond

    def check(self, what, cond, detail=""):
        return self.ok(bool(cond), what, detail)

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
            if getattr(e, "req", None) is not None:
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

    def done(self):
        """The plan, a summary of what failed, and the exit status."""
        print("1..%d" % self.n)
        if self.failed:
            print("# %d of %d failed: %s" % (len(self.failed), self.n,
                                             ", ".join(x.split(" - ")[0] for x in self.failed)))
        return 1 if self.failed else 0


def post(mailfs, args, ns, name, env):
    """Start mailfs -f -s name args...; return the process once the service is posted."""
    p = subprocess.Popen([mailfs, "-f", "-s", name] + args, env=env, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if os.path.exists(os.path.join(ns, name)):
            break
        time.sleep(0.1)
    return p


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()


def standin(path, walk=lambda name: True, write=None, read=None):
    """A 9P server posted at path, written here with p9client's codec.
    It attaches, walks to the names walk() allows, opens and clunks;
    write(state, data) takes each Twrite and read(state) answers each
    Tread, with state a dict of the connection's own.  Returns the
    listening socket: closing it stops the server."""
    def conn(c):
        buf, state = b"", {}
        try:
            while True:
                while len(buf) < 4 or len(buf) < struct.unpack_from("<I", buf)[0]:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                size = struct.unpack_from("<I", buf)[0]
                t, buf = p9.unpack(buf[:size]), buf[size:]
                if t.type == p9.Tversion:
                    r = p9.Fcall(p9.Rversion, t.tag, msize=t.msize, version="9P2000")
                elif t.type == p9.Tattach:
                    r = p9.Fcall(p9.Rattach, t.tag, qid=p9.Qid(0x80, 0, 0))
                elif t.type == p9.Twalk and all(walk(n) for n in t.wname):
                    r = p9.Fcall(p9.Rwalk, t.tag, wqid=[p9.Qid(0, 0, 1)] * len(t.wname))
                elif t.type == p9.Twalk:
                    r = p9.Fcall(p9.Rerror, t.tag, ename="file does not exist")
                elif t.type == p9.Topen:
                    r = p9.Fcall(p9.Ropen, t.tag, qid=p9.Qid(0, 0, 1), iounit=0)
                elif t.type == p9.Twrite and write:
                    write(state, bytes(t.data))
                    r = p9.Fcall(p9.Rwrite, t.tag, count=len(t.data))
                elif t.type == p9.Tread and read:
                    r = p9.Fcall(p9.Rread, t.tag, data=read(state))
                elif t.type == p9.Tclunk:
                    r = p9.Fcall(p9.Rclunk, t.tag)
                else:
                    r = p9.Fcall(p9.Rerror, t.tag, ename="not here")
                c.sendall(p9.pack(r))
        except OSError:
            return
        finally:
            c.close()

    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(8)

    def loop():
        while True:
            try:
                c, _ = s.accept()
            except OSError:	# closed: the test is done with it
                return
            threading.Thread(target=conn, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return s
