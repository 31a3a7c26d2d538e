#!/usr/bin/env node
// digest.mjs [--dump] QUERY...   (ORACLE_DIR: the installed oracle, for DuckDB and canon-v1)
// For each QUERY prints "rows=<n> digest=<order-independent canon-v1 digest>" of its result in
// DuckDB, one line each (--dump: the canonical lines of the one query, sorted). A QUERY of the
// form "live:DIR" reads the live data files of the Delta table DIR, as the oracle's own log
// replay lists them, with DuckDB's read_parquet (data columns only). One process for many
// queries: DuckDB starts once. Used by tests/export/*.sh to compare exports with pond cat.
import path from 'node:path';
const oracle = process.env.ORACLE_DIR;
if (!oracle) { console.error('digest.mjs: ORACLE_DIR is not set'); process.exit(2); }
const { duckConnect, duckCanon } = await import(oracle + '/lib/readers.mjs');
const { Digest } = await import(oracle + '/lib/canon.mjs');
const { Report, replayLog } = await import(oracle + '/lib/delta.mjs');
let args = process.argv.slice(2);
const dump = args[0] === '--dump';
if (dump) args = args.slice(1);
if (!args.length) { console.error('usage: digest.mjs [--dump] QUERY... (a query may be live:DIR)'); process.exit(2); }
const con = await duckConnect();
async function liveQuery(d) {
  const dir = path.resolve(d);
  const snap = await replayLog(dir, new Report());
  if (!snap) throw new Error('no Delta log in ' + dir);
  const files = [...snap.live.values()].map((a) => "'" + path.join(dir, decodeURIComponent(a.path)).replace(/'/g, "''") + "'");
  return files.length ? `select * from read_parquet([${files.join(',')}], hive_partitioning=false)` : 'select 1 where false';
}
for (let q of args) {
  try {
    if (q.startsWith('live:')) q = await liveQuery(q.slice(5));
    const result = await con.stream(q);
    const canon = result.columnTypes().map(duckCanon);
    const lines = [];
    const d = new Digest(result.columnNames(), { unordered: true, perColumn: false, onLine: dump ? (l) => lines.push(l) : null });
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      for (const r of chunk.getRows()) d.addRow(r.map((v, i) => canon[i](v)));
    }
    const out = d.finish();
    if (dump) process.stdout.write(lines.sort().join(''));
    else console.log(`rows=${out.rows} digest=${out.unorderedDigest}`);
  } catch (e) {
    console.log(`error: ${String(e.message).split('\n')[0]}`);
  }
}
