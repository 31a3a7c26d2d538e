#!/usr/bin/env node
// kill-check.mjs BEFORE AFTER DIR...   (ORACLE_DIR: the installed oracle)
// What a reader sees in each export directory DIR left by a killed `pond export`, checked with
// the oracle's DuckDB (and, for a Delta table, its log replay):
//   parquet (no _delta_log): every published .parquet file reads (no torn file), and every row
//     occurs at most as often as in BEFORE or in AFTER (no duplicate): a readable state;
//   delta: the log replays without error and the live files' rows are exactly BEFORE or AFTER.
// BEFORE and AFTER are Parquet files with the source's rows before and after the change.
// Prints one line per DIR ("ok DIR" or "FAIL DIR: why"); exit 1 if any failed.
import fs from 'node:fs';
import path from 'node:path';
const oracle = process.env.ORACLE_DIR;
const { duckConnect, duckCanon, sqlStr } = await import(oracle + '/lib/readers.mjs');
const { Report, replayLog } = await import(oracle + '/lib/delta.mjs');
const con = await duckConnect();
const [before, after, ...dirs] = process.argv.slice(2);

async function lines(sql) {
  const r = await con.stream(sql);
  const canon = r.columnTypes().map(duckCanon);
  const out = [];
  for (;;) {
    const c = await r.fetchChunk();
    if (!c || c.rowCount === 0) break;
    for (const row of c.getRows()) out.push(row.map((v, i) => canon[i](v)).join('\t'));
  }
  return out;
}
function counts(ls) {
  const m = new Map();
  for (const l of ls) m.set(l, (m.get(l) || 0) + 1);
  return m;
}
function sameMultiset(a, b) {
  if (a.length !== b.length) return false;
  const ma = counts(a);
  for (const [k, n] of counts(b)) if (ma.get(k) !== n) return false;
  return true;
}
const B = await lines(`select * from read_parquet(${sqlStr(before)})`);
const A = await lines(`select * from read_parquet(${sqlStr(after)})`);
const cb = counts(B), ca = counts(A);
function parquetFiles(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...parquetFiles(p));
    else if (e.name.endsWith('.parquet')) out.push(p);
  }
  return out;
}
let failed = 0;
for (const dir of dirs) {
  let why = null;
  try {
    if (fs.existsSync(path.join(dir, '_delta_log'))) {
      const rep = new Report();
      const snap = await replayLog(path.resolve(dir), rep);
      if (!snap || rep.errors.length) throw new Error('log: ' + (rep.errors[0] || 'no snapshot'));
      const files = [...snap.live.values()].map((a) => sqlStr(path.join(dir, decodeURIComponent(a.path))));
      const seen = files.length ? await lines(`select * from read_parquet([${files.join(',')}], hive_partitioning=false)`) : [];
      if (!sameMultiset(seen, B) && !sameMultiset(seen, A)) why = `${seen.length} rows: neither the state before (${B.length}) nor after (${A.length})`;
    } else {
      const files = parquetFiles(dir);
      const seen = files.length ? await lines(`select * from read_parquet([${files.map(sqlStr).join(',')}], hive_partitioning=false)`) : [];
      for (const [k, n] of counts(seen)) {
        if (n > Math.max(cb.get(k) || 0, ca.get(k) || 0)) { why = `row seen ${n} times: ${k}`; break; }
      }
    }
  } catch (e) {
    why = String(e.message).split('\n')[0];
  }
  if (why) { failed++; console.log(`FAIL ${dir}: ${why}`); } else console.log(`ok ${dir}`);
}
process.exit(failed ? 1 : 0);
