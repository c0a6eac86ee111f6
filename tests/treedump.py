#!/usr/bin/env python3
"""Dump a mounted mailfs tree: one line per entry, in listing order.

A directory is "path/"; a file is "path<TAB>mode<TAB>size<TAB>sha1" of
the bytes read; a write-only (ctl) file is "path<TAB>mode<TAB>-".  It also checks that each file's stat size equals the
bytes read, printing "SIZE MISMATCH" lines, so a golden diff shows it
(but for threads and thread, length 0 since they are made at each open).
A box's index file says how far this run's index is: "path<TAB>mode<TAB>~".
Reads through the kernel only: independent of mailfs's own code.
"""
import hashlib
import os
import stat
import sys


def dump(root, rel, depth, maxdepth, out):
    here = os.path.join(root, rel) if rel else root
    for name in os.listdir(here):  # readdir order is the listing order
        path = os.path.join(rel, name) if rel else name
        full = os.path.join(root, path)
        st = os.lstat(full)
        if stat.S_ISDIR(st.st_mode):
            out.write("%s/\n" % path)
            if depth < maxdepth:
                dump(root, path, depth + 1, maxdepth, out)
            continue
        if not st.st_mode & 0o444:  # a ctl file: written, never read
            out.write("%s\t%o\t-\n" % (path, stat.S_IMODE(st.st_mode)))
            continue
        if name == "index" and depth == 0:  # a box's: how far its index is, this run's
            out.write("%s\t%o\t~\n" % (path, stat.S_IMODE(st.st_mode)))
            continue
        with open(full, "rb") as f:
            data = f.read()
        # threads and thread are made at each open, from the whole box: length 0, as ctl
        live = name in ("threads", "thread") and st.st_size == 0
        if len(data) != st.st_size and not live:
            out.write("SIZE MISMATCH %s stat %d read %d\n" % (path, st.st_size, len(data)))
        out.write("%s\t%o\t%d\t%s\n" % (path, stat.S_IMODE(st.st_mode), len(data),
                                        hashlib.sha1(data).hexdigest()))


def main():
    args = sys.argv[1:]
    maxdepth = 1 << 30
    if len(args) == 3 and args[0] == "--maxdepth":
        maxdepth = int(args[1])
        args = args[2:]
    if len(args) != 1:
        sys.exit("usage: treedump.py [--maxdepth N] dir")
    dump(args[0], "", 0, maxdepth, sys.stdout)


if __name__ == "__main__":
    main()
