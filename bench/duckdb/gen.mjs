// Writes the benchmark CSV: ROWS rows of timestamp (1 s steps), three random walks, a 16-value tag.
// usage: node gen.mjs ROWS OUT.csv
import { DuckDBInstance } from '@duckdb/node-api';
const [rows, out] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run('SELECT setseed(0.42)');
await c.run(`COPY (SELECT to_timestamp(1700000000 + i) AS timestamp,
  round(sum(random() - 0.5) OVER (ORDER BY i), 6) AS a,
  round(sum(random() - 0.5) OVER (ORDER BY i), 6) AS b,
  round(sum(random() - 0.5) OVER (ORDER BY i), 6) AS c,
  'tag' || (i % 16) AS tag
  FROM range(${Number(rows)}) t(i)) TO '${out}' (HEADER)`);
