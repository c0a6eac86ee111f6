#!/usr/bin/env python3
"""A small 9P2000 client (Python 3, standard library only).

Written from the plan9port section 9 manual pages (intro(9P), version,
attach, walk, open, read, stat, flush, clunk, remove, error, openfd), not
from any server's code.  It is meant for tests: every message can be
encoded and decoded, malformed bytes can be sent raw, several requests
can be in flight at once, and the plan9port Topenfd extension is
supported (its reply is followed by one descriptor passed with
SCM_RIGHTS on a 1-byte payload).

Run it directly to self-check the codec: python3 tests/p9client.py
"""
import array
import getpass
import socket
import struct

# message types, <fcall.h>
Topenfd, Ropenfd = 98, 99
Tversion, Rversion = 100, 101
Tauth, Rauth = 102, 103
Tattach, Rattach = 104, 105
Terror, Rerror = 106, 107
Tflush, Rflush = 108, 109
Twalk, Rwalk = 110, 111
Topen, Ropen = 112, 113
Tcreate, Rcreate = 114, 115
Tread, Rread = 116, 117
Twrite, Rwrite = 118, 119
Tclunk, Rclunk = 120, 121
Tremove, Rremove = 122, 123
Tstat, Rstat = 124, 125
Twstat, Rwstat = 126, 127

NAMES = {
    98: "Topenfd", 99: "Ropenfd", 100: "Tversion", 101: "Rversion",
    102: "Tauth", 103: "Rauth", 104: "Tattach", 105: "Rattach",
    106: "Terror", 107: "Rerror", 108: "Tflush", 109: "Rflush",
    110: "Twalk", 111: "Rwalk", 112: "Topen", 113: "Ropen",
    114: "Tcreate", 115: "Rcreate", 116: "Tread", 117: "Rread",
    118: "Twrite", 119: "Rwrite", 120: "Tclunk", 121: "Rclunk",
    122: "Tremove", 123: "Rremove", 124: "Tstat", 125: "Rstat",
    126: "Twstat", 127: "Rwstat",
}

NOTAG = 0xFFFF
NOFID = 0xFFFFFFFF
MAXWELEM = 16
IOHDRSZ = 24          # Tread/Rread/Twrite header allowance: count <= msize-IOHDRSZ

QTDIR, QTAPPEND, QTEXCL, QTAUTH, QTTMP, QTFILE = 0x80, 0x40, 0x20, 0x08, 0x04, 0x00
DMDIR, DMAPPEND, DMEXCL, DMAUTH, DMTMP = 0x80000000, 0x40000000, 0x20000000, 0x08000000, 0x04000000
OREAD, OWRITE, ORDWR, OEXEC, OTRUNC, ORCLOSE = 0, 1, 2, 3, 0x10, 0x40

# Field kinds: "1" "2" "4" "8" little-endian unsigned; "s" string[s];
# "Q" qid[13]; "D" count[4] data[count]; "B" n[2] bytes[n] (a stat);
# "W" nwname[2] nwname*(wname[s]); "X" nwqid[2] nwqid*(qid[13]).
LAYOUT = {
    Topenfd: [("fid", "4"), ("mode", "1")],
    Ropenfd: [("qid", "Q"), ("iounit", "4"), ("unixfd", "4")],
    Tversion: [("msize", "4"), ("version", "s")],
    Rversion: [("msize", "4"), ("version", "s")],
    Tauth: [("afid", "4"), ("uname", "s"), ("aname", "s")],
    Rauth: [("aqid", "Q")],
    Tattach: [("fid", "4"), ("afid", "4"), ("uname", "s"), ("aname", "s")],
    Rattach: [("qid", "Q")],
    Terror: [],                 # illegal: there is no Terror
    Rerror: [("ename", "s")],
    Tflush: [("oldtag", "2")],
    Rflush: [],
    Twalk: [("fid", "4"), ("newfid", "4"), ("wname", "W")],
    Rwalk: [("wqid", "X")],
    Topen: [("fid", "4"), ("mode", "1")],
    Ropen: [("qid", "Q"), ("iounit", "4")],
    Tcreate: [("fid", "4"), ("name", "s"), ("perm", "4"), ("mode", "1")],
    Rcreate: [("qid", "Q"), ("iounit", "4")],
    Tread: [("fid", "4"), ("offset", "8"), ("count", "4")],
    Rread: [("data", "D")],
    Twrite: [("fid", "4"), ("offset", "8"), ("data", "D")],
    Rwrite: [("count", "4")],
    Tclunk: [("fid", "4")],
    Rclunk: [],
    Tremove: [("fid", "4")],
    Rremove: [],
    Tstat: [("fid", "4")],
    Rstat: [("stat", "B")],
    Twstat: [("fid", "4"), ("stat", "B")],
    Rwstat: [],
}

INTFMT = {"1": "<B", "2": "<H", "4": "<I", "8": "<Q"}


class DecodeError(Exception):
    """Bytes that are not a well-formed 9P2000 message or stat."""


class ProtocolError(Exception):
    """The server broke the protocol (wrong reply type or tag, bad layout)."""


class P9Error(Exception):
    """An Rerror reply.  .ename is the server's string, .req the request."""

    def __init__(self, ename, req=None):
        Exception.__init__(self, ename)
        self.ename = ename
        self.req = req


class Qid(tuple):
    """qid[13]: type[1] vers[4] path[8]."""
    __slots__ = ()

    def __new__(cls, type=0, vers=0, path=0):
        return tuple.__new__(cls, (type, vers, path))

    type = property(lambda self: self[0])
    vers = property(lambda self: self[1])
    path = property(lambda self: self[2])

    def pack(self):
        return struct.pack("<BIQ", self[0], self[1], self[2])

    @classmethod
    def unpack(cls, b):
        if len(b) != 13:
            raise DecodeError("qid needs 13 bytes, got %d" % len(b))
        return cls(*struct.unpack("<BIQ", b))

    def __repr__(self):
        return "Qid(type=%#x, vers=%d, path=%#x)" % self


# ---------------------------------------------------------------- stat / Dir

class Dir:
    """A 9P2000 directory entry (stat(9P))."""
    FIELDS = ("type", "dev", "qid", "mode", "atime", "mtime", "length",
              "name", "uid", "gid", "muid")

    def __init__(self, type=0, dev=0, qid=Qid(), mode=0, atime=0, mtime=0,
                 length=0, name="", uid="", gid="", muid=""):
        self.type, self.dev, self.qid, self.mode = type, dev, qid, mode
        self.atime, self.mtime, self.length = atime, mtime, length
        self.name, self.uid, self.gid, self.muid = name, uid, gid, muid

    @classmethod
    def nochange(cls):
        """All "don't touch" values: ~0 of each width, empty strings."""
        return cls(0xFFFF, 0xFFFFFFFF, Qid(0xFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF),
                   0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF,
                   "", "", "", "")

    def pack(self):
        body = struct.pack("<HI", self.type, self.dev) + Qid(*self.qid).pack()
        body += struct.pack("<IIIQ", self.mode, self.atime, self.mtime, self.length)
        for s in (self.name, self.uid, self.gid, self.muid):
            body += pstr(s)
        return struct.pack("<H", len(body)) + body

    @classmethod
    def unpack(cls, b):
        """Decode exactly one entry; the size field must cover all of b."""
        d, n = cls.unpack_from(b, 0)
        if n != len(b):
            raise DecodeError("stat: %d trailing bytes" % (len(b) - n))
        return d

    @classmethod
    def unpack_from(cls, b, off):
        if len(b) - off < 2:
            raise DecodeError("stat: no room for the size field")
        size, = struct.unpack_from("<H", b, off)
        end = off + 2 + size
        if end > len(b):
            raise DecodeError("stat: size %d runs past the end (%d bytes left)"
                              % (size, len(b) - off - 2))
        r = Reader(bytes(b[off + 2:end]), "stat")
        d = cls()
        d.type = r.u16()
        d.dev = r.u32()
        d.qid = r.qid()
        d.mode = r.u32()
        d.atime = r.u32()
        d.mtime = r.u32()
        d.length = r.u64()
        d.name = r.str()
        d.uid = r.str()
        d.gid = r.str()
        d.muid = r.str()
        r.end()
        return d, end

    def __eq__(self, o):
        return isinstance(o, Dir) and all(getattr(self, f) == getattr(o, f) for f in self.FIELDS)

    def __repr__(self):
        return "Dir(%s)" % ", ".join("%s=%r" % (f, getattr(self, f)) for f in self.FIELDS)


def unpack_dirs(data):
    """Split directory-read data into Dirs; raise DecodeError on a partial entry."""
    out, off = [], 0
    while off < len(data):
        d, off = Dir.unpack_from(data, off)
        out.append(d)
    return out


# ---------------------------------------------------------------- codec

def pstr(s):
    if isinstance(s, str):
        s = s.encode("utf-8")
    return struct.pack("<H", len(s)) + s


class Reader:
    def __init__(self, b, what):
        self.b, self.off, self.what = b, 0, what

    def take(self, n):
        if self.off + n > len(self.b):
            raise DecodeError("%s: need %d bytes at offset %d, only %d left"
                              % (self.what, n, self.off, len(self.b) - self.off))
        v = self.b[self.off:self.off + n]
        self.off += n
        return v

    def int(self, kind):
        f = INTFMT[kind]
        return struct.unpack(f, self.take(struct.calcsize(f)))[0]

    def u16(self):
        return self.int("2")

    def u32(self):
        return self.int("4")

    def u64(self):
        return self.int("8")

    def qid(self):
        return Qid.unpack(self.take(13))

    def str(self):
        n = self.u16()
        raw = self.take(n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("%s: string is not UTF-8: %r" % (self.what, raw))

    def end(self):
        if self.off != len(self.b):
            raise DecodeError("%s: %d trailing bytes" % (self.what, len(self.b) - self.off))


class Fcall:
    """One 9P message: .type, .tag and the fields of LAYOUT[type]."""

    def __init__(self, type, tag=0, **fields):
        self.type, self.tag = type, tag
        for name, kind in LAYOUT.get(type, []):
            setattr(self, name, fields.pop(name, default_value(kind)))
        if fields:
            raise TypeError("%s: unknown fields %s" % (NAMES.get(type, type), sorted(fields)))

    def fields(self):
        return [(n, getattr(self, n)) for n, _ in LAYOUT.get(self.type, [])]

    def pack(self):
        return pack(self)

    def __eq__(self, o):
        return isinstance(o, Fcall) and (self.type, self.tag, self.fields()) == (o.type, o.tag, o.fields())

    def __repr__(self):
        parts = []
        for n, v in self.fields():
            if isinstance(v, (bytes, bytearray)):
                v = v[:40] + (b"..." if len(v) > 40 else b"")
                parts.append("%s=%r(%d bytes)" % (n, bytes(v), len(getattr(self, n))))
            else:
                parts.append("%s=%r" % (n, v))
        tag = "NOTAG" if self.tag == NOTAG else str(self.tag)
        return "%s tag=%s %s" % (NAMES.get(self.type, "type%d" % self.type), tag, " ".join(parts))


def default_value(kind):
    return {"s": "", "Q": Qid(), "D": b"", "B": b"", "W": [], "X": []}.get(kind, 0)


def pack(f):
    """Encode an Fcall, size field included."""
    body = struct.pack("<BH", f.type, f.tag)
    for name, kind in LAYOUT[f.type]:
        v = getattr(f, name)
        if kind in INTFMT:
            body += struct.pack(INTFMT[kind], v)
        elif kind == "s":
            body += pstr(v)
        elif kind == "Q":
            body += Qid(*v).pack()
        elif kind == "D":
            body += struct.pack("<I", len(v)) + bytes(v)
        elif kind == "B":
            if isinstance(v, Dir):
                v = v.pack()
            body += struct.pack("<H", len(v)) + bytes(v)
        elif kind == "W":
            body += struct.pack("<H", len(v)) + b"".join(pstr(s) for s in v)
        elif kind == "X":
            body += struct.pack("<H", len(v)) + b"".join(Qid(*q).pack() for q in v)
    return struct.pack("<I", len(body) + 4) + body


def unpack(b):
    """Decode one whole message (size field included); strict about lengths."""
    b = bytes(b)
    if len(b) < 7:
        raise DecodeError("message of %d bytes is shorter than 7" % len(b))
    size, type, tag = struct.unpack_from("<IBH", b, 0)
    if size != len(b):
        raise DecodeError("size field %d but %d bytes" % (size, len(b)))
    if type not in LAYOUT:
        raise DecodeError("unknown message type %d" % type)
    r = Reader(b[7:], NAMES[type])
    f = Fcall(type, tag)
    for name, kind in LAYOUT[type]:
        if kind in INTFMT:
            v = r.int(kind)
        elif kind == "s":
            v = r.str()
        elif kind == "Q":
            v = r.qid()
        elif kind == "D":
            v = r.take(r.u32())
        elif kind == "B":
            v = r.take(r.u16())
        elif kind == "W":
            v = [r.str() for _ in range(r.u16())]
        elif kind == "X":
            v = [r.qid() for _ in range(r.u16())]
        setattr(f, name, v)
    r.end()
    return f


# ---------------------------------------------------------------- connection

class Conn:
    """A 9P2000 connection over a Unix stream socket.

    Every socket operation has a timeout (default 10 s), so a silent
    server raises socket.timeout instead of hanging.  Descriptors passed
    with SCM_RIGHTS are collected in self.fds as bytes are read.
    """

    def __init__(self, path, timeout=10.0):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = bytearray()
        self.fds = []
        self.eof = False
        self.msize = 8192
        self._tag = 0
        self._fid = 1
        self.root = None

    # -- raw transport
    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        for fd in self.fds:
            try:
                import os
                os.close(fd)
            except OSError:
                pass
        self.fds = []

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def settimeout(self, t):
        self.sock.settimeout(t)

    def send_raw(self, b):
        self.sock.sendall(bytes(b))

    def send(self, f):
        self.send_raw(pack(f))

    def _fill(self):
        fdsize = array.array("i").itemsize
        data, anc, flags, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(16 * fdsize))
        for level, type, cdata in anc:
            if level == socket.SOL_SOCKET and type == socket.SCM_RIGHTS:
                a = array.array("i")
                a.frombytes(cdata[:len(cdata) - len(cdata) % fdsize])
                self.fds.extend(a)
        if not data:
            self.eof = True
            raise EOFError("connection closed by server")
        self.buf += data

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        v = bytes(self.buf[:n])
        del self.buf[:n]
        return v

    def recv_raw(self):
        """Read one message's bytes, size field included."""
        hdr = self.read_exact(4)
        size, = struct.unpack("<I", hdr)
        if size < 7:
            raise ProtocolError("reply size field %d < 7" % size)
        if size > max(self.msize, 8192) + 64 * 1024:
            raise ProtocolError("reply size field %d is absurd" % size)
        return hdr + self.read_exact(size - 4)

    def recv(self):
        raw = self.recv_raw()
        try:
            f = unpack(raw)
        except DecodeError as e:
            raise ProtocolError("bad reply %r: %s" % (raw[:64], e))
        f.raw_size = len(raw)
        return f

    def recv_fd(self):
        """After an Ropenfd: the 1-byte payload carrying one descriptor."""
        payload = self.read_exact(1)
        if not self.fds:
            raise ProtocolError("no descriptor came with the payload byte %r" % payload)
        return self.fds.pop(0), payload

    # -- tags and fids
    def newtag(self):
        t = self._tag
        self._tag = (self._tag + 1) % NOTAG
        return t

    def newfid(self):
        f = self._fid
        self._fid += 1
        return f

    # -- one transaction
    def rpc(self, f, check=True):
        """Send f, read its reply.  Rerror raises P9Error when check is true;
        a reply of the wrong type or tag raises ProtocolError."""
        self.send(f)
        r = self.recv()
        if r.tag != f.tag:
            raise ProtocolError("reply tag %d for request tag %d (%r)" % (r.tag, f.tag, r))
        if r.type == Rerror:
            if check:
                raise P9Error(r.ename, f)
            return r
        if r.type != f.type + 1:
            raise ProtocolError("%s answered with %s" % (NAMES.get(f.type), NAMES.get(r.type, r.type)))
        return r

    def T(self, type, check=True, tag=None, **fields):
        return self.rpc(Fcall(type, self.newtag() if tag is None else tag, **fields), check)

    # -- pipelining
    def pipeline(self, reqs):
        """Send every request (they must carry distinct tags) before reading,
        then collect one reply per tag.  Returns {tag: reply}."""
        tags = [f.tag for f in reqs]
        if len(set(tags)) != len(tags):
            raise ValueError("pipeline: tags must differ")
        self.send_raw(b"".join(pack(f) for f in reqs))
        want = set(tags)
        got = {}
        while want:
            r = self.recv()
            if r.tag not in want:
                raise ProtocolError("unexpected or repeated reply tag %d: %r" % (r.tag, r))
            want.discard(r.tag)
            got[r.tag] = r
        return got

    # -- helpers
    def version(self, msize=8192, version="9P2000", tag=NOTAG):
        r = self.rpc(Fcall(Tversion, tag, msize=msize, version=version))
        if r.version == "9P2000" and r.msize <= msize:
            self.msize = r.msize
        return r

    def attach(self, fid=None, uname=None, aname="", afid=NOFID):
        if fid is None:
            fid = self.newfid()
        if uname is None:
            uname = getpass.getuser()
        r = self.T(Tattach, fid=fid, afid=afid, uname=uname, aname=aname)
        if self.root is None:
            self.root = fid
        return fid, r.qid

    def walk(self, fid, newfid, names, check=True):
        """One Twalk; returns the Rwalk (or the Rerror when check is false)."""
        return self.T(Twalk, check=check, fid=fid, newfid=newfid, wname=list(names))

    def walkto(self, path, fid=None, newfid=None):
        """Walk from fid (default the root) along path, 16 names per Twalk.
        Returns (newfid, qids).  A short walk raises P9Error("short walk")."""
        if fid is None:
            fid = self.root
        if newfid is None:
            newfid = self.newfid()
        names = [n for n in (path.split("/") if isinstance(path, str) else path) if n]
        qids = []
        r = self.walk(fid, newfid, names[:MAXWELEM])
        qids += r.wqid
        if len(r.wqid) != len(names[:MAXWELEM]):
            raise P9Error("short walk: %d of %d names" % (len(r.wqid), len(names[:MAXWELEM])))
        rest = names[MAXWELEM:]
        while rest:
            chunk, rest = rest[:MAXWELEM], rest[MAXWELEM:]
            try:
                r = self.walk(newfid, newfid, chunk)
            except P9Error:
                self.clunk(newfid, check=False)
                raise
            qids += r.wqid
            if len(r.wqid) != len(chunk):
                self.clunk(newfid, check=False)
                raise P9Error("short walk")
        return newfid, qids

    def open(self, fid, mode=OREAD):
        r = self.T(Topen, fid=fid, mode=mode)
        return r.qid, r.iounit

    def openfd(self, fid, mode=OREAD):
        """Topenfd: returns (Ropenfd, fd, payload byte)."""
        r = self.T(Topenfd, fid=fid, mode=mode)
        fd, payload = self.recv_fd()
        return r, fd, payload

    def create(self, fid, name, perm, mode):
        r = self.T(Tcreate, fid=fid, name=name, perm=perm, mode=mode)
        return r.qid, r.iounit

    def read(self, fid, offset, count):
        return self.T(Tread, fid=fid, offset=offset, count=count).data

    def write(self, fid, offset, data):
        return self.T(Twrite, fid=fid, offset=offset, data=data).count

    def clunk(self, fid, check=True):
        return self.T(Tclunk, check=check, fid=fid)

    def remove(self, fid, check=True):
        return self.T(Tremove, check=check, fid=fid)

    def flush(self, oldtag):
        return self.T(Tflush, oldtag=oldtag)

    def stat(self, fid):
        r = self.T(Tstat, fid=fid)
        return Dir.unpack(r.stat)

    def wstat(self, fid, d, check=True):
        return self.T(Twstat, check=check, fid=fid, stat=d.pack() if isinstance(d, Dir) else d)

    def iosize(self):
        return self.msize - IOHDRSZ

    def read_all(self, fid):
        """plan9port acme Mail's readfile on an open fid: Tstat for the
        length (if 0, Tread 1 byte and Tstat again), then Tread until it
        has length bytes or gets 0 bytes.  Returns (data, stat length)."""
        length = self.stat(fid).length
        if length == 0:
            self.read(fid, 0, 1)
            length = self.stat(fid).length
        data = b""
        while len(data) < length:
            chunk = self.read(fid, len(data), min(self.iosize(), length - len(data)))
            if not chunk:
                break
            data += chunk
        return data, length

    def read_eof(self, fid):
        """Tread at growing offsets until a 0-byte Rread (like read(2) to EOF)."""
        data = b""
        while True:
            chunk = self.read(fid, len(data), self.iosize())
            if not chunk:
                return data
            data += chunk

    def dirread(self, fid, count=None):
        """Read an open directory: offset 0, then each previous end, until a
        0-byte Rread.  Every Rread must hold only whole entries."""
        if count is None:
            count = self.iosize()
        off, out = 0, []
        while True:
            data = self.read(fid, off, count)
            if not data:
                return out
            try:
                out += unpack_dirs(data)
            except DecodeError as e:
                raise ProtocolError("directory Rread at offset %d: %s" % (off, e))
            off += len(data)

    # -- path conveniences (walk from the root; fid clunked afterwards)
    def readfile(self, path):
        fid, _ = self.walkto(path)
        try:
            self.open(fid, OREAD)
            return self.read_all(fid)
        finally:
            self.clunk(fid, check=False)

    def catfile(self, path):
        """(bytes read until EOF, stat length)."""
        fid, _ = self.walkto(path)
        try:
            self.open(fid, OREAD)
            length = self.stat(fid).length
            return self.read_eof(fid), length
        finally:
            self.clunk(fid, check=False)

    def ls(self, path):
        fid, _ = self.walkto(path)
        try:
            self.open(fid, OREAD)
            return self.dirread(fid)
        finally:
            self.clunk(fid, check=False)

    def statpath(self, path):
        fid, _ = self.walkto(path)
        try:
            return self.stat(fid)
        finally:
            self.clunk(fid, check=False)


def connect(path, msize=8192, timeout=10.0, uname=None):
    """Dial, Tversion (NOTAG), Tattach; returns the Conn with .root set."""
    c = Conn(path, timeout)
    try:
        r = c.version(msize)
        if r.version != "9P2000":
            raise ProtocolError("Rversion %r" % r)
        c.attach(uname=uname)
    except BaseException:
        c.close()
        raise
    return c


# ---------------------------------------------------------------- self-check

def _selfcheck():
    import random
    n = 0

    def check(cond, what):
        nonlocal n
        n += 1
        if not cond:
            raise AssertionError("self-check failed: " + what)

    q = Qid(QTDIR, 7, 0x0102030405060708)
    d = Dir(1, 2, q, DMDIR | 0o555, 100, 200, 0, "mbox", "u", "g", "m")
    samples = [
        Fcall(Tversion, NOTAG, msize=8192, version="9P2000"),
        Fcall(Rversion, NOTAG, msize=8192, version="9P2000"),
        Fcall(Tauth, 1, afid=5, uname="glenda", aname=""),
        Fcall(Rauth, 1, aqid=Qid(QTAUTH, 0, 9)),
        Fcall(Tattach, 2, fid=0, afid=NOFID, uname="glenda", aname=""),
        Fcall(Rattach, 2, qid=q),
        Fcall(Terror, 3),
        Fcall(Rerror, 3, ename="file does not exist"),
        Fcall(Tflush, 4, oldtag=3),
        Fcall(Rflush, 4),
        Fcall(Twalk, 5, fid=0, newfid=1, wname=["mbox", "1", "info"]),
        Fcall(Twalk, 5, fid=0, newfid=1, wname=[]),
        Fcall(Rwalk, 5, wqid=[q, Qid(0, 0, 3)]),
        Fcall(Topen, 6, fid=1, mode=OREAD),
        Fcall(Ropen, 6, qid=q, iounit=0),
        Fcall(Topenfd, 6, fid=1, mode=OREAD),
        Fcall(Ropenfd, 6, qid=q, iounit=8168, unixfd=7),
        Fcall(Tcreate, 7, fid=1, name="x", perm=0o644, mode=ORDWR),
        Fcall(Rcreate, 7, qid=q, iounit=0),
        Fcall(Tread, 8, fid=1, offset=1 << 40, count=8168),
        Fcall(Rread, 8, data=b"hello\0world"),
        Fcall(Twrite, 9, fid=1, offset=3, data=b"refresh"),
        Fcall(Rwrite, 9, count=7),
        Fcall(Tclunk, 10, fid=1), Fcall(Rclunk, 10),
        Fcall(Tremove, 11, fid=1), Fcall(Rremove, 11),
        Fcall(Tstat, 12, fid=1), Fcall(Rstat, 12, stat=d.pack()),
        Fcall(Twstat, 13, fid=1, stat=Dir.nochange().pack()), Fcall(Rwstat, 13),
    ]
    check(set(LAYOUT) == set(range(98, 128)) - set(), "every type 98..127 has a layout")
    for f in samples:
        b = pack(f)
        g = unpack(b)
        check(g == f, "round trip %r" % f)
        check(pack(g) == b, "re-encode %r" % f)
        check(struct.unpack_from("<I", b)[0] == len(b), "size field %r" % f)
        # every truncation and every extension must be refused
        for cut in range(len(b)):
            try:
                unpack(b[:cut])
                check(False, "truncated %r accepted at %d" % (f, cut))
            except DecodeError:
                n += 1
        try:
            unpack(b + b"\0")
            check(False, "extended %r accepted" % f)
        except DecodeError:
            n += 1
    covered = {f.type for f in samples}
    check(covered == set(LAYOUT), "samples cover every type")

    # known wire images, worked out by hand from intro(9P)
    check(pack(Fcall(Tversion, NOTAG, msize=8192, version="9P2000")) ==
          b"\x13\x00\x00\x00\x64\xff\xff\x00\x20\x00\x00\x06\x009P2000", "Tversion bytes")
    check(pack(Fcall(Tclunk, 1, fid=2)) == b"\x0b\x00\x00\x00\x78\x01\x00\x02\x00\x00\x00", "Tclunk bytes")
    check(pack(Fcall(Twalk, 0, fid=1, newfid=2, wname=["ab"])) ==
          b"\x15\x00\x00\x00\x6e\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x01\x00\x02\x00ab",
          "Twalk bytes")
    check(pack(Fcall(Topenfd, 3, fid=4, mode=0)) == b"\x0c\x00\x00\x00\x62\x03\x00\x04\x00\x00\x00\x00",
          "Topenfd bytes")

    # stat
    sb = d.pack()
    check(len(sb) == 2 + 2 + 4 + 13 + 4 + 4 + 4 + 8 + 2 + 4 + 2 + 1 + 2 + 1 + 2 + 1, "stat length")
    check(Dir.unpack(sb) == d, "stat round trip")
    rs = pack(Fcall(Rstat, 1, stat=sb))
    check(struct.unpack_from("<H", rs, 7)[0] == len(sb), "Rstat n[2] counts the whole stat")
    nc = Dir.nochange().pack()
    check(nc[2:4] == b"\xff\xff" and nc[4:8] == b"\xff" * 4 and nc[8:21] == b"\xff" * 13, "nochange ints")
    check(nc.endswith(b"\x00\x00" * 4), "nochange strings empty")
    dirs = [Dir(0, 0, Qid(0, 0, i), 0o444, 0, 0, i, "f%d" % i, "u", "g", "") for i in range(20)]
    blob = b"".join(x.pack() for x in dirs)
    check(unpack_dirs(blob) == dirs, "directory data round trip")
    for cut in range(1, len(dirs[0].pack())):
        try:
            unpack_dirs(blob[:len(dirs[0].pack()) + cut])
            check(False, "partial entry accepted")
        except DecodeError:
            n += 1
    try:
        Dir.unpack(sb + b"x")
        check(False, "stat with trailing byte accepted")
    except DecodeError:
        n += 1
    # strings that run past the end, counts past the end
    bad = [b"\x0d\x00\x00\x00\x68\x00\x00\x00\x00\x00\x00\xff\xff",   # Tattach fid then truncated
           b"\x11\x00\x00\x00\x6e\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x05\x00",  # nwname 5, none
           b"\x05\x00\x00\x00\x64",
           b"\x07\x00\x00\x00\xc8\x00\x00"]       # unknown type 200
    for b in bad:
        try:
            unpack(b)
            check(False, "bad message %r accepted" % b)
        except DecodeError:
            n += 1
    # random round trips
    rnd = random.Random(9)
    for _ in range(300):
        t = rnd.choice(sorted(LAYOUT))
        kw = {}
        for name, kind in LAYOUT[t]:
            if kind in INTFMT:
                kw[name] = rnd.getrandbits(8 * int(kind))
            elif kind == "s":
                kw[name] = "".join(rnd.choice("abcdé/.xyz") for _ in range(rnd.randrange(12)))
            elif kind == "Q":
                kw[name] = Qid(rnd.getrandbits(8), rnd.getrandbits(32), rnd.getrandbits(64))
            elif kind in "DB":
                kw[name] = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(40)))
            elif kind == "W":
                kw[name] = ["n%d" % rnd.randrange(99) for _ in range(rnd.randrange(17))]
            elif kind == "X":
                kw[name] = [Qid(rnd.getrandbits(8), 0, rnd.getrandbits(64)) for _ in range(rnd.randrange(17))]
        f = Fcall(t, rnd.getrandbits(16), **kw)
        check(unpack(pack(f)) == f, "random round trip %r" % f)
    # the socket layer: a socketpair stands in for a server, including SCM_RIGHTS
    import os
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    c = Conn.__new__(Conn)
    c.sock, c.buf, c.fds, c.eof, c.msize, c._tag, c._fid, c.root = a, bytearray(), [], False, 8192, 0, 1, None
    a.settimeout(5)
    rp, wp = os.pipe()
    os.write(wp, b"payload")
    os.close(wp)
    b.sendall(pack(Fcall(Ropenfd, 0, qid=q, iounit=0, unixfd=rp)))
    b.sendmsg([b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [rp]))])
    os.close(rp)
    r = c.recv()
    check(r.type == Ropenfd and r.qid == q, "Ropenfd over a socket")
    fd, pl = c.recv_fd()
    check(pl == b"\0" and os.read(fd, 100) == b"payload", "descriptor passed with SCM_RIGHTS")
    os.close(fd)
    b.sendall(pack(Fcall(Rclunk, 3)) + pack(Fcall(Rerror, 2, ename="x")))
    got = {}
    for _ in range(2):
        m = c.recv()
        got[m.tag] = m
    check(got[3].type == Rclunk and got[2].ename == "x", "replies out of order")
    b.close()
    try:
        c.recv()
        check(False, "EOF not seen")
    except EOFError:
        n += 1
    a.close()
    return n


if __name__ == "__main__":
    print("p9client self-check: %d checks passed" % _selfcheck())
