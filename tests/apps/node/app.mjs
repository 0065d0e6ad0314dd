// A small Node shop under cache-aside load, recorded by cachetape's end-to-end test
// (tests/app_node.rs).
//
// It caches with cache-manager 7 over Keyv and @keyv/redis, as cache-manager's README shows
// (`createCache({ stores: [createKeyv(url)] })`: Redis holds Keyv's envelope,
// `{"value":…,"expires":…}`), and reads MariaDB through mysql2:
//
// - readers `cache.get("order:{id}")`; on a miss they SELECT the row, sometimes stall, then
//   `cache.set(key, row, ttl)`. Each reader has its own cache (its own Redis connection), as each
//   worker process of a deployment would, and awaits each step, so its connection carries its
//   commands in its order;
// - writers update the row in a transaction, then `cache.del(key)`. Each writer owns a share of
//   the rows, so a row's commits are serial.
//
// Every read and commit is logged as one JSON line, with the app's clock (µs since the epoch)
// before and after it, so the log alone proves a cache hit fresh or stale (the same format as
// tests/apps/django/app.py):
//
//   {"kind":"commit","id":3,"value":"PAID|101.03|2026-…","sent_us":…,"returned_us":…}
//   {"kind":"read","client":"127.0.0.1:40000","id":3,"from":"cache","value":…,…}
//
// `client` is the reader's Redis connection as the server (and MONITOR) names it. `value`
// renders status, total and updated_at the same way from the cache or the database. The seed
// rows' inserts are commits too.
//
//   node app.mjs setup --mysql-port P --database D      # create the table (before recording)
//   node app.mjs run --redis-port R --mysql-port P --database D --log FILE [options]
//
// `--serializer json` stores plain JSON (Keyv's serialize/deserialize replaced) instead of
// Keyv's envelope.
//
// `--tiers memory,redis` caches in two tiers, as cache-manager's README shows for layer 1 and
// layer 2 caching (`stores: [memory, redis]`): an in-process Keyv memory store in front of
// @keyv/redis, one cache for the whole process (readers and writers share it, as the modules of
// one Node process share their cache). A read that the memory tier serves never reaches Redis,
// and the memory tier holds every value the process set until the process deletes it, so Redis
// sees GETs only after a DEL, when it has no value either: the app's hits are invisible to
// MONITOR. Every read is logged with the one connection's address.

import { writeFileSync } from "node:fs";
import { createCache } from "cache-manager";
import { createKeyv } from "@keyv/redis";
import { Keyv } from "keyv";
import mysql from "mysql2/promise";

const STATUSES = ["NEW", "PAID", "SHIPPED", "CANCELLED", "REFUNDED"];

const defaults = {
  "redis-port": "6379",
  "mysql-port": undefined,
  database: undefined,
  log: undefined,
  serializer: "keyv",
  tiers: "redis",
  rows: "4",
  readers: "4",
  writers: "2",
  duration: "2",
  "stall-per-mille": "400",
  "stall-ms": "150",
  "write-every-ms": "40",
  "read-every-ms": "2",
  ttl: "300",
  seed: "42",
};

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command !== "setup" && command !== "run") usage(`unknown command ${command}`);
  const opts = { ...defaults };
  for (let i = 0; i < rest.length; i += 2) {
    const name = rest[i].replace(/^--/, "");
    if (!(name in defaults) || i + 1 >= rest.length) usage(`bad option ${rest[i]}`);
    opts[name] = rest[i + 1];
  }
  if (!opts["mysql-port"] || !opts.database) usage("--mysql-port and --database are required");
  if (command === "run" && !opts.log) usage("run needs --log");
  if (!["keyv", "json"].includes(opts.serializer)) usage("--serializer is keyv or json");
  if (!["redis", "memory,redis"].includes(opts.tiers)) usage("--tiers is redis or memory,redis");
  return { command, opts };
}

function usage(why) {
  console.error(`app.mjs: ${why}\nusage: node app.mjs setup|run --mysql-port P --database D ...`);
  process.exit(2);
}

/** The machine's clock in µs since the epoch (the clock the recorder uses). */
function nowUs() {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded generator (mulberry32), so runs choose the same ids and stalls. */
function rng(seed) {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/** One rendering of a row's cached columns, from the database or from the cache. */
function render(status, total, updatedAt) {
  return `${status}|${Number(total).toFixed(2)}|${new Date(updatedAt).toISOString()}`;
}

const renderRow = (row) => render(row.status, row.total, row.updated_at);

function connectDb(opts) {
  return mysql.createConnection({
    host: "127.0.0.1",
    port: Number(opts["mysql-port"]),
    user: "root",
    database: opts.database,
    timezone: "Z",
  });
}

function makeCache(opts) {
  const keyv = createKeyv(`redis://127.0.0.1:${opts["redis-port"]}`);
  if (opts.serializer === "json") {
    keyv.serialize = (entry) => JSON.stringify(entry.value);
    keyv.deserialize = (text) => ({ value: JSON.parse(text) });
  }
  if (opts.tiers === "memory,redis") {
    // cache-manager's README: an in-memory Keyv in front of the Redis store.
    return { keyv, cache: createCache({ stores: [new Keyv(), keyv] }) };
  }
  return { keyv, cache: createCache({ stores: [keyv] }) };
}

/**
 * The caches of the readers and writers: `make()` gives each its own (its own Redis connection,
 * as each worker process of a deployment has), or with two tiers the process's one cache, made
 * on first use; `all` are the caches made, for the end of the run to disconnect.
 */
function caches(opts) {
  const all = [];
  const make = () => {
    if (opts.tiers === "redis" || all.length === 0) all.push(makeCache(opts));
    return all[all.length - 1];
  };
  return { make, all };
}

/** The address the server (and MONITOR) gives this cache's connection. */
async function clientAddr(keyv) {
  const client = await keyv.store.getClient();
  const info = String(await client.sendCommand(["CLIENT", "INFO"]));
  const addr = info.split(" ").find((f) => f.startsWith("addr="));
  return addr.slice("addr=".length);
}

const read = (client, id, from, value, sent, returned) => ({
  kind: "read",
  client,
  id,
  from,
  value,
  sent_us: sent,
  returned_us: returned,
});

const commit = (id, value, sent, returned) => ({
  kind: "commit",
  id,
  value,
  sent_us: sent,
  returned_us: returned,
});

/** An updated_at with millisecond precision. */
const versionTime = (us) => new Date(Math.floor(us / 1000));

async function reader(opts, r, start, newCache) {
  const n = (k) => Number(opts[k]);
  const db = await connectDb(opts);
  const { keyv, cache } = newCache();
  const client = await clientAddr(keyv);
  const deadline = await start();
  const random = rng(n("seed") * 31 + r + 1);
  const reads = [];
  while (performance.now() < deadline) {
    const id = 1 + random(n("rows"));
    const key = `order:${id}`;
    let sent = nowUs();
    const value = await cache.get(key);
    let returned = nowUs();
    if (value !== undefined && value !== null) {
      reads.push(read(client, id, "cache", renderRow(value), sent, returned));
    } else {
      sent = nowUs();
      const [rows] = await db.query("SELECT id, status, total, updated_at FROM orders WHERE id = ?", [
        id,
      ]);
      returned = nowUs();
      const row = rows[0];
      reads.push(read(client, id, "db", renderRow(row), sent, returned));
      if (random(1000) < n("stall-per-mille")) await sleep(n("stall-ms"));
      await cache.set(key, row, n("ttl") * 1000);
    }
    await sleep(n("read-every-ms"));
  }
  await db.end();
  return reads;
}

async function writer(opts, k, start, newCache) {
  const n = (key) => Number(opts[key]);
  const db = await connectDb(opts);
  const { keyv, cache } = newCache();
  await keyv.store.getClient();
  const deadline = await start();
  const random = rng(n("seed") * 131 + k + 7);
  const mine = [];
  for (let id = 1; id <= n("rows"); id++) if (id % n("writers") === k) mine.push(id);
  let version = 0;
  const commits = [];
  while (performance.now() < deadline && mine.length > 0) {
    for (const id of mine) {
      version += 1;
      const status = STATUSES[random(STATUSES.length)];
      // Every version's total differs, so every commit changes the cached value.
      const total = `${100 + version}.${String(id % 100).padStart(2, "0")}`;
      const sent = nowUs();
      const updatedAt = versionTime(sent);
      await db.beginTransaction();
      await db.query("SELECT id FROM orders WHERE id = ? FOR UPDATE", [id]);
      await db.query("UPDATE orders SET status = ?, total = ?, updated_at = ? WHERE id = ?", [
        status,
        total,
        updatedAt,
        id,
      ]);
      await db.commit();
      const returned = nowUs();
      commits.push(commit(id, render(status, total, updatedAt), sent, returned));
      await cache.del(`order:${id}`);
      await sleep(n("write-every-ms"));
    }
  }
  await db.end();
  return commits;
}

async function setup(opts) {
  const db = await connectDb(opts);
  await db.query(
    "CREATE TABLE orders (id INT PRIMARY KEY, status VARCHAR(20) NOT NULL, " +
      "total DECIMAL(10,2) NOT NULL, updated_at DATETIME(3) NOT NULL) ENGINE=InnoDB",
  );
  await db.end();
}

async function run(opts) {
  const n = (k) => Number(opts[k]);
  const log = [];
  // The orders, inserted while recording (each its own autocommit INSERT): the binlog holds
  // every row's first version.
  const db = await connectDb(opts);
  for (let id = 1; id <= n("rows"); id++) {
    const total = `${10 + id}.50`;
    const sent = nowUs();
    const updatedAt = versionTime(sent);
    await db.query("INSERT INTO orders VALUES (?, 'NEW', ?, ?)", [id, total, updatedAt]);
    log.push(commit(id, render("NEW", total, updatedAt), sent, nowUs()));
  }
  await db.end();

  // The load's time starts when every reader and writer has connected.
  let waiting = n("readers") + n("writers");
  let go;
  const started = new Promise((resolve) => {
    go = resolve;
  });
  const start = () => {
    waiting -= 1;
    if (waiting === 0) go(performance.now() + n("duration") * 1000);
    return started;
  };
  const made = caches(opts);
  const tasks = [];
  for (let r = 0; r < n("readers"); r++) tasks.push(reader(opts, r, start, made.make));
  for (let k = 0; k < n("writers"); k++) tasks.push(writer(opts, k, start, made.make));
  for (const out of await Promise.all(tasks)) log.push(...out);
  for (const { cache } of made.all) await cache.disconnect();
  writeFileSync(opts.log, log.map((e) => JSON.stringify(e) + "\n").join(""));
  const reads = log.filter((e) => e.kind === "read");
  const hits = reads.filter((e) => e.from === "cache").length;
  const commits = log.length - reads.length;
  console.error(`node app: ${reads.length} reads (${hits} hits), ${commits} commits`);
}

const { command, opts } = parseArgs(process.argv.slice(2));
await (command === "setup" ? setup(opts) : run(opts));
