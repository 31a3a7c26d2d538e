// pond serve end to end (tests/serve/run.sh). usage: node serve_test.mjs POND_BIN TOOLS_DIR
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const [pondBin, tools] = process.argv.slice(2);
const require = createRequire(path.join(tools, 'package.json'));
const arrow = require('apache-arrow');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pond-serve-'));
const pondDir = path.join(tmp, 'pond');
const env = { ...process.env, POND: pondDir };
let passed = 0, failed = 0, crashed = 0;
const servers = [];

function pond(args, opts = {}) {
  const r = spawnSync(pondBin, args, { env, maxBuffer: 1 << 28, ...opts });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`pond ${args.join(' ')}: ${r.stderr}`);
  return r;
}
async function test(name, fn) {
  try { await fn(); passed++; console.log(`ok   serve::${name}`); }
  catch (e) { failed++; console.log(`FAIL serve::${name}: ${e.stack || e}`); }
}
function eq(a, b, what) { if (a !== b) throw new Error(`${what}: got ${JSON.stringify(a)?.slice(0, 300)} want ${JSON.stringify(b)?.slice(0, 300)}`); }
function ok(c, what) { if (!c) throw new Error(what); }

async function startServer(args) {
  const p = spawn(pondBin, ['serve', '--listen', '127.0.0.1:0', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(p);
  let err = '', up = false;
  p.stderr.on('data', (d) => { err += d; });
  const url = await new Promise((res, rej) => {
    let out = '';
    p.stdout.on('data', (d) => { out += d; const m = out.match(/listening on (http:\S+)/); if (m) { up = true; res(m[1]); } });
    p.on('exit', (c, sig) => {
      // a server that dies while tests use it (a crash, a sanitizer report) fails the run loudly
      if (up && !p.stopping) { crashed++; console.log(`FAIL serve::server: pond serve died (exit ${c}, ${sig}):\n${err.slice(-6000)}`); }
      rej(new Error(`pond serve exited ${c}: ${err}`));
    });
  });
  const kill = p.kill.bind(p);
  p.kill = (s) => { p.stopping = true; return kill(s); };
  // stopped with SIGTERM, a server exits 0; anything else (a leak report under ASan) fails
  p.done = new Promise((res) => p.on('exit', (c, sig) => res(c === 0 ? '' : `pond serve ${args.join(' ')}: exit ${c} ${sig}: ${err.slice(-6000)}`)));
  return { p, url, port: Number(new URL(url).port) };
}
const get = async (base, route, init) => { const r = await fetch(base + route, init); return { status: r.status, headers: r.headers, buf: Buffer.from(await r.arrayBuffer()) }; };

// ---- the pond: a series of 3 versions, a table, a data file ----
pond(['init']);
pond(['mkdir', '-p', '/s', '/t']);
const t0 = Date.UTC(2020, 0, 1) * 1000; // µs
function seriesCsv(start, n, seed) {
  let s = 'timestamp,v,w\n';
  for (let i = 0; i < n; i++) {
    const us = t0 + (start + i) * 3600e6 + (seed % 7) * 1e6;
    const w = (i + seed) % 11 === 0 ? '' : ((i * 37 + seed) % 1000) / 8;
    s += `${new Date(us / 1000).toISOString()},${(i * 13 + seed) % 500 - 250},${w}\n`;
  }
  return s;
}
for (let k = 0; k < 3; k++) {
  writeFileSync(path.join(tmp, `s${k}.csv`), seriesCsv(k * 1500, 1500, k));
  pond(['copy', '--type', 'series', `host:${path.join(tmp, `s${k}.csv`)}`, '/s/a']);
}
writeFileSync(path.join(tmp, 'b.csv'), seriesCsv(100, 800, 5));
pond(['copy', '--type', 'series', `host:${path.join(tmp, 'b.csv')}`, '/s/b']);
let tcsv = 'id,name,score\n';
for (let i = 0; i < 137; i++) tcsv += `${i},"name ${(i * 7) % 137}, x",${(i * 3.25) % 17}\n`;
writeFileSync(path.join(tmp, 't.csv'), tcsv);
pond(['copy', '--type', 'table', `host:${path.join(tmp, 't.csv')}`, '/t/people']);
writeFileSync(path.join(tmp, 'note.txt'), 'hello pond\n');
pond(['copy', `host:${path.join(tmp, 'note.txt')}`, '/t/note.txt']);

const main = await startServer(['--sql-timeout', '1000']);
const U = main.url;

await test('read_csv_equals_cat', async () => {
  for (const q of [[], ['--from', '2020-02-01', '--to', '2020-03-01T12:00'], ['--columns', 'w,timestamp']]) {
    const params = new URLSearchParams({ path: '/s/a', format: 'csv' });
    for (let i = 0; i < q.length; i += 2) params.set(q[i].slice(2), q[i + 1]);
    const r = await get(U, `api/read?${params}`);
    eq(r.status, 200, 'status');
    const cli = pond(['cat', '--format', 'csv', ...q, '/s/a']).stdout;
    ok(Buffer.compare(r.buf, cli) === 0, `csv bytes differ for ${q.join(' ')}`);
  }
});
await test('read_json_parquet_equal_cat', async () => {
  for (const [fmt, p] of [['json', '/s/a'], ['parquet', '/s/a'], ['parquet', '/t/people'], ['json', '/t/people']]) {
    const r = await get(U, `api/read?path=${p}&format=${fmt}`);
    eq(r.status, 200, 'status');
    const cli = pond(['cat', '--format', fmt, p]).stdout;
    ok(Buffer.compare(r.buf, cli) === 0, `${fmt} bytes of ${p} differ`);
  }
  const raw = await get(U, 'api/read?path=/t/note.txt');
  eq(raw.buf.toString(), 'hello pond\n', 'a data file reads as its bytes');
});
await test('describe_query_list_equal_cli', async () => {
  const d = await get(U, 'api/describe?path=/s/a&format=text');
  eq(d.buf.toString(), pond(['describe', '/s/a']).stdout.toString(), 'describe text');
  const dj = JSON.parse((await get(U, 'api/describe?path=/s/a')).buf);
  eq(dj.rows, 4500, 'describe json rows');
  eq(dj.versions.length, 3, 'describe json versions');
  const sql = 'SELECT count(*) AS n, min(v), max(w), avg(w) FROM t WHERE timestamp >= us(\'2020-03-01\')';
  const q = await get(U, `api/query?format=csv&sql=${encodeURIComponent(sql)}&src=t=/s/a`);
  eq(q.buf.toString(), pond(['query', '--format', 'csv', sql, 't=/s/a']).stdout.toString(), 'query csv');
  const l = JSON.parse((await get(U, 'api/list?path=/s')).buf);
  const cl = JSON.parse(pond(['list', '--json', '/s/']).stdout);
  eq(l.entries.length, cl.length, 'list length');
  for (let i = 0; i < cl.length; i++)
    for (const k of ['path', 'type', 'size', 'version', 'txn']) eq(l.entries[i][k], cl[i][k], `list ${k}`);
});
await test('log_equals_cli', async () => {
  const cli = pond(['log']).stdout.toString().trim().split('\n');
  const got = [];
  let before = null, pages = 0;
  for (;;) {
    const r = await get(U, 'api/log?limit=5' + (before != null ? `&before=${before}` : ''));
    eq(r.status, 200, 'status');
    const d = JSON.parse(r.buf);
    got.push(...d.entries);
    pages++;
    if (d.next_before == null) break;
    before = d.next_before;
  }
  eq(got.length, cli.length, 'transactions');
  eq(pages, Math.ceil(cli.length / 5), 'pages');
  for (let i = 0; i < cli.length; i++) {
    const m = cli[i].match(/^\s*(\d+)  (\S+)  (.*)$/);
    eq(got[i].txn, Number(m[1]), `txn ${i}`);
    eq(got[i].time, m[2], `time ${i}`);
    eq(got[i].command, m[3], `command ${i}`);
  }
});
await test('arrow_ipc_reads_back', async () => {
  for (const p of ['/s/a', '/t/people']) {
    const r = await get(U, `api/read?path=${p}&format=arrow`);
    eq(r.status, 200, 'status');
    const t = arrow.tableFromIPC(r.buf);
    const rows = pond(['cat', '--format', 'json', p]).stdout.toString().trim().split('\n').map((x) => JSON.parse(x));
    eq(t.numRows, rows.length, 'rows');
    for (let i = 0; i < rows.length; i += 97) {
      const row = t.get(i).toJSON();
      for (const [k, v] of Object.entries(rows[i])) {
        let got = row[k];
        if (k === 'timestamp') got = new Date(Number(got)).toISOString().replace('.000Z', 'Z');
        if (typeof got === 'bigint') got = Number(got);
        eq(got ?? null, v, `${p} row ${i} column ${k}`);
      }
    }
  }
  // a slice (offset/limit) reads back as that slice
  const s = arrow.tableFromIPC((await get(U, 'api/read?path=/s/a&format=arrow&offset=1499&limit=3')).buf);
  const j = (await get(U, 'api/read?path=/s/a&format=json&offset=1499&limit=3')).buf.toString().trim().split('\n').map((x) => JSON.parse(x));
  eq(s.numRows, 3, 'slice rows');
  for (let i = 0; i < 3; i++) eq(Number(s.get(i).v), j[i].v, 'slice value');
});
await test('buckets_equal_brute_force', async () => {
  const rows = pond(['cat', '--format', 'json', '/s/a']).stdout.toString().trim().split('\n').map((x) => JSON.parse(x));
  for (const [from, to, n] of [['2020-01-10', '2020-07-01', 37], [null, null, 250]]) {
    const b = JSON.parse((await get(U, `api/buckets?path=/s/a&n=${n}` + (from ? `&from=${from}&to=${to}` : ''))).buf);
    const F = BigInt(b.from_us), T = BigInt(b.to_us), N = BigInt(n);
    for (const col of ['v', 'w']) {
      const c = b.columns.find((x) => x.name === col);
      const cnt = Array(n).fill(0), mn = Array(n).fill(Infinity), mx = Array(n).fill(-Infinity), sum = Array(n).fill(0);
      for (const r of rows) {
        const us = BigInt(Date.parse(r.timestamp)) * 1000n;
        if (us < F || us >= T || r[col] == null) continue;
        const i = Number((us - F) * N / (T - F));
        cnt[i]++; sum[i] += r[col]; mn[i] = Math.min(mn[i], r[col]); mx[i] = Math.max(mx[i], r[col]);
      }
      for (let i = 0; i < n; i++) {
        eq(c.count[i], cnt[i], `${col} count ${i}`);
        if (!cnt[i]) { eq(c.mean[i], null, 'empty mean'); continue; }
        eq(c.min[i], mn[i], `${col} min ${i}`);
        eq(c.max[i], mx[i], `${col} max ${i}`);
        ok(Math.abs(c.mean[i] - sum[i] / cnt[i]) <= 1e-9 * Math.max(1, Math.abs(sum[i] / cnt[i])), `${col} mean ${i}`);
      }
    }
  }
});
// a compacted series under dedup=last: the API reads, describes and buckets it as pond cat
await test('series_dedup_compaction_equal_cli', async () => {
  // two rows at every hour, then late data replacing some, compacted, then a later version
  // with duplicates of its own
  const dup = (start, n, seed) => seriesCsv(start, n, seed).split('\n').flatMap((l, i) => (i && l ? [l, l] : [l])).join('\n');
  for (const [k, csv] of [[0, dup(0, 300, 1)], [1, seriesCsv(100, 300, 2)]]) {
    writeFileSync(path.join(tmp, `d${k}.csv`), csv);
    pond(['copy', '--type', 'series', `host:${path.join(tmp, `d${k}.csv`)}`, '/s/d']);
  }
  const B0 = JSON.parse((await get(U, 'api/buckets?path=/s/d&n=40')).buf); // the cache holds it
  ok(B0.columns.find((x) => x.name === 'v').count.reduce((a, b) => a + b, 0) === 900, 'rows before dedup');
  pond(['gc', '--compact-series']);
  pond(['set', '/s/d', 'dedup=last']);
  writeFileSync(path.join(tmp, 'd2.csv'), dup(400, 50, 3));
  pond(['copy', '--type', 'series', `host:${path.join(tmp, 'd2.csv')}`, '/s/d']);
  const cliDescribe = pond(['describe', '/s/d']).stdout.toString();
  ok(/compacts v1\.\.v2/.test(cliDescribe) && /replaced by v3/.test(cliDescribe) && /dedup: last/.test(cliDescribe), `describe: ${cliDescribe}`);
  eq((await get(U, 'api/describe?path=/s/d&format=text')).buf.toString(), cliDescribe, 'describe text');
  const dj = JSON.parse((await get(U, 'api/describe?path=/s/d')).buf);
  eq(dj.dedup && dj.dedup.rule, 'last', 'describe json dedup');
  eq(dj.versions[0].replaced_by, 3, 'describe json replaced_by');
  eq(JSON.stringify(dj.versions[2].replaces), '[1,2]', 'describe json replaces');
  for (const fmt of ['csv', 'json', 'parquet']) {
    const r = await get(U, `api/read?path=/s/d&format=${fmt}`);
    eq(r.status, 200, 'status');
    ok(Buffer.compare(r.buf, pond(['cat', '--format', fmt, '/s/d']).stdout) === 0, `${fmt} bytes differ`);
  }
  const rows = pond(['cat', '--format', 'json', '/s/d']).stdout.toString().trim().split('\n').map((x) => JSON.parse(x));
  eq(rows.length, 300 + 300 + 50, 'rows pond cat returns');
  const b = JSON.parse((await get(U, 'api/buckets?path=/s/d&n=40')).buf);
  const F = BigInt(b.from_us), T = BigInt(b.to_us);
  const cnt = Array(40).fill(0), sum = Array(40).fill(0);
  for (const r of rows) {
    const i = Number((BigInt(Date.parse(r.timestamp)) * 1000n - F) * 40n / (T - F));
    cnt[i]++; sum[i] += r.v;
  }
  const c = b.columns.find((x) => x.name === 'v');
  for (let i = 0; i < 40; i++) {
    eq(c.count[i], cnt[i], `count ${i}`);
    if (cnt[i]) ok(Math.abs(c.mean[i] - sum[i] / cnt[i]) <= 1e-9 * Math.max(1, Math.abs(sum[i] / cnt[i])), `mean ${i}`);
  }
});
await test('errors_are_json_with_fitting_status', async () => {
  const cases = [['api/read?path=/nope', 404], ['api/read?path=/s/a&from=yesterday', 400], ['api/read?path=/s', 400],
    ['api/buckets?path=/t/people', 400], ['api/nothing', 404], ['api/query?sql=SELEC', 400], ['api/read?path=/s/a&format=xml', 400]];
  for (const [route, status] of cases) {
    const r = await get(U, route);
    eq(r.status, status, route);
    const j = JSON.parse(r.buf);
    ok(typeof j.error === 'string' && j.error.length > 0 && j.status === status, `${route}: JSON error`);
    ok(!j.error.includes(tmp), `${route}: the message names a host path: ${j.error}`);
  }
});
await test('security_paths_stay_in_the_pond', async () => {
  for (const p of ['/../../../../etc/passwd', '../../etc/passwd', `${pondDir}/_delta_log/00000000000000000000.json`, '/s/../../../etc']) {
    const r = await get(U, `api/read?path=${encodeURIComponent(p)}`);
    ok(r.status === 404 || r.status === 400, `${p}: status ${r.status}`);
    ok(!r.buf.toString().includes('root:'), `${p}: host file content`);
    ok(!r.buf.toString().includes(tmp), `${p}: host path in ${r.buf}`);
  }
  for (const u of ['../../etc/passwd', 'ui/../../../etc/passwd', '%2e%2e/%2e%2e/etc/passwd']) {
    const r = await get(U, u);
    eq(r.status, 404, u);
  }
});
await test('security_sql_is_read_only', async () => {
  for (const sql of [`ATTACH DATABASE '${tmp}/x.db' AS x`, 'CREATE TABLE z(a)', 'INSERT INTO t VALUES (1,2,3)',
    "SELECT load_extension('/tmp/x.so')", 'PRAGMA writable_schema = 1', 'DROP TABLE t']) {
    const r = await get(U, `api/query?sql=${encodeURIComponent(sql)}&src=t=/t/people`);
    ok(r.status === 403 || r.status === 400, `${sql}: status ${r.status} ${r.buf}`);
    ok(!r.buf.toString().includes(tmp), `${sql}: host path`);
  }
  const slow = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c';
  const t = Date.now();
  const r = await get(U, `api/query?sql=${encodeURIComponent(slow)}`);
  eq(r.status, 503, 'a query past the time limit');
  ok(Date.now() - t < 5000, 'the time limit holds');
});
await test('security_request_bounds', async () => {
  const big = await get(U, 'api/list?path=/', { headers: { 'X-Big': 'x'.repeat(200000) } }).catch(() => ({ status: 0 }));
  ok(big.status === 0 || big.status >= 400, `oversized headers: ${big.status}`);
  const post = await get(U, 'api/list', { method: 'POST', body: 'x'.repeat(5000) });
  ok(post.status === 413 || post.status === 405, `a body: ${post.status}`);
  // slow loris: a client that sends its headers byte by byte does not block others
  const sock = net.connect(main.port, '127.0.0.1');
  sock.on('error', () => {});
  sock.write('GET /api/list HTTP/1.1\r\nHost: x\r\n');
  const drip = setInterval(() => sock.write('X'), 200);
  const t = Date.now();
  const r = await get(U, 'api/list?path=/');
  eq(r.status, 200, 'another client while a slow one drips');
  ok(Date.now() - t < 2000, 'not blocked');
  clearInterval(drip);
  sock.destroy();
  eq((await get(U, 'api/list?path=/')).status, 200, 'the server stays up');
  const small = await startServer(['--max-response', '2KiB']);
  const over = await get(small.url, 'api/read?path=/s/a&format=csv');
  eq(over.status, 413, 'a response over the bound');
  ok(JSON.parse(over.buf).error.includes('limit'), 'says the limit');
  eq((await get(small.url, 'api/read?path=/s/a&format=csv&limit=2')).status, 200, 'a small read');
  small.p.kill();
});
await test('security_token', async () => {
  const tokfile = path.join(tmp, 'token');
  writeFileSync(tokfile, 'correct-horse-battery-staple\n');
  const refused = spawnSync(pondBin, ['serve', '--listen', '0.0.0.0:0'], { env, timeout: 5000 });
  eq(refused.status, 1, 'a non-loopback address without a token');
  ok(refused.stderr.toString().includes('token'), 'says why');
  const s = await startServer(['--token-file', tokfile]);
  const wide = spawn(pondBin, ['serve', '--listen', '0.0.0.0:0', '--token-file', tokfile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(wide);
  const port = await new Promise((res) => { let o = ''; wide.stdout.on('data', (d) => { o += d; const m = o.match(/:(\d+)\//); if (m) res(Number(m[1])); }); });
  for (const base of [s.url, `http://127.0.0.1:${port}/`]) {
    eq((await get(base, 'api/list?path=/')).status, 401, 'no token');
    eq((await get(base, 'api/list?path=/', { headers: { Authorization: 'Bearer wrong-horse-battery-staple' } })).status, 401, 'a wrong token');
    eq((await get(base, 'api/list?path=/', { headers: { Authorization: 'Bearer correct-horse-battery-staple' } })).status, 200, 'the token');
    const first = await fetch(base + '?token=correct-horse-battery-staple', { redirect: 'manual' });
    eq(first.status, 303, 'the first visit is redirected');
    const cookie = first.headers.get('set-cookie').split(';')[0];
    ok(!first.headers.get('location').includes('token'), 'the token leaves the address');
    eq((await get(base, 'api/list?path=/', { headers: { Cookie: cookie } })).status, 200, 'the cookie');
  }
  s.p.kill();
  wide.kill();
});
await test('reads_while_a_writer_appends', async () => {
  const counts = new Set([4500]);
  let stop = false, errors = 0, seen = [];
  const clients = Array.from({ length: 8 }, async (_, c) => {
    let last = 0;
    while (!stop) {
      let b;
      try {
        const r = await fetch(`${U}api/buckets?path=/s/a&n=50&columns=v`);
        if (r.status !== 200) { errors++; continue; }
        b = await r.json();
      } catch (e) { errors++; if (stop) break; await new Promise((res) => setTimeout(res, 50)); continue; }
      const rows = b.columns[0].count.reduce((a, x) => a + x, 0);
      if (rows < last) errors++;
      last = rows;
      seen.push(rows);
    }
  });
  for (let k = 0; k < 6; k++) {
    writeFileSync(path.join(tmp, 'more.csv'), seriesCsv(4500 + k * 100, 100, 9));
    pond(['copy', '--type', 'series', `host:${path.join(tmp, 'more.csv')}`, '/s/a']);
    counts.add(4500 + (k + 1) * 100);
  }
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await Promise.all(clients);
  eq(errors, 0, 'errors or a count going backwards');
  for (const n of seen) ok(counts.has(n), `a half state: ${n} rows`);
  ok(seen.includes(5100), 'the last commit is seen');
});
await test('browser_ui', async () => {
  const puppeteer = require('puppeteer-core');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'pond-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 800 });
    const outside = [];
    page.on('request', (rq) => { if (!rq.url().startsWith(U) && !rq.url().startsWith('data:')) outside.push(rq.url()); });
    await page.goto(U, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#tree a');
    ok(await page.$eval('#missing', (e) => e.hidden), 'the chart library is embedded');
    await page.goto(`${U}#/series/s/a`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#chart canvas');
    const inked = await page.$eval('#chart canvas', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n;
    });
    ok(inked > 500, `the chart is drawn (${inked} pixels)`);
    await page.screenshot({ path: path.join(tools, 'series.png') });
    const before = await page.evaluate(() => ({ ...window.pondState.lastBuckets, f: window.pondState.fetches }));
    const over = await page.$('.u-over');
    const box = await over.boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await page.waitForFunction((f) => window.pondState.fetches > f, {}, before.f);
    const after = await page.evaluate(() => window.pondState.lastBuckets);
    ok(after.to_us - after.from_us < (before.to_us - before.from_us) / 5, 'a zoom fetches a narrower range');
    await page.screenshot({ path: path.join(tools, 'series-zoomed.png') });
    await page.type('#overlay', '/s/b');
    await page.keyboard.press('Tab');
    await page.waitForFunction((f) => window.pondState.fetches > f + 1, {}, before.f);
    await page.screenshot({ path: path.join(tools, 'series-overlay.png') });
    await page.goto(`${U}#/table/t/people`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#rows tr td');
    const first = await page.$eval('#pageinfo', (e) => e.textContent);
    await page.click('#next');
    await page.waitForFunction((t) => document.querySelector('#pageinfo').textContent !== t, {}, first);
    ok((await page.$eval('#pageinfo', (e) => e.textContent)).includes('51..100'), 'a table pages');
    await page.click('#rows th:nth-child(3)');
    await page.waitForFunction(() => document.querySelector('#rows th:nth-child(3)').textContent.includes('▲'));
    await page.screenshot({ path: path.join(tools, 'table.png') });
    await page.click('#loglink');
    await page.waitForSelector('#log tbody tr');
    const cliLog = pond(['log']).stdout.toString().trim().split('\n');
    const logRows = await page.$$eval('#log tbody tr', (rs) => rs.map((r) => [...r.children].map((td) => td.textContent)));
    eq(logRows.length, Math.min(50, cliLog.length), 'log rows');
    eq(logRows[0][2], cliLog[0].match(/^\s*\d+  \S+  (.*)$/)[1], 'the newest command');
    eq(Number(logRows.at(-1)[0]), Number(cliLog[logRows.length - 1].trim().split(' ')[0]), 'the oldest row shown');
    await page.screenshot({ path: path.join(tools, 'log.png') });
    eq(outside.length, 0, `requests outside the server: ${outside}`);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

// a derived node (issue 16) through the shared describe and read: the recipe line, the source's
// dependents, and reads under the rollup's dedup rule, as the CLI shows them
await test('derived_node_describe_read', async () => {
  pond(['mkdir', '/d']);
  writeFileSync(path.join(tmp, 'd.csv'), seriesCsv(0, 120, 7));
  pond(['copy', '--type', 'series', `host:${path.join(tmp, 'd.csv')}`, '/d/src']);
  pond(['derive', 'rollup', '/d/hourly', '--source', '/d/src', '--every', '1h']);
  writeFileSync(path.join(tmp, 'd2.csv'), seriesCsv(119, 60, 8));
  pond(['copy', '--type', 'series', `host:${path.join(tmp, 'd2.csv')}`, '/d/src']);
  const d = (await get(U, 'api/describe?path=/d/hourly&format=text')).buf.toString();
  eq(d, pond(['describe', '/d/hourly']).stdout.toString(), 'derived describe text');
  ok(d.includes('  derived:  rollup of /d/src every 1h'), `no derived line in ${d}`);
  const sj = JSON.parse((await get(U, 'api/describe?path=/d/src')).buf);
  eq(JSON.stringify(sj.dependents), '["/d/hourly"]', 'source dependents');
  const hj = JSON.parse((await get(U, 'api/describe?path=/d/hourly')).buf);
  ok(hj.derived && hj.derived.startsWith('rollup of /d/src'), 'derived in JSON');
  eq(hj.dedup && hj.dedup.rule, 'last', 'rollup dedup');
  const r = (await get(U, 'api/read?path=/d/hourly&format=csv')).buf.toString();
  eq(r, pond(['cat', '--format', 'csv', '/d/hourly']).stdout.toString(), 'derived read');
  const hours = new Set(r.trim().split('\n').slice(1).map((l) => l.split(',')[0]));
  eq(hours.size, r.trim().split('\n').length - 1, 'one row per bucket');
});

// a stale manual node: read computed from its sources (as cat does) and marked by a header;
// buckets follow the sources too (the cache does not answer from an earlier computation)
await test('stale_manual_node', async () => {
  pond(['mkdir', '/m']);
  writeFileSync(path.join(tmp, 'm.csv'), seriesCsv(0, 120, 3));
  pond(['copy', '--type', 'series', `host:${path.join(tmp, 'm.csv')}`, '/m/src']);
  pond(['derive', 'rollup', '/m/hourly', '--source', '/m/src', '--every', '1h', '--refresh', 'manual']);
  const fresh = await get(U, 'api/read?path=/m/hourly&format=csv');
  eq(fresh.headers.get('x-pond-stale'), null, 'no header while current');
  const W = '&from=2000-01-01&to=2100-01-01'; // buckets' default range is the node's stored versions'
  const b0 = JSON.parse((await get(U, 'api/buckets?path=/m/hourly&n=10' + W)).buf);
  for (let k = 1; k <= 2; k++) {
    writeFileSync(path.join(tmp, 'm2.csv'), seriesCsv(120 * k, 120, 3 + k));
    pond(['copy', '--type', 'series', `host:${path.join(tmp, 'm2.csv')}`, '/m/src']);
    const r = await get(U, 'api/read?path=/m/hourly&format=csv');
    ok((r.headers.get('x-pond-stale') || '').startsWith('computed from its sources'), `stale header: ${r.headers.get('x-pond-stale')}`);
    eq(r.buf.toString(), pond(['cat', '--format', 'csv', '/m/hourly']).stdout.toString(), 'stale read as cat');
    const bk = await get(U, 'api/buckets?path=/m/hourly&n=10' + W);
    ok((bk.headers.get('x-pond-stale') || '').startsWith('computed'), 'stale header on buckets');
    const bj = JSON.parse(bk.buf);
    eq(bj.rows, r.buf.toString().trim().split('\n').length - 1, `buckets rows after append ${k}`);
    ok(bj.rows > b0.rows, 'buckets grow with the sources');
  }
});

for (const s of servers) s.kill();
for (const s of servers) {
  const why = s.done ? await s.done : '';
  if (why && !crashed) { failed++; console.log(`FAIL serve::server_exit: ${why}`); }
}
failed += crashed;
rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
