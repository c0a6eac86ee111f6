"""9P sections 3 and 4: acme Mail's conversation, and Topenfd."""
from t9p_common import *  # noqa: F401,F403

# ================================================================ 3. acme Mail

INFO_ORDER = ["unixdate", "flags", "digest", "from", "to", "cc", "replyto", "bcc", "inreplyto", "date",
              "sender", "messageid", "subject", "type", "lines", "filename"]
CTIME = re.compile(r"^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                   r"([ 123]\d) (\d\d):(\d\d):(\d\d) (\S{3}) (\d{4})$")


def check_info(data, top):
    """Problems with an info file (spec 2.2); [] when fine."""
    bad = []
    if not data:
        return ["empty"]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ["not UTF-8"]
    if not text.endswith("\n"):
        bad.append("does not end in a newline")
    lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    keys, vals = [], {}
    for i, line in enumerate(lines):
        if line == "":
            bad.append("empty line %d (Mail stops there)" % (i + 1))
            break
        if " " not in line:
            bad.append("line %d has no space: %r" % (i + 1, line))
            continue
        k, v = line.split(" ", 1)
        if v.strip() == "":
            bad.append("empty value for %r" % k)
        if k in vals:
            bad.append("key %r twice" % k)
        keys.append(k)
        vals[k] = v
    idx = [INFO_ORDER.index(k) if k in INFO_ORDER else 100 + i for i, k in enumerate(keys)]
    if idx != sorted(idx):
        bad.append("keys out of the spec's order: %s" % " ".join(keys))
    if "type" not in vals:
        bad.append("no type key")
    if "digest" not in vals:
        bad.append("no digest key")
    elif not re.fullmatch(r"[0-9a-f]{40}", vals["digest"]):
        bad.append("digest %r is not 40 lowercase hex digits" % vals["digest"])
    if top:
        if not keys or keys[0] != "unixdate":
            bad.append("first key %r, want unixdate" % (keys[:1],))
    if "unixdate" in vals:
        m = re.match(r"^(\d+) (.*)$", vals["unixdate"])
        if not m or not CTIME.match(m.group(2)):
            bad.append("unixdate value %r is not '<secs> <ctime>'" % vals["unixdate"])
        else:
            secs, ct = int(m.group(1)), m.group(2)
            if len(ct.split()) != 6:
                bad.append("unixdate ctime %r does not have 6 fields" % ct)
            zone = ct.split()[4]
            want = time.strftime("%a %b %e %H:%M:%S " + zone + " %Y", time.gmtime(secs))
            if zone in ("UTC", "GMT") and ct != want:
                bad.append("unixdate %r: ctime %r, but %d seconds is %r" % (vals["unixdate"], ct, secs, want))
    return bad


def sec_mail(t, S, label, nmsgs):
    st = {"c": None}

    def handshake():
        c = Conn(S.sock)
        r = want_reply(c, Fcall(Tversion, NOTAG, msize=8192, version="9P2000"), Rversion)
        need(r.version == "9P2000" and r.msize <= 8192, "Rversion %r" % r)
        c.msize = r.msize
        r = want_reply(c, Fcall(Tattach, 0, fid=0, afid=NOFID, uname=USER, aname=""), Rattach)
        need(r.qid.type & QTDIR, "root qid %r" % (r.qid,))
        c.root = 0
        c._fid = 10
        st["c"] = c
    t.run("%s: Mail's Tversion 8192 NOTAG + Tattach NOFID uname %r" % (label, USER), handshake)
    c = st["c"] or fresh(S)

    def box_stat():
        fid, _ = c.walkto(["mbox"])
        d = c.stat(fid)
        c.clunk(fid)
        need(d.qid.type & QTDIR and d.name == "mbox", "mbox stat %r" % d)
    t.run("%s: Twalk [mbox] + Tstat -> QTDIR" % label, box_stat)

    def ctl():
        fid, _ = c.walkto(["mbox", "ctl"])
        c.open(fid, OWRITE)
        c.clunk(fid)
    t.run("%s: Twalk [mbox ctl] + Topen OWRITE" % label, ctl)

    listing = {}

    def list_box():
        fid, _ = c.walkto(["mbox"])
        c.open(fid)
        ents, off = [], 0
        while True:
            f = Fcall(Tread, c.newtag(), fid=fid, offset=off, count=8168)
            r = want_reply(c, f, Rread)
            if not r.data:
                break
            try:
                ents += unpack_dirs(r.data)
            except Exception as e:
                raise Fail("Rread at offset %d holds a partial entry: %s" % (off, e))
            off += len(r.data)
        c.clunk(fid)
        names = [d.name for d in ents]
        nums = [int(n) for n in names if isnum(n)]
        need(all(names), "empty name in %r" % names)
        need(nums == sorted(nums) and len(set(nums)) == len(nums), "message names not ascending: %r" % names)
        first_num = next((i for i, n in enumerate(names) if isnum(n)), len(names))
        need(all(isnum(n) for n in names[first_num:]), "non-numeric names after messages: %r" % names)
        need(len(nums) == nmsgs, "%d messages, want %d: %r" % (len(nums), nmsgs, names))
        for d in ents:
            need(not isnum(d.name) or (d.qid.type & QTDIR), "message %s without QTDIR" % d.name)
        listing["msgs"] = [n for n in names if isnum(n)]
        return "%s" % " ".join(names)
    t.run("%s: list mbox (Tread 8168 at growing offsets): whole entries, ascending numbers" % label, list_box)
    msgs = listing.get("msgs") or [str(i) for i in range(1, nmsgs + 1)]

    def infos():
        bad = []
        for n in msgs:
            data, ln = c.readfile("mbox/%s/info" % n)
            for b in check_info(data, True):
                bad.append("mbox/%s/info: %s" % (n, b))
        need(not bad, "\n".join(bad[:20]))
        return "%d messages" % len(msgs)
    t.run("%s: readfile every message's info: non-empty, 'unixdate <secs> <ctime>' first, keys in spec order"
          % label, infos)

    # walk the whole message trees as Mail does when opening each message
    ents = []          # (path, top, names of files)
    problems = {"list": [], "parts": [], "text": [], "size": [], "must": []}

    def walk_entity(path, top, depth):
        try:
            lst = c.ls(path)
        except Exception as e:
            problems["list"].append("%s: %s" % (path, e))
            return
        names = [d.name for d in lst]
        if not all(names):
            problems["list"].append("%s: empty name" % path)
        nums = [d for d in lst if isnum(d.name)]
        first = next((i for i, d in enumerate(lst) if isnum(d.name)), len(lst))
        if [d.name for d in lst[first:]] != [d.name for d in nums] or \
                [int(d.name) for d in nums] != sorted(int(d.name) for d in nums):
            problems["list"].append("%s: numeric entries not last/ascending: %r" % (path, names))
        for d in lst:
            if bool(d.qid.type & QTDIR) != isnum(d.name):
                problems["list"].append("%s/%s: QTDIR %s for a %s name" % (
                    path, d.name, bool(d.qid.type & QTDIR), "numeric" if isnum(d.name) else "file"))
        ents.append((path, top, [d.name for d in lst if not isnum(d.name)]))
        for d in nums:
            sub = path + "/" + d.name
            data, ln = c.readfile(sub + "/info")
            for b in check_info(data, False):
                problems["parts"].append("%s/info: %s" % (sub, b))
            if depth < MAXDEPTH:
                walk_entity(sub, False, depth + 1)

    def open_messages():
        for n in msgs:
            d = c.statpath("mbox/" + n)
            if d.name != n or not d.qid.type & QTDIR:
                problems["list"].append("mbox/%s: stat name %r qid %r" % (n, d.name, d.qid))
            walk_entity("mbox/" + n, True, 1)
        need(not problems["list"], "\n".join(problems["list"][:20]))
        return "%d messages, %d entities" % (len(msgs), len(ents))
    t.run("%s: list every message and part dir (files first, numeric parts ascending, QTDIR only on parts, "
          "stat name = number)" % label, open_messages)

    def part_infos():
        need(not problems["parts"], "\n".join(problems["parts"][:20]))
        return "%d parts" % (len(ents) - len(msgs))
    t.run("%s: readfile info of every part, recursively: non-empty, type and digest, keys in order" % label,
          part_infos)

    def text_parts():
        bad, ntext = [], 0
        for path, top, files in ents:
            ty, _ = c.readfile(path + "/type")
            if not ty:
                bad.append("%s/type is empty" % path)
            info, _ = c.readfile(path + "/info")
            it = [l[5:] for l in info.decode("utf-8", "replace").split("\n") if l.startswith("type ")]
            if it != [ty.decode("utf-8", "replace")]:
                bad.append("%s: info type %r, type file %r" % (path, it, ty))
            if ty.startswith(b"text"):
                ntext += 1
                for f in ("header", "body"):
                    try:
                        c.readfile(path + "/" + f)
                    except Exception as e:
                        bad.append("%s/%s: %s" % (path, f, e))
        need(not bad, "\n".join(bad[:20]))
        return "%d text entities" % ntext
    t.run("%s: readfile type of every entity (== info type), header and body of text parts" % label, text_parts)

    def sizes():
        bad, n = [], 0
        for path, top, files in ents:
            want = ["info", "body", "header", "type", "raw"] + (["unixheader"] if top else [])
            for f in want:
                if f not in files:
                    bad.append("%s: no %s in the listing" % (path, f))
                    continue
                data, ln = c.catfile(path + "/" + f)
                rf, rl = c.readfile(path + "/" + f)
                n += 1
                if len(data) != ln:
                    bad.append("%s/%s: stat length %d, %d bytes read" % (path, f, ln, len(data)))
                elif rf != data:
                    bad.append("%s/%s: readfile got %d bytes, read-to-EOF %d" % (path, f, len(rf), len(data)))
        need(not bad, "\n".join(bad[:20]))
        return "%d files" % n
    t.run("%s: stat length == bytes read for info body header type raw (+unixheader) of every message and part"
          % label, sizes)

    def musts():
        bad = []
        for n in msgs:
            p = "mbox/" + n
            rawunix = c.catfile(p + "/rawunix")[0]
            unixheader = c.catfile(p + "/unixheader")[0]
            raw = c.catfile(p + "/raw")[0]
            digest = c.catfile(p + "/digest")[0].decode()
            info = c.readfile(p + "/info")[0].decode("utf-8", "replace")
            mid = c.catfile(p + "/messageid")[0]
            idig = [l[7:] for l in info.split("\n") if l.startswith("digest ")]
            if idig != [digest]:
                bad.append("%s: info digest %r, digest file %r" % (p, idig, digest))
            if digest != hashlib.sha1(rawunix).hexdigest():
                bad.append("%s: digest %s != sha1(rawunix) %s" % (p, digest, hashlib.sha1(rawunix).hexdigest()))
            if rawunix != unixheader + raw:
                bad.append("%s: rawunix != unixheader + raw" % p)
            if not unixheader.startswith(b"From ") or not unixheader.endswith(b"\n") or unixheader.count(b"\n") != 1:
                bad.append("%s: unixheader %r" % (p, unixheader))
            if raw.startswith(b"From "):
                bad.append("%s: raw starts with a From line" % p)
            if b"\n" in mid:
                bad.append("%s: messageid %r has a newline" % (p, mid))
            ud = c.catfile(p + "/unixdate")[0].decode()
            iu = [l[9:] for l in info.split("\n") if l.startswith("unixdate ")]
            if not iu or iu[0].split(" ", 1)[1] + "\n" != ud:
                bad.append("%s: unixdate file %r vs info %r" % (p, ud, iu))
        need(not bad, "\n".join(bad[:20]))
    t.run("%s: digest == info digest == sha1(rawunix); rawunix == unixheader+raw; From line; "
          "messageid without NL; unixdate file == info ctime" % label, musts)
    c.close()


# ================================================================ 4. Topenfd

def read_fd(fd, timeout=10.0):
    out = b""
    while True:
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            raise Fail("descriptor gave no EOF within %.0f s after %d bytes" % (timeout, len(out)))
        b = os.read(fd, 65536)
        if not b:
            return out
        out += b


def sec_openfd(t, S):
    def openfd(path):
        c = fresh(S)
        want, ln = c.catfile(path)
        fid, qs = c.walkto(path)
        f = Fcall(Topenfd, c.newtag(), fid=fid, mode=OREAD)
        r = c.rpc(f, check=False)
        need(r.type == Ropenfd, "sent %r\ngot %r" % (f, r))
        need(qeq(r.qid, qs[-1]), "Ropenfd qid %r, walk qid %r" % (r.qid, qs[-1]))
        fd, payload = c.recv_fd()
        try:
            need(len(payload) == 1, "payload %r" % payload)
            seq = read_fd(fd)           # read(2) from where the descriptor stands, as marshal does
            try:
                at0 = os.pread(fd, max(len(want), 1) + 4096, 0)
                kind = "seekable %s" % ("file" if os.path.stat.S_ISREG(os.fstat(fd).st_mode) else "fd")
            except OSError:
                at0, kind = seq, "pipe/socket"
        finally:
            os.close(fd)

        def first_diff(a, b):
            return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        need(at0 == want, "%s: reading from offset 0 gave %d bytes, read_all %d (first difference at %d)" % (
            kind, len(at0), len(want), first_diff(at0, want)))
        need(seq == want, "%s: reading from offset 0 is right, but read(2) of the descriptor as received gave "
             "%d bytes, want %d: its file offset is not at 0 (a plain reader such as marshal gets nothing)"
             % (kind, len(seq), len(want)))
        # openfd(9P): after the transaction the fid counts as clunked and can be reused
        r2 = c.rpc(Fcall(Twalk, c.newtag(), fid=c.root, newfid=fid, wname=["mbox"]), check=False)
        need(r2.type == Rwalk, "fid %d not reusable after Topenfd: %r" % (fid, r2))
        c.readfile("mbox/1/info")
        return "qid %r iounit %d, %d bytes, payload %r" % (r.qid, r.iounit, len(seq), payload)
    for path in ("mbox/1/raw", "mbox/1/messageid", "mbox/4/raw"):
        t.run("Topenfd OREAD %s -> Ropenfd + SCM_RIGHTS fd reading the same bytes" % path, openfd, path)

    def openfd_denied():
        c = fresh(S)
        fid, _ = c.walkto("mbox/1/raw")
        en, _ = want_error(c, Fcall(Topenfd, c.newtag(), fid=fid, mode=ORDWR), "permission denied")
        c.stat(c.root)
        need(not c.fds, "a descriptor arrived with the Rerror")
    t.run("Topenfd ORDWR of a read-only file -> 'permission denied', no descriptor", openfd_denied)
