"""A small Django shop under cache-aside load, recorded by cachetape's end-to-end test
(tests/app_django.rs).

It uses Django's built-in cache backend `django.core.cache.backends.redis.RedisCache` (by default
with its pickle serializer) and MariaDB through `django.db.backends.mysql` (PyMySQL standing in
for mysqlclient), as an application would:

- **readers** `cache.get(f"order:{id}")`; on a miss they read the row
  (`Order.objects.get(id=id)`), sometimes stall, then `cache.set(key, model_to_dict(order), 300)`
  (or, with `--cache instance`, the Order itself; with `--cache json-text`, the text
  `json.dumps(model_to_dict(order), cls=DjangoJSONEncoder)`, which the pickle serializer stores
  as a pickled str);
- **writers** update the row in a transaction (`transaction.atomic()`), then
  `cache.delete(key)`. Each writer owns a share of the rows, so a row's commits are serial.

Every read and commit is logged as one JSON line, with the app's clock (µs since the epoch) before
and after it, so the log alone proves a cache hit fresh or stale:

    {"kind": "commit", "id": 3, "value": "PAID|101.03|2026-…", "sent_us": …, "returned_us": …}
    {"kind": "read", "client": "127.0.0.1:40000", "id": 3, "from": "cache", "value": …, …}

`client` is the reader's Redis connection as the server (and MONITOR) names it; a reader's reads
are logged in its order. `value` renders status, total and updated_at the same way whether they
came from the cache or the database. The seed rows' inserts are commits too.

    python app.py setup --mysql-port P --database D         # create the table (before recording)
    python app.py run --redis-port R --mysql-port P --database D --log FILE [options]
"""

import argparse
import datetime
import decimal
import json
import os
import random
import sys
import threading
import time

import pymysql

pymysql.install_as_MySQLdb()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

STATUSES = ["NEW", "PAID", "SHIPPED", "CANCELLED", "REFUNDED"]


def now_us():
    """The machine's clock in µs since the epoch (the clock the recorder uses)."""
    return time.time_ns() // 1000


def configure(args):
    """Django settings for the given servers, then django.setup()."""
    import django
    from django.conf import settings

    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{args.redis_port}/0",
    }
    if args.serializer == "json":
        cache["OPTIONS"] = {"serializer": "shop.serializers.JSONSerializer"}
    settings.configure(
        DEBUG=False,
        USE_TZ=True,
        TIME_ZONE="UTC",
        INSTALLED_APPS=["shop"],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.mysql",
                "HOST": "127.0.0.1",
                "PORT": str(args.mysql_port),
                "USER": "root",
                "PASSWORD": "",
                "NAME": args.database,
            }
        },
        CACHES={"default": cache},
    )
    django.setup()


def render(status, total, updated_at):
    """One rendering of a row's cached columns, from the database or from the cache (pickle
    gives Decimal and datetime back, JSON gives strings)."""
    total = decimal.Decimal(str(total))
    if isinstance(updated_at, str):
        updated_at = datetime.datetime.fromisoformat(updated_at)
    updated_at = updated_at.astimezone(datetime.timezone.utc)
    return f"{status}|{total}|{updated_at.isoformat()}"


def render_cached(value):
    """The rendering of what `cache.get` returned: the dict model_to_dict made, the JSON text of
    it, or an Order."""
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        return render(value.status, value.total, value.updated_at)
    return render(value["status"], value["total"], value["updated_at"])


def version_time(now):
    """An updated_at with millisecond precision (JSON keeps milliseconds only)."""
    return datetime.datetime.fromtimestamp(now // 1000 / 1000, datetime.timezone.utc)


def setup(args):
    """Creates the table, empty (the run inserts the rows, so the binlog shows them)."""
    from django.db import connection

    from shop.models import Order

    with connection.schema_editor() as editor:
        editor.create_model(Order)


def reader(args, r, start, out):
    from django.core.cache import cache
    from django.db import connections

    from shop.models import Order

    rng = random.Random(args.seed * 31 + r + 1)
    # This thread's cache has its own connection pool, which a single thread keeps at one
    # connection: ask the server what it calls it.
    client = cache._cache.get_client().client_info()["addr"]
    Order.objects.exists()  # connect first
    deadline = start()
    reads = []
    while time.monotonic() < deadline:
        id = rng.randint(1, args.rows)
        key = f"order:{id}"
        sent = now_us()
        value = cache.get(key)
        returned = now_us()
        if value is not None:
            reads.append(read(client, id, "cache", render_cached(value), sent, returned))
        else:
            sent = now_us()
            order = Order.objects.get(id=id)
            returned = now_us()
            reads.append(read(client, id, "db", render_cached(order), sent, returned))
            if rng.randrange(1000) < args.stall_per_mille:
                time.sleep(args.stall_ms / 1000)
            cache.set(key, cached(args, order), args.ttl)
        time.sleep(args.read_every_ms / 1000)
    connections.close_all()
    out.extend(reads)


def cached(args, order):
    """What the reader caches for `order`, as `--cache` says."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.forms.models import model_to_dict

    if args.cache == "instance":
        return order
    if args.cache == "json-text":
        return json.dumps(model_to_dict(order), cls=DjangoJSONEncoder)
    return model_to_dict(order)


def read(client, id, source, value, sent, returned):
    return {
        "kind": "read",
        "client": client,
        "id": id,
        "from": source,
        "value": value,
        "sent_us": sent,
        "returned_us": returned,
    }


def commit(id, value, sent, returned):
    return {"kind": "commit", "id": id, "value": value, "sent_us": sent, "returned_us": returned}


def writer(args, k, start, out):
    from django.core.cache import cache
    from django.db import connections, transaction

    from shop.models import Order

    rng = random.Random(args.seed * 131 + k + 7)
    mine = [id for id in range(1, args.rows + 1) if id % args.writers == k]
    Order.objects.exists()  # connect first
    deadline = start()
    version = 0
    commits = []
    while time.monotonic() < deadline and mine:
        for id in mine:
            version += 1
            status = rng.choice(STATUSES)
            # Every version's total differs, so every commit changes the cached value.
            total = decimal.Decimal(f"{100 + version}.{id % 100:02d}")
            sent = now_us()
            updated_at = version_time(sent)
            with transaction.atomic():
                order = Order.objects.select_for_update().get(id=id)
                order.status = status
                order.total = total
                order.updated_at = updated_at
                order.save(update_fields=["status", "total", "updated_at"])
            returned = now_us()
            commits.append(commit(id, render(status, total, updated_at), sent, returned))
            cache.delete(f"order:{id}")
            time.sleep(args.write_every_ms / 1000)
    connections.close_all()
    out.extend(commits)


def run(args):
    from django.db import connections

    from shop.models import Order

    log = []
    # The orders, created while recording (each its own autocommit INSERT): the binlog holds
    # every row's first version.
    for id in range(1, args.rows + 1):
        sent = now_us()
        total = decimal.Decimal(f"{10 + id}.50")
        o = Order.objects.create(id=id, status="NEW", total=total, updated_at=version_time(sent))
        returned = now_us()
        log.append(commit(o.id, render(o.status, o.total, o.updated_at), sent, returned))
    connections.close_all()

    # The load's time starts when every thread has connected (a loaded machine may take a while).
    barrier = threading.Barrier(args.readers + args.writers)

    def start():
        barrier.wait()
        return time.monotonic() + args.duration

    outs = []
    threads = []
    for r in range(args.readers):
        outs.append([])
        threads.append(threading.Thread(target=reader, args=(args, r, start, outs[-1])))
    for k in range(args.writers):
        outs.append([])
        threads.append(threading.Thread(target=writer, args=(args, k, start, outs[-1])))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for out in outs:
        log.extend(out)
    with open(args.log, "w") as f:
        for entry in log:
            f.write(json.dumps(entry) + "\n")
    hits = sum(1 for e in log if e["kind"] == "read" and e["from"] == "cache")
    reads = sum(1 for e in log if e["kind"] == "read")
    commits = sum(1 for e in log if e["kind"] == "commit")
    print(f"django app: {reads} reads ({hits} hits), {commits} commits", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=["setup", "run"])
    p.add_argument("--redis-port", type=int, default=6379)
    p.add_argument("--mysql-port", type=int, required=True)
    p.add_argument("--database", required=True)
    p.add_argument("--log", help="where `run` writes its JSON lines")
    p.add_argument("--serializer", choices=["pickle", "json"], default="pickle")
    p.add_argument(
        "--cache",
        choices=["dict", "instance", "json-text"],
        default="dict",
        help="cache model_to_dict(order), the Order itself, or json.dumps of the dict",
    )
    p.add_argument("--rows", type=int, default=4)
    p.add_argument("--readers", type=int, default=4)
    p.add_argument("--writers", type=int, default=2)
    p.add_argument("--duration", type=float, default=2.0, help="seconds of load")
    p.add_argument("--stall-per-mille", type=int, default=400)
    p.add_argument("--stall-ms", type=float, default=150)
    p.add_argument("--write-every-ms", type=float, default=40)
    p.add_argument("--read-every-ms", type=float, default=2)
    p.add_argument("--ttl", type=int, default=300)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    configure(args)
    if args.command == "setup":
        setup(args)
    else:
        if not args.log:
            p.error("run needs --log")
        run(args)


if __name__ == "__main__":
    main()
