// The DuckDB side of bench/export.sh: COPY ... TO ... (FORMAT parquet, PARTITION_BY (year,
// month)) from a Parquet file of the same rows pond exports, zstd like pond, timed.
// usage: node export.mjs SRC.parquet OUT_DIR THREADS [flat]   prints "duckdb_s=<seconds>"
// (flat: the same COPY without PARTITION_BY, into one file, for reference)
import { DuckDBInstance } from '@duckdb/node-api';
import fs from 'node:fs';
const [src, out, threads, flat] = process.argv.slice(2);
fs.rmSync(out, { recursive: true, force: true });
const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
const c = await db.connect();
const t0 = process.hrtime.bigint();
if (flat)
  await c.run(`COPY (SELECT * FROM read_parquet('${src}')) TO '${out}' (FORMAT parquet, COMPRESSION zstd)`);
else
  await c.run(`COPY (SELECT *, year(timestamp::TIMESTAMP) AS year, month(timestamp::TIMESTAMP) AS month
    FROM read_parquet('${src}')) TO '${out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month))`);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
const r = await c.runAndReadAll(flat ? `SELECT count(*) FROM read_parquet('${out}')`
  : `SELECT count(*) FROM read_parquet('${out}/**/*.parquet', hive_partitioning=true)`);
console.log(`duckdb_s=${s}`);
console.log(`duckdb_rows=${r.getRows()[0][0]}`);
