#!/usr/bin/env python3
"""A long first open shows its progress: an IMAP folder of 3000 messages
on a Dovecot behind a slow link (a loopback proxy passing 100 KB a
second), opened by mailfs -f with a terminal (a pty) as its stderr,
prints "listing N of 3000 messages" as the listing comes in and ends
with "listed 3000 messages in T s"; with stderr not a terminal, or a
quick open, it prints nothing of the kind.  usage: t-progress.py MAILFS"""
import os, pty, re, select, shutil, socket, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imaptest
import tap as tap_

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tap = tap_.Tap()
check = tap.check
N = 3000


def slowproxy(port, rate=100_000):
    """a loopback port whose connections reach port, server to client at rate bytes a second"""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)

    def pump(a, b, slow):
        try:
            while True:
                d = a.recv(1024 if slow else 65536)
                if not d:
                    break
                b.sendall(d)
                if slow:
                    time.sleep(len(d) / rate)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve():
        while True:
            c, _ = ls.accept()
            u = socket.create_connection(("127.0.0.1", port))
            threading.Thread(target=pump, args=(u, c, True), daemon=True).start()
            threading.Thread(target=pump, args=(c, u, False), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return ls.getsockname()[1]


def main():
    mailfs = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="t-progress.")
    d = os.path.join(tmp, "dovecot")
    env = imaptest.dovecot(d)
    for i in range(N):
        with open(os.path.join(env["IMAP_MAILDIR"], "cur", "%d.test:2,S" % i), "w") as f:
            f.write("From: a@example.org\nSubject: m%d\nMessage-ID: <m%d@example.org>\n\nbody %d\n" % (i, i, i))
    keys, penv = imaptest.home(tmp)
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    slow = slowproxy(int(env["IMAP_PORT"]))

    def run(port, tty):
        """mailfs -f on the folder via port, stderr a pty or a file: what it wrote before the mount was up"""
        url = "imap://alice@127.0.0.1:%d/INBOX" % port
        if tty:
            master, slave = pty.openpty()
            err = slave
        else:
            err = open(os.path.join(tmp, "err"), "w+b")
        p = subprocess.Popen([mailfs, "-f", "-k", keys, "-m", mnt, url], env=penv, stderr=err, stdout=subprocess.DEVNULL)
        got = b""
        t0 = time.time()
        while time.time() - t0 < 60 and not os.path.ismount(mnt):
            if tty:
                while select.select([master], [], [], 0.05)[0]:
                    got += os.read(master, 65536)
            else:
                time.sleep(0.05)
        listed = len(os.listdir(os.path.join(mnt, "mbox"))) if os.path.ismount(mnt) else -1
        subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
        p.wait(timeout=20)
        if tty:
            while select.select([master], [], [], 0.2)[0]:
                try:
                    got += os.read(master, 65536)
                except OSError:
                    break
            os.close(master)
            os.close(slave)
        else:
            err.seek(0)
            got = err.read()
            err.close()
        return got.decode(errors="replace"), listed

    try:
        text, listed = run(slow, True)
        counts = [int(x) for x in re.findall(r"listing (\d+) of %d messages" % N, text)]
        check("a slow first listing on a terminal: 'listing N of %d messages', N growing" % N,
              len(counts) >= 3 and counts == sorted(counts) and counts[-1] < N and listed >= N, repr(text[-300:]))
        end = re.search(r"\rmailfs: imap://[^:]+:\d+/INBOX: listed %d messages in (\d+\.\d) s\r?\n" % N, text)
        check("and it ends with 'listed %d messages in T s', on a line of its own, T the listing's time" % N,
              end is not None and 0.5 <= float(end.group(1)) < 60, repr(text[-200:]))
        text, listed = run(slow, False)
        check("stderr not a terminal: no progress at all", listed >= N and "listing" not in text and "listed" not in text, repr(text))
        text, listed = run(int(env["IMAP_PORT"]), True)
        check("a quick listing (no slow link) on a terminal: nothing said", listed >= N and "listing" not in text, repr(text))
    finally:
        subprocess.run(["fusermount3", "-u", mnt], stderr=subprocess.DEVNULL)
        imaptest.stop(d)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        sys.exit(tap.done())
