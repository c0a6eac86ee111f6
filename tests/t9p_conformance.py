"""9P section 1: conformance, message by message, to the plan9port manual
pages and the spec (upasfs.md 1, 2, 4.7, 5)."""
from t9p_common import *  # noqa: F401,F403

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
                if d.name == "thread":	# made at each open: length 0 until opened, then its length
                    st0, st = st, c.stat(fid)
                    if st0.length != 0:
                        bad.append("%s: length %d before open" % (path, st0.length))
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
