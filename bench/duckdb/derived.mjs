#!/usr/bin/env node
// DuckDB side of bench/derived.sh.
//   node derived.mjs gen DIR YEARS        YEARS Parquet files (DIR/yN.parquet) of one year of
//                                         1-minute data each (timestamp, temp, hum)
//   node derived.mjs rollup DIR REPS THREADS
//                                         the 1-hour rollup (avg, min, max, sum, count of temp)
//                                         with GROUP BY time_bucket over every file, best of
//                                         REPS, SET threads=THREADS
// Prints key=value lines.
import { DuckDBInstance } from '@duckdb/node-api';

const [mode, dir, a, b] = process.argv.slice(2);
const q = (s) => "'" + s.replace(/'/g, "''") + "'";
const inst = await DuckDBInstance.create(':memory:');
const conn = await inst.connect();
if (mode === 'gen') {
  const years = Number(a);
  await conn.run('SET threads=2');
  const per = 365 * 1440;
  for (let y = 0; y < years; y++) {
    // 2019-01-01 + 1 minute per row; deterministic values (quarters: sums are exact)
    await conn.run(`COPY (SELECT to_timestamp(1546300800 + i * 60) AS timestamp,
                           (((i * 7919) % 400) - 200) / 4.0 AS temp,
                           (40 + (i * 37) % 50)::BIGINT AS hum
                    FROM range(${y * per}, ${(y + 1) * per}) t(i))
                    TO ${q(dir + '/y' + y + '.parquet')} (FORMAT parquet, COMPRESSION zstd)`);
  }
  console.log(`generated=${years}`);
} else if (mode === 'rollup') {
  const reps = Number(a || 3), threads = Math.max(1, Number(b || 1) | 0);
  await conn.run(`SET threads=${threads}`);
  const sql = `SELECT time_bucket(INTERVAL 1 hour, timestamp) AS b, avg(temp) AS a,
                      min(temp) AS mi, max(temp) AS ma, sum(temp) AS s, count(temp) AS c
               FROM read_parquet(${q(dir + '/*.parquet')}) GROUP BY b`;
  let best = Infinity, rows = 0;
  for (let i = 0; i < reps; i++) {
    const t = process.hrtime.bigint();
    const r = await conn.runAndReadAll(sql);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    if (s < best) best = s;
    rows = r.getRowObjects().length;
  }
  const chk = (await conn.runAndReadAll(
                   `SELECT count(*) AS n, sum(s) AS t, sum(c) AS c FROM (${sql})`))
                  .getRowObjects()[0];
  console.log(`duckdb_rollup_s=${best.toFixed(4)}`);
  console.log(`duckdb_rows=${rows}`);
  console.log(`duckdb_check=${chk.n} ${Number(chk.t).toFixed(2)} ${chk.c}`);
} else {
  console.error('usage: derived.mjs gen DIR YEARS | rollup DIR REPS THREADS');
  process.exit(2);
}
