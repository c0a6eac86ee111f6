#!/usr/bin/env python3
"""The floor for the IMAP benchmark: what a plain client pays.

usage: imapfetch.py [--all] HOST PORT USER PASS FOLDER

Logs in (not timed), then times SELECT FOLDER plus one
"UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)": the least a
client must do to list the folder.  Prints

	fetch-list: S s, N messages

With --all it then also fetches every message, BODY.PEEK[] (so no
\\Seen is set), 100 UIDs per UID FETCH command, one command at a time,
and prints

	fetch-all: S s, N messages, B bytes

the floor for reading every message's info.  Plain IMAP on PORT, no
TLS, and a minimal reader on the socket instead of imaplib, whose
per-line parsing alone took as long as Dovecot's answer: the figures
are the server's and the protocol's.
"""
import re, socket, sys, time

BATCH = 100
UIDRE = re.compile(rb"UID (\d+)")
LITRE = re.compile(rb"\{(\d+)\}$")


class Imap:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port))
        self.buf = bytearray()
        self.pos = 0
        self.tag = 0
        greeting = self.line()
        if not greeting.startswith(b"* OK"):
            raise SystemExit("imapfetch: greeting: %r" % greeting)

    def fill(self):
        if self.pos > 1 << 20:
            del self.buf[:self.pos]
            self.pos = 0
        data = self.sock.recv(1 << 20)
        if not data:
            raise SystemExit("imapfetch: connection closed")
        self.buf += data

    def line(self):
        while True:
            e = self.buf.find(b"\r\n", self.pos)
            if e >= 0:
                l = bytes(self.buf[self.pos:e])
                self.pos = e + 2
                return l
            self.fill()

    def literal(self, n):
        while len(self.buf) - self.pos < n:
            self.fill()
        self.pos += n

    def command(self, text):
        """Send one command; returns (untagged response lines, literal
        count, literal bytes).  A line ending in {N} is followed by N
        bytes, then the rest of the response."""
        self.tag += 1
        tag = b"A%d " % self.tag
        self.sock.sendall(tag + text.encode() + b"\r\n")
        lines, nlit, nbytes = [], 0, 0
        while True:
            l = self.line()
            if l.startswith(tag):
                if not l[len(tag):].startswith(b"OK"):
                    raise SystemExit("imapfetch: %s: %r" % (text.split()[0], l))
                return lines, nlit, nbytes
            m = LITRE.search(l)
            while m:
                n = int(m.group(1))
                self.literal(n)
                nlit += 1
                nbytes += n
                l = self.line()
                m = LITRE.search(l)
            lines.append(l)


def quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main(argv):
    every = False
    if argv[:1] == ["--all"]:
        every = True
        argv = argv[1:]
    if len(argv) != 5:
        print(__doc__.split("\n")[2], file=sys.stderr)
        return 2
    host, port, user, password, folder = argv
    c = Imap(host, int(port))
    c.command("LOGIN %s %s" % (quote(user), quote(password)))

    t0 = time.perf_counter()
    c.command("SELECT %s" % quote(folder))
    lines, _, _ = c.command("UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)")
    t1 = time.perf_counter()
    uids = [int(m.group(1)) for l in lines if l.startswith(b"* ") for m in [UIDRE.search(l)] if m]
    print("fetch-list: %.3f s, %d messages" % (t1 - t0, len(uids)))

    if every:
        nmsg = nbytes = 0
        t0 = time.perf_counter()
        for i in range(0, len(uids), BATCH):
            chunk = uids[i:i + BATCH]
            # a range when the UIDs are contiguous, as after a fresh load
            if chunk[-1] - chunk[0] == len(chunk) - 1:
                uset = "%d:%d" % (chunk[0], chunk[-1])
            else:
                uset = ",".join(map(str, chunk))
            _, n, b = c.command("UID FETCH %s (BODY.PEEK[])" % uset)
            nmsg += n
            nbytes += b
        t1 = time.perf_counter()
        print("fetch-all: %.3f s, %d messages, %d bytes" % (t1 - t0, nmsg, nbytes))
    c.command("LOGOUT")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
