#!/usr/bin/env python3
"""IMAP faults survived: mailfs reads the test Dovecot through a
loopback proxy that can be told to cut the connection in the middle of
a literal, to answer garbage, or to refuse every new connection with
BYE.  Each time the reader of an unfetched body gets an error within a
bounded time (well under the 30 s the mount asks the kernel to wait),
mailfs goes on serving what it holds (the listing, a body read before),
and once the proxy passes again the same body is read whole, over a
connection made anew.  usage: t-imapfaults.py MAILFS"""
import os, re, shutil, socket, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest
import tap as tap_

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tap = tap_.Tap()
check = tap.check
BOUND = 25	# seconds a failing read may take


class Proxy:
    """server to client through a mode: pass, cut (mid-literal), garbage; refuse: new connections get BYE"""

    def __init__(self, port):
        self.port, self.mode, self.conns, self.lock = port, "pass", [], threading.Lock()
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        threading.Thread(target=self.serve, daemon=True).start()

    def set(self, mode):
        self.mode = mode
        with self.lock:	# what a connection was doing before does not carry over
            for s in self.conns:
                self.close(s)
            self.conns = []

    @staticmethod
    def close(s):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def serve(self):
        while True:
            c, _ = self.ls.accept()
            if self.mode == "refuse":
                c.sendall(b"* BYE not now\r\n")
                self.close(c)
                continue
            u = socket.create_connection(("127.0.0.1", self.port))
            with self.lock:
                self.conns += [c, u]
            threading.Thread(target=self.pump, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self.pump, args=(u, c, True), daemon=True).start()

    def pump(self, a, b, fromserver):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if fromserver and self.mode == "cut":
                    m = re.search(rb"\{(\d+)\}\r\n", d)
                    if m and int(m.group(1)) > 64:
                        b.sendall(d[:m.end() + int(m.group(1)) // 2])	# half the literal, then nothing
                        break
                if fromserver and self.mode == "garbage":
                    d = b"* \x00\xff\xfe GARBAGE ((( {x} \x01\r\n" * 4
                b.sendall(d)
        except OSError:
            pass
        self.close(a)
        self.close(b)


def timed_read(path):
    t0 = time.time()
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data, None, time.time() - t0
    except OSError as e:
        return None, e, time.time() - t0


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="t-imapfaults.")
    d = os.path.join(tmp, "dovecot")
    env = imaptest.dovecot(d)
    subprocess.run([sys.executable, os.path.join(top, "tests/imapload.py"),
                    os.path.join(top, "testdata/boxes/mixed.mbox"), env["IMAP_MAILDIR"]], check=True)
    keys, penv = imaptest.home(tmp)
    proxy = Proxy(int(env["IMAP_PORT"]))
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    box = os.path.join(mnt, "mbox")
    try:
        subprocess.run([mailfs, "-k", keys, "-m", mnt, "imap://alice@127.0.0.1:%d/INBOX" % proxy.ls.getsockname()[1]],
                       env=penv, check=True, timeout=60)
        first, err, _ = timed_read(os.path.join(box, "1", "2", "body"))
        check("through the proxy: mounted, a body read", first is not None and len(first) > 100, err)
        listing = sorted(os.listdir(box))
        for mode, msg in (("cut", "2"), ("garbage", "3"), ("refuse", "4")):
            proxy.set(mode)
            data, err, secs = timed_read(os.path.join(box, msg, "2", "body"))
            check("%s: the read of an unfetched body fails (%s) in %.1f s, within %d s" % (mode, err and err.strerror, secs, BOUND),
                  data is None and secs < BOUND, "read %r" % (data[:60] if data else data))
            again, e2, _ = timed_read(os.path.join(box, "1", "2", "body"))
            check("%s: meanwhile mailfs serves what it holds: the listing and the body read before" % mode,
                  sorted(os.listdir(box)) == listing and again == first, e2)
            proxy.set("pass")
            data, err, secs = None, None, 0
            for _ in range(3):	# the first try may still meet the connection the fault left
                data, err, secs = timed_read(os.path.join(box, msg, "2", "body"))
                if data is not None:
                    break
                time.sleep(1)
            check("%s over: the same body is read whole on a connection made anew" % mode,
                  data is not None and len(data) > 10, err)
    finally:
        subprocess.run(["fusermount3", "-u", "-z", mnt], stderr=subprocess.DEVNULL)
        subprocess.run(["pkill", "-KILL", "-f", "^%s .*%s" % (mailfs, mnt)], stderr=subprocess.DEVNULL)	# a hung one
        imaptest.stop(d)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.exit(tap.done())
