"""Crash points of `pond push` on the directory transport (docs/replication.md).

For every mutating OS call of a push (sampled with --quick), the push is re-run from the same
old remote with a crash there (POND_FAULT=crash:any:K). The remote must then be a valid pond
at a transaction of the source: fsck clean, its commit files a byte-identical prefix of the
source's, and its listing and every file's bytes equal to the source's at that transaction.
The next push must complete and leave the remote equal to the source. Two cases: an
incremental push onto an old remote, and a first push that creates the remote.
"""
import json
import os
import re
import shutil

CRASH_RC = 77


def tree_state(h, pond, at=None):
    """Listing (without times) and every file's bytes, as of transaction `at`."""
    pre = ["--at", str(at)] if at is not None else []
    p = h.run(pond, pre + ["list", "--json", "/**"])
    if p.returncode != 0:
        raise h.Fail("list %s: exit %d: %s" % (pond, p.returncode, p.stderr.decode()))
    out = []
    for e in json.loads(p.stdout.decode() or "[]"):
        e.pop("time", None)
        if e["type"].startswith("file:"):
            c = h.run(pond, pre + ["cat", e["path"]])
            if c.returncode != 0:
                raise h.Fail("cat %s in %s: %s" % (e["path"], pond, c.stderr.decode()))
            e["content"] = c.stdout.hex()
        out.append(json.dumps(e, sort_keys=True))
    return sorted(out)


def commits(pond):
    d = os.path.join(pond, "_delta_log")
    if not os.path.isdir(d):
        return []
    return sorted(f for f in os.listdir(d) if re.fullmatch(r"\d{20}\.json", f))


def snapshot(root):
    """Every name under root with its bytes (None for a directory)."""
    out = {}
    for dp, dns, fns in os.walk(root):
        for d in dns:
            out[os.path.relpath(os.path.join(dp, d), root)] = None
        for f in fns:
            with open(os.path.join(dp, f), "rb") as fh:
                out[os.path.relpath(os.path.join(dp, f), root)] = fh.read()
    return out


def check_remote(h, src, remote, lo, hi, what, cut=False):
    """The remote is the source at some transaction in [lo, hi]; returns it. cut: the remote
    as a power cut left it, before any pond command ran there. Its commit files may then have a
    gap that the push intent (_host/push-intent) explains: pond reads the log as ending before
    the gap, read-only commands change nothing, and the next push removes the commits above
    it (docs/replication.md, "Batches and power cuts"). Without a cut: no gap (a kill may
    leave the intent of a batch, never a gap); after a push completed (lo == hi), no intent."""
    cs = commits(remote)
    if not cs:
        raise h.Fail("%s: the remote has no commits" % what)
    for f in cs:
        with open(os.path.join(remote, "_delta_log", f), "rb") as a, \
                open(os.path.join(src, "_delta_log", f), "rb") as b:
            if a.read() != b.read():
                raise h.Fail("%s: remote commit %s differs from the source's" % (what, f))
    intent = os.path.join(remote, "_host", "push-intent")
    head = int(cs[-1][:20])
    if len(cs) != head + 1:
        if not cut:
            raise h.Fail("%s: the remote's log has a gap (%d commits, head %d)"
                         % (what, len(cs), head))
        if not os.path.exists(intent):
            raise h.Fail("%s: the remote's log has a gap (%d commits, head %d) and no push "
                         "intent explains it" % (what, len(cs), head))
        head = next(v for v in range(len(cs) + 1) if "%020d.json" % v not in cs) - 1
    elif os.path.exists(intent) and lo == hi:
        raise h.Fail("%s: a push intent is left in the remote after a push completed" % what)
    before = snapshot(remote) if cut else None
    if not lo <= head <= hi:
        raise h.Fail("%s: remote at transaction %d, not in [%d, %d]" % (what, head, lo, hi))
    try:
        h.fsck(remote)
    except h.Fail as e:
        raise h.Fail("%s: remote %s" % (what, e))
    if tree_state(h, remote) != tree_state(h, src, head):
        raise h.Fail("%s: the remote at %d does not read as the source at %d" % (what, head, head))
    if cut and snapshot(remote) != before:
        raise h.Fail("%s: read-only commands (fsck, list, cat) changed the remote" % what)
    return head


def push_scenario(h, create):
    src = h.fresh("rsrc")
    h.run(src, ["init"], check=True)
    h.run(src, ["copy", "host:big.bin", "/big"], check=True)
    h.run(src, ["copy", "host:small.txt", "/s"], check=True)
    old = h.fresh("rold")
    old_head = -1
    if not create:
        h.run(src, ["remote", "add", "r", old], check=True)
        h.run(src, ["push", "r"], check=True)
        h.run(src, ["remote", "remove", "r"], check=True)
        old_head = len(commits(old)) - 1
    h.run(src, ["mkdir", "/d"], check=True)
    h.run(src, ["copy", "host:big2.bin", "/d/b2"], check=True)
    h.run(src, ["copy", "host:v1.txt", "/s"], check=True)
    h.run(src, ["rm", "/big"], check=True)
    new_head = len(commits(src)) - 1
    remote = os.path.join(h.tmp, "rremote")
    h.run(src, ["remote", "add", "r", remote], check=True)

    def reset():
        shutil.rmtree(remote, ignore_errors=True)
        shutil.rmtree(os.path.join(h.tmp, ".rremote.pond-incoming"), ignore_errors=True)
        if not create:
            shutil.copytree(old, remote, symlinks=True)

    reset()
    p, tr = h.mutating_calls(src, ["push", "r"])
    if p.returncode != 0:
        raise h.Fail("baseline push: exit %d: %s" % (p.returncode, p.stderr.decode()))
    n = sum(1 for l in tr if l[2] not in ("open", "exit", "fault"))
    check_remote(h, src, remote, new_head, new_head, "baseline")
    stride = max(1, n // 4) if h.quick else 1
    for k in list(range(1, n + 1, stride)) + [n]:
        reset()
        r = h.run(src, ["push", "r"], fault="crash:any:%d" % k)
        what = "push crashed before mutating call %d/%d" % (k, n)
        if r.returncode != CRASH_RC:
            raise h.Fail("%s: exit %d, not a crash: %s" % (what, r.returncode, r.stderr.decode()))
        if os.path.isdir(os.path.join(remote, "_delta_log")):
            check_remote(h, src, remote, max(old_head, 0), new_head, what)
        elif not create:
            raise h.Fail("%s: the old remote is gone" % what)
        r = h.run(src, ["push", "r"])
        if r.returncode != 0:
            raise h.Fail("%s: the next push failed: %s" % (what, r.stderr.decode()))
        check_remote(h, src, remote, new_head, new_head, what + ", then pushed again")
        h.states += 1


def power_push(h):
    """Power cuts during an incremental push of one batch of commits: for cut points of the
    push (sampled with --quick, always with the cut inside the batch), the remote as a power cut
    could leave it (tests/crash/powerloss.py: what was not fsynced lost, torn or garbage;
    un-fsynced directory entries reverted, in any combination) must read as the source at some
    transaction (a gap only where the push intent explains it), fsck clean, unchanged by
    read-only commands, and a push into it must complete."""
    import powerloss
    src = h.fresh("rsrc")
    h.run(src, ["init"], check=True)
    h.run(src, ["copy", "host:big.bin", "/big"], check=True)
    old = h.fresh("rold")
    h.run(src, ["remote", "add", "r", old], check=True)
    h.run(src, ["push", "r"], check=True)
    h.run(src, ["remote", "remove", "r"], check=True)
    old_head = len(commits(old)) - 1
    h.run(src, ["copy", "host:small.txt", "/s"], check=True)
    h.run(src, ["copy", "host:big2.bin", "/b2"], check=True)
    h.run(src, ["copy", "host:v1.txt", "/s"], check=True)
    new_head = len(commits(src)) - 1
    remote = os.path.join(h.tmp, "rremote")
    variant = os.path.join(h.tmp, "rpower")
    h.run(src, ["remote", "add", "r", remote], check=True)
    h.run(src, ["remote", "add", "v", variant], check=True)
    shutil.rmtree(remote, ignore_errors=True)
    shutil.copytree(old, remote, symlinks=True)
    p, tr = h.mutating_calls(src, ["push", "r"])
    muts = [l for l in tr if l[2] not in ("open", "exit", "fault")]
    n = len(muts)
    # inside the batch: after the last commit's link, before the one fsync of _delta_log/ (a
    # cut there may keep a later commit's name and lose an earlier one's); every variant of it
    # is checked even when quick
    links = [i + 1 for i, l in enumerate(muts) if l[2] == "link" and
             re.search(r"/_delta_log/\d{20}\.json$", l[4])]
    if len(links) < 2:
        raise h.Fail("power_push: the push linked %d commits, not a batch" % len(links))
    inside = links[-1]
    cuts = list(range(1, n + 1))
    if h.quick:
        cuts = sorted(set(cuts[::max(1, n // 3)] + [n, inside]))
    tpath = os.path.join(h.tmp, "rpower-trace.txt")
    for k in cuts:
        shutil.rmtree(remote, ignore_errors=True)
        shutil.copytree(old, remote, symlinks=True)
        if os.path.exists(tpath):
            os.unlink(tpath)
        r = h.run(src, ["push", "r"], fault="crash:any:%d" % (k + 1), trace=tpath)
        if r.returncode not in (CRASH_RC, 0):
            raise h.Fail("power cut %d/%d: exit %d: %s" % (k, n, r.returncode, r.stderr.decode()))
        try:
            m = powerloss.Model(old, remote, powerloss.parse_trace(tpath))
        except powerloss.ModelError as e:
            raise h.Fail("power cut %d/%d: model: %s" % (k, n, e))
        for label, rev, mode in m.variants(h.quick and k != inside, k):
            entries, _, exists = m.build(rev, mode, "push/%d/%s" % (k, label))
            what = "push, power cut after mutating call %d/%d (%s)" % (k, n, label)
            shutil.rmtree(variant, ignore_errors=True)
            powerloss.write_tree(variant, entries, exists)
            check_remote(h, src, variant, old_head, new_head, what, cut=True)
            r = h.run(src, ["push", "v"])
            if r.returncode != 0:
                raise h.Fail("%s: the next push failed: %s" % (what, r.stderr.decode()))
            check_remote(h, src, variant, new_head, new_head, what + ", then pushed again")
            h.states += 1
            h.power += 1
