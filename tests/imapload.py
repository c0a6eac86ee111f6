#!/usr/bin/env python3
"""Write the messages of an mbox into a Maildir, in order.

usage: imapload.py [-v] MBOX MAILDIR

Each message becomes one file in MAILDIR/cur (MAILDIR and its cur, new
and tmp are created if missing, owned like the directory above them),
written in tmp/ and renamed into cur/ so a Dovecot scanning the folder
never sees half a file.  Used to fill the test Dovecot's INBOX
(dovecot.sh prints its IMAP_MAILDIR; Dovecot picks the files up on the
next SELECT or NOOP), a folder (IMAP_MAILDIR/.NAME) and to make a
Maildir copy of the benchmark mbox.

The mbox is split the way mailfs's mbox backend splits it: a message
starts at a line "From " that has the shape of an RFC 4155 envelope
(sender, then an asctime date); the From_ line is dropped, so is the one
blank line before the next From_ line, and mboxrd quoting is undone
(">From " -> "From ", ">>From " -> ">From ").  Line ends are kept.

File names are "<T+i>.M<i>P<pid>.mailfs,S=<size>,W=<crlf size>:2,", i
counting from 0 in mbox order.  Dovecot gives new files their UIDs in
the order of the time at the start of the name, so UIDs follow the
mbox.  S= and W= are what Dovecot itself writes on delivery: with them
it answers RFC822.SIZE without reading the message.  The file's mtime,
which Dovecot reports as INTERNALDATE, is the envelope date.

-v prints "imapload: N messages, B bytes, S s" on stderr.
"""
import calendar, mmap, os, re, sys, time

MONTHS = {m: i for i, m in enumerate(
    b"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
# the date part of an envelope line: Www Mmm dd hh:mm[:ss] [zone] yyyy
# [zone]; the sender before it may be empty or hold spaces
ENVDATE = re.compile(
    rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[ \t]+"
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t]+(\d{1,2})[ \t]+"
    rb"(\d{1,2}):(\d\d)(?::(\d\d))?[ \t]+(?:([^ \t\r\n]+)[ \t]+)?(\d{4})\b"
    rb"(?:[ \t]+([+-]\d{4}))?")
# a line of one or more '>' then "From " (after a newline: a literal
# prefix the regex engine searches fast; line 1 is handled apart)
QUOTED = re.compile(rb"\n>(>*From )")


def envdate(line):
    """The envelope line's date as a Unix time, or None if the line is
    not an envelope."""
    if not line.startswith(b"From "):
        return None
    m = ENVDATE.search(line, 5)
    if not m:
        return None
    mon, day, hh, mi, ss, zone1, year, zone2 = m.groups()
    t = calendar.timegm((int(year), MONTHS[mon], int(day), int(hh), int(mi), int(ss or 0)))
    zone = zone2 or zone1
    if zone and re.fullmatch(rb"[+-]\d{4}", zone):
        off = int(zone[1:3]) * 3600 + int(zone[3:5]) * 60
        t -= off if zone[:1] == b"+" else -off
    return t


def lineend(mm, at):
    e = mm.find(b"\n", at)
    return len(mm) if e < 0 else e


def envelopes(mm):
    """(offset, date) of every envelope line, in file order."""
    n = len(mm)
    pos = 0
    while pos < n:
        if pos == 0:
            at = 0 if mm[:5] == b"From " else mm.find(b"\nFrom ")
        else:
            at = mm.find(b"\nFrom ", pos)
        if at < 0:
            return
        if at > 0 or mm[:5] != b"From ":
            at += 1
        e = lineend(mm, at)
        d = envdate(mm[at:e].rstrip(b"\r"))
        if d is not None:
            yield at, d
        pos = e


def mkdirs(path):
    """Make path, and any missing parents, each owned like the directory
    it is made in: as root, a new folder (MAILDIR/.NAME) in the test
    Dovecot's maildir must be its mail user's, or Dovecot, not root,
    cannot add its index files there and shows the folder empty."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    mkdirs(parent)
    try:
        os.mkdir(path)
    except FileExistsError:	# Dovecot, watching the maildir, made it first
        return
    if os.geteuid() == 0:
        st = os.stat(parent)
        os.chown(path, st.st_uid, st.st_gid)


def write(mm, envs, lo, hi, size, tmpfd, curfd, base, pid):
    """Write messages lo..hi-1; returns their total size."""
    total = 0
    for i in range(lo, hi):
        start, date = envs[i]
        end = envs[i + 1][0] if i + 1 < len(envs) else size
        body = min(lineend(mm, start) + 1, end)
        # the separator: one blank line before the next From_ line
        if end - body >= 4 and mm[end - 4:end] == b"\r\n\r\n":
            end -= 2
        elif end - body >= 2 and mm[end - 2:end] == b"\n\n":
            end -= 1
        msg = mm[body:end]
        if b">From " in msg:
            msg = QUOTED.sub(rb"\n\1", msg)
            if msg[:1] == b">" and msg.lstrip(b">")[:5] == b"From ":
                msg = msg[1:]
        crlf = len(msg) + msg.count(b"\n")
        if b"\r" in msg:
            crlf -= msg.count(b"\r\n")
        name = "%d.M%dP%d.mailfs,S=%d,W=%d" % (base + i, i, pid, len(msg), crlf)
        # relative to directory fds: no path lookup per file
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=tmpfd)
        try:
            view = memoryview(msg)
            while view:
                view = view[os.write(fd, view):]
            os.utime(fd, (date, date))
        finally:
            os.close(fd)
        os.rename(name, name + ":2,", src_dir_fd=tmpfd, dst_dir_fd=curfd)
        total += len(msg)
    return total


def main(argv):
    verbose = False
    if argv[:1] == ["-v"]:
        verbose = True
        argv = argv[1:]
    if len(argv) != 2:
        print("usage: imapload.py [-v] MBOX MAILDIR", file=sys.stderr)
        return 2
    mbox, maildir = argv
    t0 = time.time()
    mkdirs(maildir)
    for sub in ("cur", "new", "tmp"):
        mkdirs(os.path.join(maildir, sub))
    tmpfd = os.open(os.path.join(maildir, "tmp"), os.O_RDONLY | os.O_DIRECTORY)
    curfd = os.open(os.path.join(maildir, "cur"), os.O_RDONLY | os.O_DIRECTORY)
    with open(mbox, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            return 0
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        mm.madvise(mmap.MADV_SEQUENTIAL)
    envs = list(envelopes(mm))
    # One thread: writers in parallel threads were 3-4 times slower
    # (the directory's lock, and the GIL between the short calls).
    total = write(mm, envs, 0, len(envs), size, tmpfd, curfd, int(t0), os.getpid())
    mm.close()
    if verbose:
        print("imapload: %d messages, %d bytes, %.3f s" % (len(envs), total, time.time() - t0),
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
