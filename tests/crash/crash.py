#!/usr/bin/env python3
"""pond reliability harness (docs/reliability.md).

Runs small CLI scenarios and, for every mutating OS call of each step, re-runs the step with a
crash (POND_FAULT=crash:any:N) or an injected fault (EIO/ENOSPC once or persistent, short
write, EINTR), then checks that the pond shows exactly the old or the new state, that every
file's content is right, that fsck finds nothing missing or corrupt and that a further commit
and `gc --grace 0s` succeed. Also: a lint of the mutating-call trace (POND_TRACE), two
concurrent writers, gc racing a deduplicating writer, and corruption of blobs, data files and
commit files.

usage: crash.py POND_BIN [--quick] [--only NAME[,NAME...]] [--repeat N]
Last line: "N passed, N failed" (plus the number of states checked on the line before).
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

import powerloss
import repl_crash

CRASH_RC = 77


class Fail(Exception):
    pass


class Mutant(Exception):
    """power_detects: a mutation that does not apply (the trace changed shape)."""


class H:
    Fail = Fail  # for scenario modules (repl_crash.py)
    def __init__(self, pond_bin, quick):
        self.quick = quick
        self.tmp = tempfile.mkdtemp(prefix="pond-crash-")
        # a private copy: a rebuild during a long run must not swap the binary under it
        self.bin = os.path.join(self.tmp, "pond")
        shutil.copy2(pond_bin, self.bin)
        self.host = os.path.join(self.tmp, "host")
        os.makedirs(self.host)
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.states = 0
        self.faults = 0
        self.inert = 0
        self.power = 0
        self.round = 0
        self.power_cuts = 0
        self.power_dups = 0
        rnd = random.Random(1234)
        self.files = {}
        self.files["small.txt"] = b"hello, pond\n"
        self.files["big.bin"] = bytes(rnd.getrandbits(8) for _ in range(100 * 1024))
        self.files["big2.bin"] = bytes(rnd.getrandbits(8) for _ in range(70 * 1024))
        for k in range(4):
            self.files["v%d.txt" % k] = ("version %d of a small file\n" % k).encode() * (k + 1)
        self.files["s.csv"] = b"ts,v\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n"
        for name, data in self.files.items():
            with open(os.path.join(self.host, name), "wb") as f:
                f.write(data)

    # ---- running pond -------------------------------------------------------------------
    def run(self, pond, args, fault=None, trace=None, check=False):
        env = dict(os.environ)
        env["POND"] = pond
        env["TZ"] = "UTC"
        # under ASan, a memory error must not pass for pond's own "exit 1" error
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":exitcode=86").lstrip(":")
        env.pop("POND_FAULT", None)
        env.pop("POND_TRACE", None)
        if fault:
            env["POND_FAULT"] = fault
        if trace:
            env["POND_TRACE"] = trace
        p = subprocess.run([self.bin] + args, cwd=self.host, env=env, capture_output=True,
                           timeout=120)
        if check and p.returncode != 0:
            raise Fail("pond %s: exit %d: %s" % (" ".join(args), p.returncode,
                                                 p.stderr.decode(errors="replace").strip()))
        return p

    def mutating_calls(self, pond, args):
        """Runs args on a copy of pond with the trace on; returns (rc, trace lines)."""
        t = os.path.join(self.tmp, "trace.txt")
        if os.path.exists(t):
            os.unlink(t)
        p = self.run(pond, args, trace=t)
        with open(t) as f:
            lines = [l.split() for l in f]
        return p, lines

    # ---- state capture ------------------------------------------------------------------
    def state(self, pond, keep_time=False):
        """A comparable snapshot: listing (without times), every file's bytes, commit count.
        None when the directory is not a pond."""
        p = self.run(pond, ["list", "--json", "/**"])
        if p.returncode != 0:
            err = p.stderr.decode(errors="replace")
            if "not a pond" in err or "no such" in err.lower() or "not found" in err:
                return None
            raise Fail("list: exit %d: %s" % (p.returncode, err.strip()))
        entries = json.loads(p.stdout.decode() or "[]")
        snap = []
        for e in entries:
            if not keep_time:
                e.pop("time", None)
            if e["type"].startswith("file:"):
                c = self.run(pond, ["cat", e["path"]])
                if c.returncode != 0:
                    raise Fail("cat %s: exit %d: %s" % (e["path"], c.returncode,
                                                        c.stderr.decode(errors="replace")))
                e["content"] = c.stdout.hex()
            snap.append(json.dumps(e, sort_keys=True))
        log = self.run(pond, ["log"], check=True).stdout.decode().splitlines()
        # automatic compactions (OPTIMIZE) change no visible state: a crash between a command's
        # commit and the compaction it triggers leaves the new state
        log = [l for l in log if not l.rstrip().endswith("OPTIMIZE")]
        return (len(log), tuple(snap))

    def fsck(self, pond, want_clean_garbage=False):
        p = self.run(pond, ["fsck", "-q"])
        out = p.stdout.decode() + p.stderr.decode()
        m = re.search(r"(\d+) missing, (\d+) corrupt, (\d+) unreferenced blobs, (\d+) orphan "
                      r"data files, (\d+) stale temp files", out)
        if p.returncode != 0 or not m:
            raise Fail("fsck: exit %d: %s" % (p.returncode, out.strip()))
        if int(m.group(1)) or int(m.group(2)):
            raise Fail("fsck: %s" % out.strip())
        if want_clean_garbage and (int(m.group(3)) or int(m.group(4)) or int(m.group(5))):
            raise Fail("fsck after gc --grace 0s still finds garbage: %s" % out.strip())

    def after_checks(self, pond):
        """fsck clean, then a further commit and gc --grace 0s succeed, then no garbage."""
        self.fsck(pond)
        self.run(pond, ["mkdir", "-p", "/after-crash"], check=True)
        self.run(pond, ["gc", "--grace", "0s"], check=True)
        self.fsck(pond, want_clean_garbage=True)

    # ---- scenarios ------------------------------------------------------------------------
    def scenarios(self):
        """(name, setup commands, steps); each step is one command enumerated on its own."""
        return [
            ("create", [], [["init"]]),
            ("csv-import", [["init"]], [["copy", "--type", "table", "host:s.csv", "/t"]]),
            ("large", [["init"]], [["copy", "host:big.bin", "/big"]]),
            ("large-dup", [["init"], ["copy", "host:big.bin", "/big"]],
             [["copy", "host:big.bin", "/big-copy"]]),
            ("delete", [["init"], ["copy", "host:big.bin", "host:small.txt", "/"]],
             [["rm", "/big.bin"]]),
            ("chain", [["init"]],
             [["mkdir", "/d"], ["copy", "host:small.txt", "/d/a"], ["mv", "/d/a", "/d/b"]]),
            ("gc-retention", [["init"], ["copy", "host:big.bin", "/f"],
                              ["copy", "host:big2.bin", "/f"], ["copy", "host:small.txt", "/g"],
                              ["rm", "/g"]],
             [["gc", "--keep-versions", "1", "--grace", "0s"]]),
            # the 64th data file of a partition makes the committing writer merge it: 7 files
            # of level 0 and its own into one of level 1, then 8 of level 1 into one of level 2
            # (tiered merging, docs/format.md; 63 commits over 4 files: versions, so that a
            # state has few files to cat)
            ("auto-compact", [["init"]] + [["copy", "host:v%d.txt" % (i // 4 % 4), "/f%d" % (i % 4)]
                                           for i in range(63)],
             [["copy", "host:big.bin", "/big"]]),
            ("compact", [["init"], ["mkdir", "/d"], ["copy", "host:small.txt", "/d/a"],
                         ["copy", "host:big.bin", "/d/b"], ["copy", "host:small.txt", "/e"]],
             [["gc", "--compact", "--grace", "0s"]]),
            self.compact_series_scenario(),
            self.derived_scenario(),
            self.series_home_scenario(),
            self.series_partial_scenario(),
            self.compact_groups_scenario(),
        ]

    def compact_groups_scenario(self):
        """gc --compact of a series of 70 versions: the merged data file has two row groups,
        its footer lists their hashes and its add action carries the footer's hash
        (docs/format.md, "Row-group hashes"), written by the one commit that adds the file.
        Every crash state reads every version's rows and fscks clean (fsck checks the footer
        against its tag and each group against the footer)."""
        for d in range(70):
            with open(os.path.join(self.host, "g%d.csv" % d), "w") as f:
                f.write("ts,v\n2024-04-01T%02d:%02d:00Z,%d\n" % (d // 60, d % 60, d))
        setup = [["init"]] + [["copy", "--type", "series", "host:g%d.csv" % d, "/s"]
                              for d in range(70)]
        return ("compact-groups", setup, [["gc", "--compact", "--grace", "0s"]])

    def series_partial_scenario(self):
        """Appends that load the series' partition partially (docs/decisions.md, "Partial
        loads"): 15 daily versions (one merged file of 8 and 7 single ones), then the 16th day,
        whose commit merges the newest 8 files having loaded only those; then day 2 again with
        other values, whose identical check reads the old merged file holding day 2 apart (a
        new version: an identical re-import commits nothing, so it is no step here; the unit
        test series_index::append_oplog_bounded has it). Every crash state reads every
        version's rows, old or new."""
        for d in range(17):
            with open(os.path.join(self.host, "p%d.csv" % d), "w") as f:
                f.write("ts,v\n2024-03-%02dT00:00:00Z,%d\n2024-03-%02dT12:00:00Z,%d\n"
                        % (d + 1, d, d + 1, -d))
        with open(os.path.join(self.host, "p2b.csv"), "w") as f:
            f.write("ts,v\n2024-03-03T00:00:00Z,200\n")
        setup = [["init"]] + [["copy", "--type", "series", "host:p%d.csv" % d, "/s"]
                              for d in range(15)]
        return ("series-partial", setup,
                [["copy", "--type", "series", "host:p15.csv", "/s"],
                 ["copy", "--type", "series", "host:p2b.csv", "/s"]])

    def series_home_scenario(self):
        """A new series is its own home partition (docs/format.md, "Home partitions"): its
        first version creates the directory part_id=<series id>/ and the commit writes two
        data files (the listing in the directory's partition names the series' home). Every
        crash state shows the series with all of its rows or no series, never a listing
        without the versions; then a second version and a move to another directory (the
        versions stay home) are cut the same way."""
        rows = {"h1.csv": "ts,v\n2024-02-01T00:00:00Z,1\n2024-02-01T00:10:00Z,2\n",
                "h2.csv": "ts,v\n2024-02-01T00:20:00Z,3\n"}
        for name, text in rows.items():
            with open(os.path.join(self.host, name), "w") as f:
                f.write(text)
        setup = [["init"], ["mkdir", "/d", "/e"], ["copy", "host:small.txt", "/d/a"]]
        return ("series-home", setup,
                [["copy", "--type", "series", "host:h1.csv", "/d/s"],
                 ["copy", "--type", "series", "host:h2.csv", "/d/s"],
                 ["mv", "/d/s", "/e/s"]])

    def compact_series_scenario(self):
        """Series compaction (gc --compact-series): three versions of a series, one of them
        late data overlapping the others, become one version recording the versions it
        replaces; then retention drops the replaced versions. Every crash state reads the
        same rows (cat of a series is its rows), in the old layout or the new."""
        rows = {"s1.csv": "ts,v\n2024-01-01T00:00:00Z,1\n2024-01-01T00:01:00Z,2\n",
                "s2.csv": "ts,v\n2024-01-01T00:02:00Z,3\n",
                "s3.csv": "ts,v\n2024-01-01T00:01:00Z,20\n2024-01-01T00:03:00Z,4\n"}
        for name, text in rows.items():
            with open(os.path.join(self.host, name), "w") as f:
                f.write(text)
        setup = [["init"]] + [["copy", "--type", "series", "host:" + n, "/s"] for n in rows] + \
                [["set", "/s", "dedup=last"]]
        return ("compact-series", setup,
                [["gc", "--compact-series", "--grace", "0s"],
                 ["gc", "--keep-versions", "1", "--grace", "0s"]])

    def derived_scenario(self):
        """An append to a series that refreshes the hourly rollup over it and the daily
        rollup over that, with late data in an old bucket, and a sql recipe over it whose
        recompute replaces its earlier version (docs/derived.md): the source, both rollups
        and the view are written by one commit, so every crash state shows all four old or
        all four new (the state compares every file's rows)."""
        rows = {"d1.csv": "ts,k,v\n2024-01-01T00:10:00Z,a,1\n2024-01-01T00:20:00Z,b,2\n"
                          "2024-01-01T05:00:00Z,a,3\n",
                "d2.csv": "ts,k,v\n2024-01-01T00:30:00Z,a,10\n2024-01-02T01:00:00Z,b,4\n"}
        for name, text in rows.items():
            with open(os.path.join(self.host, name), "w") as f:
                f.write(text)
        setup = [["init"], ["copy", "--type", "series", "host:d1.csv", "/s"],
                 ["derive", "rollup", "/h", "--source", "/s", "--every", "1h", "--by", "k"],
                 ["derive", "rollup", "/d", "--source", "/h", "--every", "1d"],
                 ["derive", "sql", "/v", "--source", "s=/s", "--sql",
                  "SELECT ts, k, v * 2 AS v2 FROM s WHERE v >= (SELECT avg(v) FROM s)"]]
        return ("derived", setup, [["copy", "--type", "series", "host:d2.csv", "/s"]])

    def fresh(self, name):
        d = os.path.join(self.tmp, name)
        shutil.rmtree(d, ignore_errors=True)
        return d

    def clone(self, src, name):
        d = self.fresh(name)
        if os.path.exists(src):
            shutil.copytree(src, d, symlinks=True)
        return d

    def check_content(self, st):
        """Host files copied in must read back byte-identical (independent of the pond)."""
        if st is None:
            return
        for e in st[1]:
            e = json.loads(e)
            if e["type"] != "file:data":
                continue
            data = bytes.fromhex(e["content"])
            if data not in self.files.values():
                raise Fail("%s: content is not any of the host files (%d bytes)"
                           % (e["path"], len(data)))

    def test(self, name, fn):
        try:
            skipped = self.skipped
            fn()
            if self.skipped == skipped:
                self.passed += 1
        except (Fail, OSError, ValueError, subprocess.SubprocessError) as e:
            self.failed += 1
            print("FAIL crash::%s  %s: %s" % (name, type(e).__name__, e))
            sys.stdout.flush()

    # ---- 1. crash points ----------------------------------------------------------------------
    def step_points(self, base, args):
        """Baseline run of one step on a copy: (old state, new state, #mutating calls, trace)."""
        old = self.state(base) if os.path.exists(base) else None
        work = self.clone(base, "baseline")
        p, tr = self.mutating_calls(work, args)
        if p.returncode != 0:
            raise Fail("baseline %s: exit %d: %s" % (args, p.returncode, p.stderr.decode()))
        new = self.state(work)
        self.check_content(new)
        if new == old:
            raise Fail("baseline %s changed nothing" % args)
        n = sum(1 for l in tr if l[2] not in ("open", "exit", "fault"))
        return old, new, n, tr

    def crash_scenario(self, name, setup, steps):
        base = self.fresh("base")
        for a in setup:
            self.run(base, a, check=True)
        for args in steps:
            old, new, n, _ = self.step_points(base, args)
            if name == "auto-compact":
                before = self.run(base, ["log"], check=True).stdout.count(b"OPTIMIZE")
                log = self.run(os.path.join(self.tmp, "baseline"), ["log"], check=True).stdout
                if log.count(b"OPTIMIZE") <= before:
                    raise Fail("the step did not trigger an automatic compaction")
            points = 6 if name == "auto-compact" else 8
            stride = max(1, n // points) if self.quick else 1
            for k in list(range(1, n + 1, stride)) + [n + 1]:
                work = self.clone(base, "work")
                p = self.run(work, args, fault="crash:any:%d" % k)
                if k <= n and p.returncode != CRASH_RC:
                    raise Fail("%s: crash point %d/%d did not crash (exit %d)"
                               % (args, k, n, p.returncode))
                if k > n and p.returncode != 0:
                    raise Fail("%s: run past the last call failed (exit %d)" % (args, p.returncode))
                st = self.state(work)
                if k > n:
                    ok = st == new
                else:
                    ok = st in (old, new)
                if not ok:
                    raise Fail("%s: crash before mutating call %d/%d: state is neither old nor "
                               "new:\n  got %s\n  old %s\n  new %s" % (args, k, n, st, old, new))
                self.check_content(st)
                if st is None:
                    # an interrupted create: init must succeed now
                    self.run(work, args, check=True)
                self.after_checks(work)
                self.states += 1
            self.run(base, args, check=True)

    # ---- 2. trace lint ------------------------------------------------------------------------
    def lint(self, args, tr, partial=False):
        """Checks the mutating-call trace of one successful command. partial: the trace of a
        run cut short (power-loss part): every rule but "new entries' directories fsynced
        before success", which only holds at the end."""
        last_write, last_sync, created = {}, {}, {}
        dir_sync = {}
        all_sync = 0  # the last syncfs: every file and directory durable
        seq = 0
        problems = []
        commit_re = re.compile(r"/_delta_log/\d{20}\.json$")
        for l in tr:
            seq += 1
            call, path, path2, rc = l[2], l[3], l[4], int(l[6])
            if rc < 0 and call != "open":
                if call == "fsync" and path in [x[3] for x in tr[seq:] if x[2] == "fsync"]:
                    problems.append("fsync of %s retried after a failure" % path)
                continue
            if call in ("write", "pwrite", "ftruncate"):
                last_write[path] = seq
                if commit_re.search(path):
                    problems.append("commit file %s written in place" % path)
            elif call == "fsync":
                last_sync[path] = seq
                dir_sync[path] = seq
            elif call == "syncfs":
                all_sync = seq
            elif call == "open":
                if commit_re.search(path):
                    problems.append("commit file %s opened for writing" % path)
                created.setdefault(path, seq)
            elif call in ("rename", "link"):
                synced = max(last_sync.get(path, 0), all_sync)
                if last_write.get(path, 0) > synced or (path in last_write and not synced):
                    problems.append("%s %s -> %s before an fsync after its last write"
                                    % (call, path, path2))
                if call == "rename" and commit_re.search(path2):
                    problems.append("rename onto commit file %s (overwrites)" % path2)
                created[path2] = seq
                if call == "rename":
                    created.pop(path, None)
                # the new name has the old name's data
                last_write[path2] = last_write.get(path, 0)
                last_sync[path2] = max(last_sync.get(path, 0), all_sync)
            elif call == "mkdir":
                created[path] = seq
            elif call in ("unlink", "unlinkat", "rmdir"):
                created.pop(path, None)
        for path, s in (created.items() if not partial else ()):
            if path.endswith(".lock") or "/tmp/" in path.replace(self.tmp, ""):
                continue
            parent = os.path.dirname(path)
            if max(dir_sync.get(parent, 0), all_sync) < s:
                problems.append("new entry %s: directory %s not fsynced afterwards"
                                % (path, parent))
        if problems:
            raise Fail("%s: trace lint:\n    %s" % (" ".join(args), "\n    ".join(problems)))

    def lint_scenario(self, name, setup, steps):
        base = self.fresh("base")
        for a in setup:
            self.run(base, a, check=True)
        for args in steps:
            _, _, _, tr = self.step_points(base, args)
            self.lint(args, tr)
            self.run(base, args, check=True)

    def lint_selftest(self):
        """The lint flags each kind of violation in a synthetic trace (and passes a good one)."""
        d = self.tmp + "/p"

        def t(*calls):
            return [["1", str(i + 1)] + c.split() for i, c in enumerate(calls)]
        good = t("open %s/_delta_log/.tmp-1.json - 5 5 0 excl" % d,
                 "write %s/_delta_log/.tmp-1.json - 5 10 0" % d,
                 "fsync %s/_delta_log/.tmp-1.json - 5 0 0" % d,
                 "link %s/_delta_log/.tmp-1.json %s/_delta_log/00000000000000000001.json -1 0 0"
                 % (d, d),
                 "unlink %s/_delta_log/.tmp-1.json - -1 0 0" % d,
                 "fsync %s/_delta_log - 5 0 0" % d)
        self.lint(["good"], good)
        bad = {
            "no fsync before link": [good[0], good[1], good[3], good[4], good[5]],
            "no directory fsync": good[:5],
            "rename onto a commit": good[:3] + t(
                "rename %s/_delta_log/.tmp-1.json %s/_delta_log/00000000000000000001.json -1 0 0"
                % (d, d)) + [good[5]],
            "commit written in place": t(
                "open %s/_delta_log/00000000000000000001.json - 5 5 0 noexcl,trunc" % d,
                "write %s/_delta_log/00000000000000000001.json - 5 10 0" % d,
                "fsync %s/_delta_log/00000000000000000001.json - 5 0 0" % d,
                "fsync %s/_delta_log - 5 0 0" % d),
            "fsync retried": good[:2] + t("fsync %s/_delta_log/.tmp-1.json - 5 -1 5" % d) +
            good[2:],
        }
        for what, tr in bad.items():
            try:
                self.lint([what], tr)
            except Fail:
                continue
            raise Fail("the lint misses: %s" % what)

    # ---- 2b. power loss ------------------------------------------------------------------------
    def power_scenario(self, name, setup, steps):
        """For every cut point k of a step (after k mutating calls; k = M: after the command
        exited 0), the crash state is taken from a real run (POND_FAULT=crash:any:k+1, with
        its own trace) and what was not durable at that point is undone per the trace
        (tests/crash/powerloss.py): each variant must hold the same properties as a crash
        state. The new state is required once success was reported (exit 0 or output
        printed) or the step's commit link was made durable by an fsync of _delta_log."""
        base = self.fresh("base")
        for a in setup:
            self.run(base, a, check=True)
        for si, args in enumerate(steps):
            old, new, n, _ = self.step_points(base, args)
            cuts = list(range(1, n + 1))
            if self.quick:
                cuts = sorted(set(cuts[::max(1, n // 6)] + [n]))
            for k in cuts:
                self.power_cut(base, args, k, n, old, new, "%s/%d" % (name, si))
            self.run(base, args, check=True)

    def power_cut(self, base, args, k, n, old, new, tag, drop=None):
        """Checks every power-loss variant of cut k. drop: a predicate on trace lines removed
        before the model sees them (power_detects: a pond that forgot an fsync)."""
        work = self.clone(base, "work")
        tpath = os.path.join(self.tmp, "power-trace.txt")
        if os.path.exists(tpath):
            os.unlink(tpath)
        p = self.run(work, args, fault="crash:any:%d" % (k + 1), trace=tpath)
        if p.returncode != (CRASH_RC if k < n else 0):
            raise Fail("%s: cut %d/%d: exit %d: %s" % (args, k, n, p.returncode,
                                                      p.stderr.decode(errors="replace")))
        with open(tpath) as f:
            raw = [l.split() for l in f]
        # the lint's rules hold on every prefix; at k = M the whole trace is linted
        self.lint(args, raw, partial=k < n)
        trace = powerloss.parse_trace(tpath)
        if drop:
            kept = [r for r in trace if not drop(r, trace)]
            if len(kept) == len(trace):
                raise Mutant("the mutation matches no line of the trace")
            trace = kept
        try:
            m = powerloss.Model(base, work, trace)
        except powerloss.ModelError as e:
            raise Fail("%s: cut %d/%d: power-loss model: %s" % (args, k, n, e))
        self.power_cuts += 1
        reported = p.returncode == 0 or bool(p.stdout.strip())
        need_new = reported or m.commit_durable()
        verbose = os.environ.get("POND_CRASH_VERBOSE")
        # the state as the crash left it is the crash part's: not counted again
        seen = {m.build([], "final", "")[1]}
        for label, rev, mode in m.variants(self.quick, k):
            entries, digest, exists = m.build(rev, mode, "%s/%d/%s" % (tag, k, label))
            what = "%s: power cut after mutating call %d/%d (%s)" % (" ".join(args), k, n,
                                                                     label)
            if digest in seen:
                self.power_dups += 1
                if verbose:
                    print("  %s: seen" % what)
                continue
            seen.add(digest)
            if verbose:
                print("  " + what)
            v = self.fresh("power")
            powerloss.write_tree(v, entries, exists)
            try:
                st = self.state(v)
            except Fail as e:
                raise Fail("%s: %s" % (what, e))
            if need_new and st != new:
                raise Fail("%s: success was reported or the commit was durable, but the state "
                           "is not the new one:\n  got %s\n  new %s" % (what, st, new))
            if st not in (old, new):
                raise Fail("%s: state is neither old nor new:\n  got %s\n  old %s\n  new %s"
                           % (what, st, old, new))
            try:
                self.check_content(st)
                if st is None:
                    self.run(v, args, check=True)
                self.after_checks(v)
            except Fail as e:
                raise Fail("%s: %s" % (what, e))
            self.states += 1
            self.power += 1

    def power_detects(self):
        """The power-loss check catches a missing fsync: the trace of a real `copy` is replayed
        as if pond had skipped (a) the fsync of the commit file before linking it, (b) the
        fsync of _delta_log after the link, (c) the fsync of the blob before its rename, (d)
        the fsync of the new blob's directory; each must make some variant fail."""
        base = self.fresh("base")
        self.run(base, ["init"], check=True)
        args = ["copy", "host:big.bin", "/big"]
        old, new, n, _ = self.step_points(base, args)
        blob_re = re.compile(r"/_large_files/[0-9a-f]{2}/[0-9a-f]{64}$")

        def published(tr, pattern):
            """Names renamed or linked onto a path matching pattern."""
            return {r["path"] for r in tr if r["call"] in ("rename", "link") and
                    re.search(pattern, r["path2"])}
        mutants = {
            "commit temp file not fsynced": lambda r, tr: r["call"] == "fsync" and
            r["path"] in published(tr, r"/_delta_log/\d{20}\.json$"),
            "_delta_log not fsynced": lambda r, tr: r["call"] == "fsync" and
            r["path"].endswith("/_delta_log"),
            "blob not fsynced": lambda r, tr: r["call"] == "fsync" and
            r["path"] in published(tr, blob_re.pattern),
            "blob directory not fsynced": lambda r, tr: r["call"] == "fsync" and
            re.search(r"/_large_files/[0-9a-f]{2}$", r["path"]) is not None,
        }
        saved = (self.states, self.power, self.power_cuts, self.power_dups, self.quick)
        self.quick = False
        try:
            for what, drop in mutants.items():
                try:
                    self.power_cut(base, args, n, n, old, new, "detects", drop=drop)
                except Mutant as e:
                    raise Fail("mutant '%s': %s" % (what, e))
                except Fail as e:
                    if os.environ.get("POND_CRASH_VERBOSE"):
                        print("  caught (%s): %s" % (what, str(e)[:300]))
                    continue
                raise Fail("a pond without the %s passes the power-loss check" % what)
        finally:
            self.states, self.power, self.power_cuts, self.power_dups, self.quick = saved

    def power_selftest(self):
        """The power-loss model gives the known answers on a synthetic trace."""
        problems = powerloss.selftest(self.tmp)
        if problems:
            raise Fail("power-loss model:\n    " + "\n    ".join(problems))

    # ---- 3. fault injection ----------------------------------------------------------------
    def fault_scenario(self, name, setup, steps):
        base = self.fresh("base")
        for a in setup:
            self.run(base, a, check=True)
        kinds = [("errno", "EIO", "0"), ("errno", "EIO", "1"), ("errno", "ENOSPC", "0"),
                 ("errno", "ENOSPC", "1"), ("short", "EIO", "0"), ("eintr", "EIO", "0")]
        msgs = {"EIO": "Input/output error", "ENOSPC": "No space left on device",
                "EINTR": "Interrupted system call"}
        for args in steps:
            old, new, n, tr = self.step_points(base, args)
            calls = [l for l in tr if l[2] not in ("open", "exit", "fault")]
            stride = max(1, n // 4) if self.quick else 1
            for k in range(1, n + 1, stride):
                # quick: two of the six fault kinds per call, rotating
                sel = [kinds[k % 6], kinds[(k + 3) % 6]] if self.quick else kinds
                for kind, err, persist in sel:
                    work = self.clone(base, "work")
                    spec = "%s:any:%d:%s:%s" % (kind, k, err, persist)
                    tpath = os.path.join(self.tmp, "fault-trace.txt")
                    if os.path.exists(tpath):
                        os.unlink(tpath)
                    p = self.run(work, args, fault=spec, trace=tpath)
                    if kind == "errno" and persist == "0" and calls[k - 1][2] == "fsync":
                        self.no_fsync_retry(tpath, calls[k - 1], spec, args)
                    what = "%s with %s (call %d: %s %s)" % (" ".join(args), spec, k,
                                                            calls[k - 1][2], calls[k - 1][3])
                    err_text = p.stderr.decode(errors="replace")
                    if p.returncode not in (0, 1):
                        raise Fail("%s: exit %d: %s" % (what, p.returncode, err_text))
                    st = self.state(work)
                    # EINTR is documented (and retried) for write/pwrite/ftruncate; on Linux
                    # local file systems fsync, mkdir, link, rename, unlink never return it, so
                    # there a clean failure is as good as a retry (docs/reliability.md)
                    retry_calls = ("write", "pwrite", "ftruncate")
                    if kind == "short" or (kind == "eintr" and calls[k - 1][2] in retry_calls):
                        if p.returncode != 0:
                            raise Fail("%s: not retried: exit %d: %s"
                                       % (what, p.returncode, err_text.strip()))
                        if p.returncode == 0 and st != new:
                            raise Fail("%s: succeeded with a different state" % what)
                    if p.returncode == 0:
                        # gc merges last: a merge a full disk stops is a warning, and the
                        # merge's commit (and only it) is then missing
                        skipped = "merging data files skipped" in err_text
                        if skipped and err != "ENOSPC":
                            raise Fail("%s: merge skipped for %s, not for lack of space: %s"
                                       % (what, err, err_text.strip()))
                        if st != new and not (skipped and st == old):
                            raise Fail("%s: reported success but the state is not new" % what)
                    else:
                        if kind == "eintr":
                            err = "EINTR"
                        if msgs[err] not in err_text:
                            raise Fail("%s: message does not name the error: %s"
                                       % (what, err_text.strip()))
                        if "/" not in err_text and "'" not in err_text:
                            raise Fail("%s: message names no path: %s" % (what, err_text.strip()))
                        if st not in (old, new):
                            raise Fail("%s: state is neither old nor new" % what)
                    self.check_content(st)
                    if st is None:
                        self.run(work, args, check=True)
                    self.after_checks(work)
                    self.states += 1
                    self.faults += 1
            self.run(base, args, check=True)

    def no_fsync_retry(self, tpath, failed, spec, args):
        """After an injected fsync failure, the same file or directory is never fsynced again
        (a retry could report success for data the kernel already dropped)."""
        with open(tpath) as f:
            tr = [l.split() for l in f]
        marks = [i for i, l in enumerate(tr) if l[2] == "fault"]
        if not marks:
            return
        m = marks[0]
        cands = {failed[3].replace("/baseline", "/work", 1)}
        for l in tr[:m]:
            if l[5] == failed[5] and l[3] != "-":
                cands.add(l[3])  # the file that fd named in this run (temp names hold the pid)
        for j, l in enumerate(tr[m + 1:], m + 1):
            if l[2] != "fsync" or l[3] not in cands:
                continue
            # a directory fsynced again after a new change in it (e.g. the withdrawn commit's
            # unlink) is a new sync, not a retry
            if any(os.path.dirname(x[3]) == l[3] or os.path.dirname(x[4]) == l[3]
                   for x in tr[m + 1:j] if x[2] in ("unlink", "unlinkat", "link", "rename", "mkdir")):
                continue
            if True:
                raise Fail("%s with %s: fsync of %s retried after the failure"
                           % (" ".join(args), spec, l[3]))

    # ---- 4. concurrency ----------------------------------------------------------------------
    def concurrency(self, n):
        pond = self.fresh("conc")
        self.run(pond, ["init"], check=True)
        env = dict(os.environ, POND=pond)
        script = ('for i in $(seq 1 %d); do printf "%%s-%%s\\n" "$W" "$i" > "$T/$W.in"; '
                  '"$B" copy "host:$T/$W.in" "/$W-$i" >/dev/null 2>>"$T/$W.err" '
                  '&& echo "$i"; done') % n
        procs = []
        for w in ("a", "b"):
            e = dict(env, W=w, T=self.tmp, B=self.bin)
            procs.append(subprocess.Popen(["bash", "-c", script], env=e, stdout=subprocess.PIPE))
        acked = {}
        for w, p in zip(("a", "b"), procs):
            out, _ = p.communicate(timeout=1200)
            acked[w] = [int(x) for x in out.split()]
        log = self.run(pond, ["log"], check=True).stdout.decode().split("\n")
        versions = sorted(int(l.split()[0]) for l in log if l.strip())
        if versions != list(range(0, len(versions))):
            raise Fail("versions not contiguous: %s" % versions[:20])
        total = len(acked["a"]) + len(acked["b"])
        if total != 2 * n:
            errs = open(os.path.join(self.tmp, "a.err")).read()[:300]
            raise Fail("only %d of %d commits acknowledged: %s" % (total, 2 * n, errs))
        # every acknowledged write is exactly one version; the only other commits are the
        # automatic compactions (OPTIMIZE) that a writer runs after its own commit
        cmds = [l.split(None, 2)[2] for l in log if l.strip() and int(l.split()[0]) > 0]
        copies = sorted(c.split()[-1] for c in cmds if c.startswith("pond copy"))
        others = [c for c in cmds if not c.startswith("pond copy")]
        if copies != sorted("/%s-%d" % (w, i) for w in acked for i in acked[w]):
            raise Fail("the log's copy commits differ from the acknowledged writes (%d vs %d)"
                       % (len(copies), total))
        if any(c != "OPTIMIZE" for c in others):
            raise Fail("unexpected commits in the log: %s" % others[:5])
        p = self.run(pond, ["list", "/**"], check=True)
        names = sorted(x for x in p.stdout.decode().split() if x != "/")
        want = sorted(["/%s-%d" % (w, i) for w in acked for i in acked[w]])
        if names != want:
            raise Fail("listing differs from the acknowledged writes (%d vs %d entries)"
                       % (len(names), len(want)))
        for w in acked:
            for i in acked[w][:: max(1, len(acked[w]) // 20)]:
                c = self.run(pond, ["cat", "/%s-%d" % (w, i)], check=True).stdout
                if c != ("%s-%d\n" % (w, i)).encode():
                    raise Fail("/%s-%d reads %r" % (w, i, c))
        self.fsck(pond)
        self.states += 1

    def gc_race(self, rounds):
        for r in range(rounds):
            pond = self.fresh("race")
            self.run(pond, ["init"], check=True)
            self.run(pond, ["copy", "host:big.bin", "/f"], check=True)
            self.run(pond, ["copy", "host:big2.bin", "/f"], check=True)
            env = dict(os.environ, POND=pond)
            # start both at once: gc drops version 1 of /f and with it the only reference to
            # big.bin's blob, while the writer dedups onto that blob
            gc = subprocess.Popen([self.bin, "gc", "--keep-versions", "1", "--grace", "0s"],
                                  env=env, cwd=self.host,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            wr = subprocess.Popen([self.bin, "copy", "host:big.bin", "/new"], env=env,
                                  cwd=self.host, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
            gerr = gc.communicate()[1]
            werr = wr.communicate()[1]
            if gc.returncode != 0 or wr.returncode != 0:
                raise Fail("round %d: gc exit %d (%s), copy exit %d (%s)"
                           % (r, gc.returncode, gerr, wr.returncode, werr))
            c = self.run(pond, ["cat", "/new"])
            if c.returncode != 0 or c.stdout != self.files["big.bin"]:
                raise Fail("round %d: /new unreadable after gc raced the writer: %s"
                           % (r, c.stderr.decode()))
            self.fsck(pond)
            self.states += 1

    # ---- gc on a full disk ---------------------------------------------------------------
    def full_disk_gc(self):
        """gc --keep-versions 1 on a pond whose file system (a small tmpfs) is full to the last
        page, crashed at each of its mutating calls: gc frees garbage first (data files a
        merge replaced), so its retention commit fits; every crash leaves the old or the new
        state, and once space is back the pond passes the usual after-checks."""
        mnt = os.path.join(self.tmp, "fulldisk")
        os.makedirs(mnt, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt],
                           capture_output=True)
        if p.returncode != 0:
            print("SKIP crash::full_disk_gc: cannot mount a tmpfs: %s"
                  % p.stderr.decode(errors="replace").strip())
            self.skipped += 1
            return
        try:
            self._full_disk_gc(mnt)
        finally:
            subprocess.run(["umount", mnt], capture_output=True)

    def _full_disk_gc(self, mnt):
        base = self.fresh("fdbase")
        rnd = random.Random(7)
        for name in ("fd1.bin", "fd2.bin"):
            with open(os.path.join(self.host, name), "wb") as f:
                f.write(bytes(rnd.getrandbits(8) for _ in range(2500000)))
        self.run(base, ["init"], check=True)
        self.run(base, ["copy", "host:fd1.bin", "/big"], check=True)
        self.run(base, ["copy", "host:fd2.bin", "/big"], check=True)
        for i in range(9):  # the 8th commit of the partition merges it: 8 replaced files
            self.run(base, ["copy", "host:v%d.txt" % (i % 4), "/s"], check=True)
        args = ["gc", "--keep-versions", "1", "--grace", "0s"]
        work = os.path.join(mnt, "p")

        def full_copy():
            for e in os.listdir(mnt):
                q = os.path.join(mnt, e)
                shutil.rmtree(q) if os.path.isdir(q) else os.unlink(q)
            shutil.copytree(base, work, symlinks=True)
            fd = os.open(os.path.join(mnt, "filler"), os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                for block in (1 << 20, 4096):
                    try:
                        while os.write(fd, b"\0" * block) > 0:
                            pass
                    except OSError:
                        pass
            finally:
                os.close(fd)
            if os.statvfs(mnt).f_bavail != 0:
                raise Fail("the tmpfs is not full")

        full_copy()
        old = self.state(work)
        p, tr = self.mutating_calls(work, args)
        if p.returncode != 0:
            raise Fail("gc on a full disk: exit %d: %s" % (p.returncode, p.stderr.decode()))
        if os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize < 2400000:
            raise Fail("gc on a full disk freed too little")
        new = self.state(work)
        n = sum(1 for l in tr if l[2] not in ("open", "exit", "fault"))
        stride = max(1, n // 8) if self.quick else 1
        for k in list(range(1, n + 1, stride)) + [n + 1]:
            full_copy()
            p = self.run(work, args, fault="crash:any:%d" % k)
            if k <= n and p.returncode != CRASH_RC:
                raise Fail("full disk: crash point %d/%d did not crash (exit %d: %s)"
                           % (k, n, p.returncode, p.stderr.decode(errors="replace")))
            if k > n and p.returncode != 0:
                raise Fail("full disk: run past the last call failed (exit %d)" % p.returncode)
            st = self.state(work)
            if st not in ((new,) if k > n else (old, new)):
                raise Fail("full disk: crash before mutating call %d/%d: state is neither old "
                           "nor new" % (k, n))
            os.unlink(os.path.join(mnt, "filler"))
            self.after_checks(work)
            self.states += 1

    # ---- 5. corruption -------------------------------------------------------------------
    def corruption(self):
        rnd = random.Random(99 + self.round)  # --repeat: other positions each round
        base = self.fresh("cbase")
        self.run(base, ["init"], check=True)
        self.run(base, ["copy", "host:big.bin", "host:small.txt", "/"], check=True)
        # a later commit, so that the damaged commit (1) is not the newest: losing the newest
        # commit whole is indistinguishable from a crash before it (fsck reports its files as
        # orphans); losing an older one must be an error
        self.run(base, ["mkdir", "/later"], check=True)
        want = {"/big.bin": self.files["big.bin"], "/small.txt": self.files["small.txt"]}

        def targets(pond):
            blobs = [os.path.join(dp, f) for dp, _, fs in os.walk(os.path.join(pond,
                     "_large_files")) for f in fs if re.fullmatch(r"[0-9a-f]{64}", f)]
            data = [os.path.join(dp, f) for dp, _, fs in os.walk(pond) for f in fs
                    if f.endswith(".parquet")]
            commits = sorted(os.path.join(pond, "_delta_log", f)
                             for f in os.listdir(os.path.join(pond, "_delta_log"))
                             if re.fullmatch(r"\d{20}\.json", f))
            return {"blob": blobs[0], "data": data[0], "commit": commits[1]}

        original = self.state(base, keep_time=True)
        muts = ["flip", "truncate", "append", "delete"]
        kinds = ["blob", "data", "commit"]
        reps = 2 if self.quick else 12
        for kind in kinds:
            for mut in muts:
                for rep in range(reps if mut == "flip" else 1):
                    pond = self.clone(base, "corrupt")
                    path = targets(pond)[kind]
                    with open(path, "rb") as f:
                        data = bytearray(f.read())
                    if mut == "flip":
                        pos = rnd.randrange(len(data))
                        data[pos] ^= 1 << rnd.randrange(8)
                    elif mut == "truncate":
                        data = data[: len(data) // 2]
                    elif mut == "append":
                        data += b"garbage"
                    what = "%s %s (%s)" % (mut, kind, os.path.relpath(path, pond))
                    if mut == "delete":
                        os.unlink(path)
                    else:
                        with open(path, "wb") as f:
                            f.write(data)
                    failed_read = False
                    for p_, content in want.items():
                        c = self.run(pond, ["cat", p_])
                        if c.returncode == 0 and c.stdout != content:
                            raise Fail("%s: cat %s returned wrong data" % (what, p_))
                        if c.returncode != 0:
                            failed_read = True
                            err = c.stderr.decode(errors="replace")
                            if c.returncode != 1 or not err.startswith("pond: ") or \
                                    len(err.strip()) < 12:
                                raise Fail("%s: cat %s: unclear failure (exit %d): %s"
                                           % (what, p_, c.returncode, err))
                    f = self.run(pond, ["fsck", "-q"])
                    if f.returncode not in (0, 1):
                        raise Fail("%s: fsck exit %d" % (what, f.returncode))
                    if f.returncode == 0:
                        # fsck found nothing: then the damage must be inert -- the whole
                        # visible state (listing, every file's bytes, the log) is unchanged
                        if failed_read:
                            raise Fail("%s: a read failed but fsck reports nothing" % what)
                        try:
                            st = self.state(pond, keep_time=True)
                        except Fail as e:
                            raise Fail("%s: fsck clean but the pond reads differently: %s"
                                       % (what, e))
                        if st != original:
                            raise Fail("%s: fsck clean but the state changed" % what)
                        self.inert += 1
                    self.states += 1


    # ---- 6. damaged checkpoints ------------------------------------------------------------
    def checkpoint_damage(self):
        """A pond whose newest checkpoint is truncated, zeroed or garbage reads right (the JSON
        commits stand in for it). `fsck --repair` rewrites it: crashed at any of its mutating
        calls, or failed by an injected fault, it leaves the visible state and every commit
        as they were, and a second repair completes (fsck clean, trace lint clean). A write on
        the damaged pond, crashed at any call, leaves the old or the new state; after a repair
        the usual checks hold (fsck, a further commit, gc)."""
        base = self.fresh("cpbase")
        self.run(base, ["init"], check=True)
        # checkpoints every 2 commits (the pond-wide setting, in commit 0's configuration)
        c0 = os.path.join(base, "_delta_log", "%020d.json" % 0)
        with open(c0) as f:
            text = f.read()
        with open(c0, "w") as f:
            f.write(text.replace('"configuration":{', '"configuration":{"pond.checkpoint_interval":"2",', 1))
        self.run(base, ["copy", "host:small.txt", "/a"], check=True)
        self.run(base, ["copy", "host:big.bin", "/b"], check=True)
        self.run(base, ["mkdir", "/d"], check=True)
        cp = os.path.join("_delta_log", "%020d.checkpoint.parquet" % 2)
        if not os.path.exists(os.path.join(base, cp)):
            raise Fail("no checkpoint at version 2: %s" % os.listdir(os.path.join(base, "_delta_log")))
        want = self.state(base)

        def commits(pond):
            d = os.path.join(pond, "_delta_log")
            return {f: open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))
                    if re.fullmatch(r"\d{20}\.json", f)}

        def damage(pond, how):
            path = os.path.join(pond, cp)
            size = os.path.getsize(path)
            data = {"truncate": open(path, "rb").read()[: size // 2], "zero": bytes(size),
                    "garbage": bytes(random.Random(size).getrandbits(8) for _ in range(size))}[how]
            with open(path, "wb") as f:
                f.write(data)

        def repaired_and_clean(pond, what):
            p = self.run(pond, ["fsck", "--repair"])
            if p.returncode != 0:
                raise Fail("%s: second repair: exit %d: %s" % (what, p.returncode, p.stderr.decode()))
            r = self.run(pond, ["list", "/"])
            if b"warning" in r.stderr:
                raise Fail("%s: a warning after the repair: %s" % (what, r.stderr.decode()))
            self.fsck(pond)

        repair = ["fsck", "--repair"]
        for how in ("truncate", "zero", "garbage"):
            dmg = self.clone(base, "cpdamaged")
            damage(dmg, how)
            if self.state(dmg) != want:
                raise Fail("%s checkpoint: the pond reads differently" % how)
            before = commits(dmg)
            work = self.clone(dmg, "cpwork")
            p, tr = self.mutating_calls(work, repair)
            if p.returncode != 0:
                raise Fail("%s checkpoint: repair exit %d: %s" % (how, p.returncode, p.stderr.decode()))
            self.lint(repair, tr)
            n = sum(1 for l in tr if l[2] not in ("open", "exit", "fault"))
            if n == 0:
                raise Fail("%s checkpoint: the repair wrote nothing" % how)
            stride = max(1, n // 3) if self.quick else 1
            for k in range(1, n + 1, stride):
                for fault in ["crash:any:%d" % k] + (["errno:any:%d:EIO:0" % k, "errno:any:%d:ENOSPC:1" % k]
                                                      if not self.quick or k % 2 else []):
                    work = self.clone(dmg, "cpwork")
                    p = self.run(work, repair, fault=fault)
                    what = "%s checkpoint, repair with %s" % (how, fault)
                    if fault.startswith("crash") and p.returncode != CRASH_RC:
                        raise Fail("%s: did not crash (exit %d)" % (what, p.returncode))
                    if not fault.startswith("crash") and p.returncode not in (0, 1):
                        raise Fail("%s: exit %d: %s" % (what, p.returncode, p.stderr.decode()))
                    if commits(work) != before:
                        raise Fail("%s: a commit changed" % what)
                    if self.state(work) != want:
                        raise Fail("%s: the visible state changed" % what)
                    repaired_and_clean(work, what)
                    self.states += 1
                    self.faults += not fault.startswith("crash")
            # a write on the damaged pond (its commit is a checkpoint version: 4); quick: for
            # the first damage only
            if self.quick and how != "truncate":
                continue
            args = ["copy", "host:v1.txt", "/w"]
            old, new, n, _ = self.step_points(dmg, args)
            stride = max(1, n // 6) if self.quick else 1
            for k in list(range(1, n + 1, stride)) + [n + 1]:
                work = self.clone(dmg, "cpwork")
                p = self.run(work, args, fault="crash:any:%d" % k)
                if (k <= n and p.returncode != CRASH_RC) or (k > n and p.returncode != 0):
                    raise Fail("%s checkpoint, %s crash point %d/%d: exit %d"
                               % (how, " ".join(args), k, n, p.returncode))
                st = self.state(work)
                if st not in ((old, new) if k <= n else (new,)):
                    raise Fail("%s checkpoint, %s crash point %d/%d: neither old nor new state"
                               % (how, " ".join(args), k, n))
                self.run(work, repair, check=True)
                self.after_checks(work)
                self.states += 1


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    h = H(os.path.abspath(args[0]), "--quick" in args)
    # --only A,B: tests whose name contains any of the substrings
    only = args[args.index("--only") + 1].split(",") if "--only" in args else None
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 1
    conc_n = int(os.environ.get("POND_CRASH_CONC_N", "20" if h.quick else "500"))
    tests = []
    for name, setup, steps in h.scenarios():
        for part, fn in (("crash", h.crash_scenario), ("lint", h.lint_scenario),
                         ("power", h.power_scenario), ("fault", h.fault_scenario)):
            if h.quick and name == "auto-compact" and part == "fault":
                continue  # 64 setup commits: only crash points, lint and power loss when quick
            tests.append(("%s_%s" % (part, name),
                          lambda fn=fn, name=name, setup=setup, steps=steps:
                          fn(name, setup, steps)))
    tests += [("lint_selftest", h.lint_selftest), ("power_selftest", h.power_selftest),
              ("power_detects", h.power_detects),
              ("concurrent_writers", lambda: h.concurrency(conc_n)),
              ("gc_races_dedup_writer", lambda: h.gc_race(3 if h.quick else 20)),
              ("full_disk_gc", h.full_disk_gc),
              ("corruption", h.corruption),
              ("crash_checkpoint_damage", h.checkpoint_damage),
              ("crash_push_incremental", lambda: repl_crash.push_scenario(h, False)),
              ("crash_push_create", lambda: repl_crash.push_scenario(h, True)),
              ("power_push", lambda: repl_crash.power_push(h))]
    tests = [(tn, fn) for tn, fn in tests if not only or any(o in tn for o in only)]
    try:
        for r in range(repeat):
            before = (h.passed, h.failed)
            h.round = r
            for tn, fn in tests:
                h.test(tn, fn)
            if repeat > 1:
                print("round %d/%d: %d passed, %d failed" % (r + 1, repeat, h.passed - before[0],
                                                           h.failed - before[1]))
                sys.stdout.flush()
    finally:
        shutil.rmtree(h.tmp, ignore_errors=True)
    print("%d power-loss states checked (%d cut points; %d variants equal to one already "
          "checked)" % (h.power, h.power_cuts, h.power_dups))
    print("%d states checked (%d with injected faults, %d after a power cut; %d corruptions "
          "inert and unreported by fsck)" % (h.states, h.faults, h.power, h.inert))
    if h.skipped:
        print("%d passed, %d failed, %d skipped" % (h.passed, h.failed, h.skipped))
    else:
        print("%d passed, %d failed" % (h.passed, h.failed))
    return 1 if h.failed else 0


if __name__ == "__main__":
    sys.exit(main())
