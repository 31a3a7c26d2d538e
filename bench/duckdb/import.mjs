// DuckDB side of bench/import.sh: CSV -> Parquet conversion, timed, for a threads setting.
// usage: node import.mjs CSV OUTDIR THREADS
import { DuckDBInstance } from '@duckdb/node-api';
const [csv, outdir, threads] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`SET threads=${Number(threads)}`);
for (const codec of ['zstd', 'snappy']) {
  const out = `${outdir}/duckdb_${codec}_t${threads}.parquet`;
  const t0 = process.hrtime.bigint();
  await con.run(`COPY (SELECT * FROM read_csv('${csv}')) TO '${out}' (FORMAT parquet, COMPRESSION ${codec})`);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(`duckdb_${codec}_t${threads}=${s}`);
}
