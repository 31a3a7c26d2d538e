#!/usr/bin/env python3
"""Writes a big Delta commit into a pond's _delta_log (tests/hostile/bigcommit.sh).

usage: bigcommit.py POND MB KIND
  KIND adds:     pond-like add actions of data files in partitions nothing refers to (a
                 commit that touched many directories), about MB megabytes of them
  KIND removes:  remove actions of files never added (tombstones), MB megabytes
  KIND oneline:  a single commitInfo line of MB megabytes
The commit is the pond's next version; its data files do not exist."""
import os
import sys

pond, mb, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
log = os.path.join(pond, "_delta_log")
latest = max(int(n[:20]) for n in os.listdir(log) if n.endswith(".json") and n[:20].isdigit())
v = latest + 1
target = mb * 1000 * 1000
info = ('{"commitInfo":{"timestamp":1700000000000,"operation":"WRITE","pondTxnSeq":%d,'
        '"pondMeta":{"pondCommand":["pond","bigcommit"]}}}\n' % v)
with open(os.path.join(log, "%020d.json" % v), "w") as f:
    if kind == "oneline":
        pad = target - len(info)
        f.write('{"commitInfo":{"timestamp":1700000000000,"operation":"WRITE","pad":"%s"}}\n'
                % ("x" * pad))
        sys.exit(0)
    f.write(info)
    size, i = len(info), 0
    while size < target:
        part = "01900000-0000-7000-8000-%012x" % i
        path = "part_id=%s/%020d-%08x.parquet" % (part, v, i)
        if kind == "adds":
            line = ('{"add":{"path":"%s","partitionValues":{"part_id":"%s"},"size":2345,'
                    '"modificationTime":1700000000000,"dataChange":true,"stats":"{\\"numRecords\\":1,'
                    '\\"minValues\\":{\\"node_id\\":\\"%s\\",\\"version\\":1,\\"txn_seq\\":%d,'
                    '\\"size\\":3},\\"maxValues\\":{\\"node_id\\":\\"%s\\",\\"version\\":1,'
                    '\\"txn_seq\\":%d,\\"size\\":3},\\"nullCount\\":{\\"node_id\\":0,\\"version\\":0,'
                    '\\"txn_seq\\":0,\\"size\\":0}}","tags":{"pond.sha256":"%064x"}}}\n'
                    % (path, part, part, v, part, v, i))
        else:
            line = ('{"remove":{"path":"%s","partitionValues":{"part_id":"%s"},'
                    '"deletionTimestamp":1700000000000,"dataChange":true}}\n' % (path, part))
        f.write(line)
        size += len(line)
        i += 1
