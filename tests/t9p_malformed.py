"""9P section 2: malformed input: no hang, no crash, an error or a close."""
from t9p_common import *  # noqa: F401,F403

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
