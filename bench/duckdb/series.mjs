#!/usr/bin/env node
// DuckDB side of bench/series_scale.sh.
//   node series.mjs gen DIR DAYS          DAYS Parquet files of one day of 10-minute data
//                                         (144 rows: timestamp, temp, hum) in DIR/day=N/
//   node series.mjs read DIR REPS THREADS the full read: count and sums over every file with
//                                         read_parquet (best of REPS), SET threads=THREADS
// Prints key=value lines.
import { DuckDBInstance } from '@duckdb/node-api';

const [mode, dir, a, b] = process.argv.slice(2);
const q = (s) => "'" + s.replace(/'/g, "''") + "'";
const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
if (mode === 'gen') {
  const days = Number(a);
  await conn.run('SET threads=2');
  // 2000-01-01 + 10 minutes per row; deterministic values
  await conn.run(`COPY (SELECT to_timestamp(946684800 + i * 600) AS timestamp,
                         round(15 + 10 * sin(i / 144.0) + (i % 7) / 10.0, 2) AS temp,
                         (40 + (i * 37) % 50)::BIGINT AS hum,
                         i // 144 AS day
                  FROM range(${days * 144}) t(i))
                  TO ${q(dir)} (FORMAT parquet, PARTITION_BY (day), COMPRESSION zstd)`);
  console.log(`generated=${days}`);
} else if (mode === 'read') {
  const reps = Number(a || 2), threads = Math.max(1, Number(b || 1) | 0);
  await conn.run(`SET threads=${threads}`);
  const sql = `SELECT count(*) AS n, sum(temp) AS t, sum(hum) AS h
               FROM read_parquet(${q(dir + '/*/*.parquet')})`;
  let best = Infinity, row = null;
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    const r = await conn.runAndReadAll(sql);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (s < best) best = s;
    row = r.getRowObjects()[0];
  }
  console.log(`duckdb_read_s=${best.toFixed(4)}`);
  console.log(`duckdb_result=${row.n} ${Number(row.t).toFixed(2)} ${row.h}`);
} else {
  console.error('usage: node series.mjs gen DIR DAYS | read DIR REPS THREADS');
  process.exit(2);
}
