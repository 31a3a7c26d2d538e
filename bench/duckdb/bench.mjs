#!/usr/bin/env node
// DuckDB side of bench/parquet.sh. Loads the benchmark rows from pond's zstd file into an
// in-memory table (untimed), then times, with SET threads=THREADS (default 1):
//   COPY to Parquet with zstd and with snappy, a full read of DuckDB's zstd file summing every
//   column, and a read of the 1% time range [lo, hi] (microseconds).
// usage: node bench.mjs SRC.parquet OUTDIR LO_US HI_US [REPS] [THREADS]
// Prints key=value lines.
import { DuckDBInstance } from '@duckdb/node-api';
import { statSync } from 'node:fs';

const [src, dir, lo, hi, repsArg, threadsArg] = process.argv.slice(2);
if (!src || !dir || !lo || !hi) {
  console.error('usage: node bench.mjs SRC.parquet OUTDIR LO_US HI_US [REPS]');
  process.exit(2);
}
const reps = Number(repsArg || 3);
const q = (s) => "'" + s.replace(/'/g, "''") + "'";
const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
const threads = Math.max(1, Number(threadsArg || 1) | 0);
await conn.run(`SET threads=${threads}`);
await conn.run(`CREATE TABLE t AS SELECT * FROM read_parquet(${q(src)})`);
const rows = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM t')).getRowObjects()[0].n);

async function timed(sql) {
  let best = Infinity, out = null;
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    const r = await conn.runAndReadAll(sql);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (s < best) best = s;
    out = r.getRowObjects();
  }
  return [best, out];
}

const zpath = `${dir}/duckdb_zstd.parquet`, spath = `${dir}/duckdb_snappy.parquet`;
const [wz] = await timed(`COPY t TO ${q(zpath)} (FORMAT parquet, COMPRESSION zstd)`);
const [ws] = await timed(`COPY t TO ${q(spath)} (FORMAT parquet, COMPRESSION snappy)`);
const sums = (f, where) => `SELECT count(*) AS n, sum(epoch_us(ts)) AS ts, sum(a) + sum(b) + sum(c) AS v,
  sum(length(tag)) AS tb FROM read_parquet(${q(f)}) ${where}`;
const range = `WHERE ts BETWEEN make_timestamptz(${lo}::BIGINT) AND make_timestamptz(${hi}::BIGINT)`;
const [rf, full] = await timed(sums(zpath, ''));
const [rr, part] = await timed(sums(zpath, range));
const [rfp] = await timed(sums(`${dir}/pond_zstd.parquet`, ''));
const [rrp, partp] = await timed(sums(`${dir}/pond_zstd.parquet`, range));
console.log(`duckdb_rows=${rows}`);
console.log(`duckdb_threads=${threads}`);
console.log(`duckdb_write_zstd_s=${wz.toFixed(4)}`);
console.log(`duckdb_write_snappy_s=${ws.toFixed(4)}`);
console.log(`duckdb_zstd_bytes=${statSync(zpath).size}`);
console.log(`duckdb_snappy_bytes=${statSync(spath).size}`);
console.log(`duckdb_read_full_s=${rf.toFixed(4)}`);
console.log(`duckdb_read_full_rows=${full[0].n}`);
console.log(`duckdb_read_full_check=${Number(full[0].v).toExponential(6)}`);
console.log(`duckdb_read_range_s=${rr.toFixed(4)}`);
console.log(`duckdb_read_range_rows=${part[0].n}`);
console.log(`duckdb_on_pond_read_full_s=${rfp.toFixed(4)}`);
console.log(`duckdb_on_pond_read_range_s=${rrp.toFixed(4)}`);
console.log(`duckdb_on_pond_read_range_rows=${partp[0].n}`);
