"""What the Python tests of mailfs share: TAP checks, a mailfs serving
9P in the foreground, started and stopped, and stand-ins for the 9P
services mailfs itself dials (the plumber, factotum)."""
import os, signal, socket, struct, subprocess, threading, time
import p9client as p9


class Tap:
    def __init__(self):
        self.n = self.fails = 0

    def check(self, what, cond, detail=""):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, what))
        if not cond:
            self.fails += 1
            for line in str(detail).splitlines():
                print("#   " + line)

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.fails else 0


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
