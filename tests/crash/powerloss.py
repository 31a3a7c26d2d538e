"""Power-loss model for the reliability harness (docs/reliability.md, part 5).

A crash run (POND_FAULT=crash:any:K) leaves the file system as the kernel saw it: every call
before the crash took effect, in the page cache. A power cut at that point can lose more:
whatever was not yet made durable. From the run's own POND_TRACE and a copy of the pond taken
before the step, this module replays the trace into a model of names (directory entries) and
inodes (file data) and builds the on-disk states a power cut could leave:

- file data written after the file's last fsync is lost entirely, torn (a prefix of the
  unsynced bytes kept), or present at full size but replaced with zeros or garbage;
- a directory entry added or removed (open with O_CREAT of a new name, mkdir, link, rename,
  unlink, rmdir) and not followed by an fsync of its directory may be reverted. A rename within
  one directory is one entry change (atomic); across directories it is two (the new name in
  one, the removal of the old in the other), reverted independently.
- fsync of a file makes its data durable; fsync of a directory makes its entries durable;
  syncfs makes every file's data and every directory's entries durable (the whole file system:
  the pond and its parent). Nothing else is assumed (no ordering between un-fsynced changes).

Paths in the trace are absolute; the model works with paths relative to the pond ("." the pond
itself, ".." its parent directory, whose fsync makes the pond's own entry durable).
"""
import hashlib
import itertools
import os
import random
import re

DIR = "D"

COMMIT_RE = re.compile(r"^_delta_log/\d{20}\.json$")


class ModelError(Exception):
    """The trace and the crash state disagree (a harness or trace defect, not pond's)."""


def parse_trace(path):
    """Trace lines as dicts. A name from /proc/self/fd of an unlinked file ends in
    ' (deleted)': such a line gets deleted=True."""
    out = []
    with open(path) as f:
        for line in f:
            t = line.split()
            deleted = "(deleted)" in t
            if deleted:
                t = [x for x in t if x != "(deleted)"]
            if len(t) < 8:
                continue
            r = {"seq": int(t[1]), "call": t[2], "path": t[3], "path2": t[4], "fd": int(t[5]),
                 "rc": int(t[6]), "err": int(t[7]), "flags": "", "off": -1, "len": 0,
                 "deleted": deleted}
            rest = t[8:]
            if r["call"] == "open" and rest:
                r["flags"] = rest[0]
            elif r["call"] in ("write", "pwrite", "ftruncate") and len(rest) >= 2:
                r["off"], r["len"] = int(rest[0]), int(rest[1])
            out.append(r)
    return out


class Inode:
    def __init__(self, ino, pre_path=None):
        self.ino = ino
        self.pre_path = pre_path  # content before the step (None: created by the step)
        self.events = []          # ("write", seq, off, len) | ("trunc", seq, size) | ("sync", seq)

    def last_sync(self):
        s = [e[1] for e in self.events if e[0] == "sync"]
        return s[-1] if s else 0

    def unsynced(self):
        ls = self.last_sync()
        return any(e[1] > ls for e in self.events if e[0] != "sync")


class Op:
    """One directory-entry change: kind "add" (name -> val), "del" (name removed if it still
    refers to val) or "mv" (a same-directory rename: name -> val, name2 removed)."""

    def __init__(self, seq, kind, dirs, name, val, name2=None):
        self.seq, self.kind, self.dirs, self.name, self.val, self.name2 = \
            seq, kind, dirs, name, val, name2

    def apply(self, table):
        if self.kind == "add":
            table[self.name] = self.val
        elif self.kind == "del":
            if table.get(self.name) == self.val:
                del table[self.name]
        else:
            table[self.name] = self.val
            if table.get(self.name2) == self.val:
                del table[self.name2]

    def __repr__(self):
        if self.kind == "mv":
            return "rename %s -> %s" % (self.name2, self.name)
        return "%s %s" % ("add" if self.kind == "add" else "remove", self.name)


def parent(rel):
    if rel == ".":
        return ".."
    d = os.path.dirname(rel)
    return d if d else "."


class Model:
    def __init__(self, pre_dir, work_dir, trace):
        self.pre_dir = pre_dir
        self.work = os.path.realpath(work_dir)
        self.inodes = {}
        self.pre = {}
        if os.path.isdir(pre_dir):
            self.pre["."] = DIR
            for dp, dns, fns in os.walk(pre_dir):
                for d in dns:
                    self.pre[os.path.relpath(os.path.join(dp, d), pre_dir)] = DIR
                for f in fns:
                    p = os.path.join(dp, f)
                    rel = os.path.relpath(p, pre_dir)
                    ino = len(self.inodes) + 1
                    self.inodes[ino] = Inode(ino, p)
                    self.pre[rel] = ino
        self.ops = []
        self.dir_syncs = {}
        self.cur = dict(self.pre)
        self.replay(trace)
        self.check_against_disk()

    # ---- replay ---------------------------------------------------------------------------
    def rel(self, path):
        w = self.work
        if path == w:
            return "."
        if path == os.path.dirname(w):
            return ".."
        if path.startswith(w + "/"):
            return path[len(w) + 1:]
        return None

    def ino_of(self, rel, r):
        v = self.cur.get(rel)
        if v is None or v == DIR:
            raise ModelError("trace line %d (%s %s): no file of that name in the model"
                             % (r["seq"], r["call"], r["path"]))
        return v

    def op(self, o):
        o.apply(self.cur)
        self.ops.append(o)

    def replay(self, trace):
        for r in trace:
            call, seq = r["call"], r["seq"]
            if call in ("fault", "exit") or r["rc"] < 0:
                continue  # a failed call changed nothing
            if call == "syncfs":  # the whole file system, whichever directory named it
                for node in self.inodes.values():
                    node.events.append(("sync", seq))
                dirs = {".", ".."} | {k for k, v in self.cur.items() if v == DIR}
                dirs |= {d for o in self.ops for d in o.dirs}
                for d in dirs:
                    self.dir_syncs.setdefault(d, []).append(seq)
                continue
            a = self.rel(r["path"])
            if a is None:
                continue  # outside the pond (e.g. the host file read by copy is never written)
            if call == "open":
                if a not in self.cur:
                    ino = len(self.inodes) + 1
                    self.inodes[ino] = Inode(ino)
                    self.op(Op(seq, "add", (parent(a),), a, ino))
                elif "trunc" in r["flags"] and self.cur[a] != DIR:
                    self.inodes[self.cur[a]].events.append(("trunc", seq, 0))
            elif call in ("write", "pwrite"):
                if r["deleted"]:
                    continue  # data of an unlinked file: no name can show it
                self.inodes[self.ino_of(a, r)].events.append(("write", seq, r["off"], r["len"]))
            elif call == "ftruncate":
                if not r["deleted"]:
                    self.inodes[self.ino_of(a, r)].events.append(("trunc", seq, r["off"]))
            elif call == "fsync":
                if a in ("..", ".") or self.cur.get(a) == DIR:
                    self.dir_syncs.setdefault(a, []).append(seq)
                elif not r["deleted"]:
                    self.inodes[self.ino_of(a, r)].events.append(("sync", seq))
            elif call == "mkdir":
                self.op(Op(seq, "add", (parent(a),), a, DIR))
            elif call == "rmdir":
                self.op(Op(seq, "del", (parent(a),), a, DIR))
            elif call in ("unlink", "unlinkat"):
                self.op(Op(seq, "del", (parent(a),), a, self.ino_of(a, r)))
            elif call in ("link", "rename"):
                b = self.rel(r["path2"])
                if b is None:
                    raise ModelError("%s out of the pond: %s" % (call, r["path2"]))
                if self.cur.get(a) == DIR:
                    raise ModelError("rename of a directory (%s) is not modelled" % a)
                ino = self.ino_of(a, r)
                if call == "link":
                    self.op(Op(seq, "add", (parent(b),), b, ino))
                elif parent(a) == parent(b):
                    self.op(Op(seq, "mv", (parent(b),), b, ino, name2=a))
                else:
                    self.op(Op(seq, "add", (parent(b),), b, ino))
                    self.op(Op(seq, "del", (parent(a),), a, ino))

    def durable(self, o):
        return all(any(s > o.seq for s in self.dir_syncs.get(d, [])) for d in o.dirs)

    def check_against_disk(self):
        """The replayed names must be exactly what the crash left on disk, and every file's
        size what its writes and truncations make it."""
        disk = {}
        if os.path.isdir(self.work):
            disk["."] = DIR
            for dp, dns, fns in os.walk(self.work):
                for d in dns:
                    disk[os.path.relpath(os.path.join(dp, d), self.work)] = DIR
                for f in fns:
                    disk[os.path.relpath(os.path.join(dp, f), self.work)] = "F"
        model = {k: (DIR if v == DIR else "F") for k, v in self.cur.items()}
        if disk != model:
            only_d = sorted(set(disk) - set(model))[:5]
            only_m = sorted(set(model) - set(disk))[:5]
            raise ModelError("replayed names differ from the crash state: on disk only %s, in "
                             "the model only %s" % (only_d, only_m))
        self.final = {}
        for name, v in self.cur.items():
            if v != DIR and v not in self.final:
                with open(os.path.join(self.work, name), "rb") as f:
                    self.final[v] = f.read()
        for ino, node in self.inodes.items():
            if ino in self.final and node.events:
                size = self.size_after(node, None)
                if size != len(self.final[ino]):
                    raise ModelError("inode of %s: trace gives %d bytes, disk has %d"
                                     % ([k for k, v in self.cur.items() if v == ino], size,
                                        len(self.final[ino])))

    # ---- contents ---------------------------------------------------------------------------
    def pre_bytes(self, node):
        if node.pre_path is None:
            return b""
        with open(node.pre_path, "rb") as f:
            return f.read()

    def size_after(self, node, upto):
        size = len(self.pre_bytes(node)) if node.pre_path else 0
        for e in node.events:
            if upto is not None and e[1] > upto:
                break
            if e[0] == "write":
                size = max(size, e[2] + e[3])
            elif e[0] == "trunc":
                size = e[2]
        return size

    def content(self, ino, mode, rnd):
        """mode: final (everything written), lost (only what was fsynced), torn (fsynced
        data plus the first half of the unsynced bytes), zeros / garbage (full size, the
        unsynced ranges overwritten)."""
        node = self.inodes[ino]
        fin = self.final.get(ino)
        if mode == "final" and fin is not None:
            return fin
        if not node.events and node.pre_path:
            return self.pre_bytes(node)
        ls = node.last_sync()
        unsynced_bytes = sum(e[3] for e in node.events if e[0] == "write" and e[1] > ls)
        budget = unsynced_bytes // 2
        data = bytearray(self.pre_bytes(node))
        for e in node.events:
            late = e[1] > ls
            if e[0] == "sync":
                continue
            if e[0] == "trunc":
                if late and mode in ("lost", "torn"):
                    continue
                del data[e[2]:]
                data.extend(bytes(max(0, e[2] - len(data))))
                continue
            off, n = e[2], e[3]
            if late and mode == "lost":
                continue
            if late and mode == "torn":
                if budget <= 0:
                    continue
                n = min(n, budget)
                budget -= n
            if len(data) < off:
                data.extend(bytes(off - len(data)))
            if late and mode == "zeros":
                chunk = bytes(n)
            elif late and mode == "garbage":
                chunk = rnd.randbytes(n)
            elif fin is not None:
                chunk = fin[off:off + n]
            else:
                chunk = bytes(n)  # no name shows this inode's data at the cut: unknown bytes
            data[off:off + n] = chunk
        return bytes(data)

    # ---- variants ---------------------------------------------------------------------------
    def nondurable_ops(self):
        return [o for o in self.ops if not self.durable(o)]

    def unsynced_inodes(self):
        return [i for i, n in self.inodes.items() if n.unsynced()]

    def commit_durable(self):
        """A new commit file's link (or rename) is durable: the new version must survive."""
        return any(o.kind in ("add", "mv") and COMMIT_RE.match(o.name) and self.durable(o)
                   for o in self.ops)

    def variants(self, quick, k):
        """(label, reverted ops, data mode or {inode: mode}) for this cut. Full: every
        unsynced-data mode with the entries as they are, every un-fsynced entry reverted with
        everything lost, one file's unsynced data lost and the others' kept (at most 6 files,
        evenly spread, when more than one has unsynced data), and each un-fsynced entry change
        reverted on its own (every subset when there are at most 3; at most 8 single ones,
        evenly spread). Quick: two, rotating with k."""
        nd = self.nondurable_ops()
        un = self.unsynced_inodes()
        out = []
        if nd or un:
            out.append(("all unsynced lost", nd, "lost"))
        for mode in ("torn", "zeros", "garbage"):
            if un:
                out.append(("%s unsynced data" % mode, [], mode))
        if len(un) > 1 and not quick:
            # one file's unsynced data lost, the others' kept (no ordering between files)
            for ino in un[::max(1, len(un) // 6)]:
                names = sorted(n for n, v in self.cur.items() if v == ino)
                out.append(("only the unsynced data of %s lost" % (names[0] if names else
                                                                   "an unlinked file"),
                            [], {ino: "lost"}))
        if len(nd) > 1:
            if len(nd) <= 3:
                subsets = [list(c) for r in range(1, len(nd)) for c in
                           itertools.combinations(nd, r)]
            else:
                step = max(1, len(nd) // 8)
                subsets = [[o] for o in nd[::step]]
            for s in subsets:
                out.append(("reverted: %s" % "; ".join(map(repr, s)), s, "final"))
        if quick and len(out) > 2:
            rest = out[1:]
            out = [out[0], rest[k % len(rest)]]
        return out

    def table(self, reverted):
        t = dict(self.pre)
        skip = set(id(o) for o in reverted)
        for o in self.ops:
            if id(o) not in skip:
                o.apply(t)
        return t

    def build(self, reverted, mode, seed):
        """The variant's tree: (sorted [(name, None for a directory | bytes)], digest of names
        and bytes (to skip duplicates), whether the pond's own directory entry survives)."""
        rnd = random.Random(seed)
        t = self.table(reverted)
        h = hashlib.sha256()
        entries = []

        def present(name):
            while name not in (".", ".."):
                name = parent(name)
                if t.get(name) != DIR:
                    return False
            return True
        if t.get(".") != DIR:
            return entries, "no pond", False
        for name in sorted(t, key=lambda n: (n.count("/"), n)):
            if name == "." or not present(name):
                continue
            if t[name] == DIR:
                entries.append((name, None))
                h.update(b"D " + name.encode() + b"\n")
            else:
                ino = t[name]
                data = self.content(ino, mode.get(ino, "final") if isinstance(mode, dict)
                                    else mode, rnd)
                entries.append((name, data))
                h.update(b"F " + name.encode() + b" " + hashlib.sha256(data).digest() + b"\n")
        return entries, h.hexdigest(), True

    def durable_only(self):
        """Whether a power cut changes nothing here (every change already durable)."""
        return not self.nondurable_ops() and not self.unsynced_inodes()


def write_tree(dest, entries, exists):
    """Creates the variant at dest (nothing when the pond's own entry is gone)."""
    if not exists:
        return
    os.makedirs(dest)
    for name, data in entries:
        p = os.path.join(dest, name)
        if data is None:
            os.mkdir(p)
        else:
            with open(p, "wb") as f:
                f.write(data)


def selftest(tmp):
    """Checks the model on a synthetic trace with known answers. Returns a list of problems."""
    import shutil
    pre = os.path.join(tmp, "st-pre")
    work = os.path.realpath(os.path.join(tmp, "st-work"))
    for d in (pre, work):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(pre)
    os.makedirs(os.path.join(pre, "x"))
    files = {pre + "/a": b"old", pre + "/x/m": b"moved", work + "/c": b"hello",
             work + "/d": b"data", work + "/s/e": b"xyz", work + "/y/m": b"moved"}
    os.makedirs(os.path.join(work, "s"))
    os.makedirs(os.path.join(work, "x"))
    os.makedirs(os.path.join(work, "y"))
    for p, b in files.items():
        with open(p, "wb") as f:
            f.write(b)
    W = work
    lines = [
        "open %s/b - 4 4 0 excl", "write %s/b - 4 5 0 0 5", "fsync %s/b - 4 0 0",
        "link %s/b %s/c -1 0 0", "unlink %s/b - -1 0 0", "fsync %s - 4 0 0",
        "open %s/d - 4 4 0 excl", "write %s/d - 4 4 0 0 4",
        "unlink %s/a - -1 0 0", "mkdir %s/s - -1 0 0",
        "open %s/s/e - 5 5 0 excl", "write %s/s/e - 5 3 0 0 3", "fsync %s/s/e - 5 0 0",
        "fsync %s/s - 5 0 0", "mkdir %s/y - -1 0 0", "rename %s/x/m %s/y/m -1 0 0",
        "fsync %s/y - 6 0 0"]
    tpath = os.path.join(tmp, "st-trace.txt")
    with open(tpath, "w") as f:
        for i, l in enumerate(lines):
            f.write("1 %d %s\n" % (i + 1, l.replace("%s", W)))
    problems = []

    def expect(what, got, want):
        if got != want:
            problems.append("%s: got %r, want %r" % (what, got, want))
    m = Model(pre, work, parse_trace(tpath))
    nd = m.nondurable_ops()
    # durable: b and c (W fsynced after), s/e (s fsynced), y/m (y fsynced); not: d, removal
    # of a, mkdir s, mkdir y (W not fsynced after), removal of x/m (x never fsynced)
    expect("non-durable ops", sorted(repr(o) for o in nd),
           ["add d", "add s", "add y", "remove a", "remove x/m"])
    expect("unsynced inodes", [m.inodes[i].pre_path or "new" for i in m.unsynced_inodes()],
           ["new"])
    tree = lambda rev, mode: dict(m.build(rev, mode, "t")[0])
    lost = tree(nd, "lost")
    expect("all lost", lost, {"a": b"old", "c": b"hello", "x": None, "x/m": b"moved"})
    expect("torn d", tree([], "torn")["d"], b"da")
    expect("zeros d", tree([], "zeros")["d"], b"\0\0\0\0")
    g = tree([], "garbage")
    expect("garbage d size", len(g["d"]), 4)
    expect("garbage keeps synced data", g["s/e"], b"xyz")
    one = tree([], {m.cur["d"]: "lost"})
    expect("one file's data lost", (one["d"], one["c"], one["s/e"]), (b"", b"hello", b"xyz"))
    by = {repr(o): o for o in nd}
    if len(by) != 5:
        return problems
    expect("mkdir s reverted hides s/e", "s/e" in tree([by["add s"]], "final"), False)
    expect("unlink a reverted", tree([by["remove a"]], "final").get("a"), b"old")
    both = tree([by["remove x/m"]], "final")
    expect("cross-directory rename: old name back, new kept", (both.get("x/m"), both.get("y/m")),
           (b"moved", b"moved"))
    expect("final equals the disk", tree([], "final"),
           {"c": b"hello", "d": b"data", "s": None, "s/e": b"xyz", "x": None, "y": None,
            "y/m": b"moved"})
    expect("no commit", m.commit_durable(), False)
    # a disk that disagrees with the trace is the harness's error, not a pond state
    with open(os.path.join(work, "extra"), "wb") as f:
        f.write(b"?")
    try:
        Model(pre, work, parse_trace(tpath))
        problems.append("an extra file on disk was not reported")
    except ModelError:
        pass
    os.unlink(os.path.join(work, "extra"))
    # a durable commit link requires the new version; the same link un-fsynced does not
    os.makedirs(os.path.join(work, "_delta_log"))
    with open(tpath, "a") as f:
        f.write("1 90 mkdir %s/_delta_log - -1 0 0\n" % W)
        f.write("1 91 link %s/c %s/_delta_log/00000000000000000001.json -1 0 0\n" % (W, W))
    os.link(os.path.join(work, "c"), os.path.join(work, "_delta_log/00000000000000000001.json"))
    expect("commit link not fsynced", Model(pre, work, parse_trace(tpath)).commit_durable(),
           False)
    with open(tpath, "a") as f:
        f.write("1 92 fsync %s/_delta_log - 7 0 0\n" % W)
    expect("commit link fsynced", Model(pre, work, parse_trace(tpath)).commit_durable(), True)
    # syncfs (named by any directory, even outside the pond) makes everything durable
    with open(tpath, "a") as f:
        f.write("1 93 syncfs %s - 7 0 0\n" % os.path.dirname(W))
    expect("syncfs: nothing left to lose", Model(pre, work, parse_trace(tpath)).durable_only(),
           True)
    shutil.rmtree(pre)
    shutil.rmtree(work)
    return problems
