//! The extraction on small hand-written traces: units, ops, components, quiet gaps, carried
//! races, forced orders, scripts, blocks and gaps.

use super::*;
use crate::model::{CacheVal, DbVal, Op, ReadInfo};
use cachetape_analyzer::Verdict;
use cachetape_tape::{
    Argv, Cell, Commit, RedisCommand, RowChange, RowImage, RowOp, SourceId, Value,
};

const T0: Micros = 1_795_666_525_000_000;
const MS: Micros = 1_000;

struct Trace {
    events: Vec<Event>,
    txn: u64,
}

fn header() -> Header {
    cachetape_testkit::trace::cache_and_db(T0)
}

fn image(id: i64, status: &str) -> RowImage {
    RowImage {
        cells: vec![
            Cell { column: "id".into(), value: Value::Int(id) },
            Cell { column: "status".into(), value: Value::Bytes(status.as_bytes().to_vec()) },
        ],
    }
}

impl Trace {
    fn new() -> Trace {
        Trace { events: Vec::new(), txn: 0 }
    }

    fn push(&mut self, source: u16, recv_us: Micros, body: EventBody) {
        let seq = self.events.len() as u64;
        self.events.push(Event { seq, source: SourceId(source), recv_us, body });
    }

    fn redis(&mut self, ms: i64, client: &str, args: &[&str]) -> &mut Self {
        let t = T0 + ms * MS;
        let body = EventBody::Redis(RedisCommand {
            db: 0,
            client: client.into(),
            server_us: t,
            argv: Argv::from_parts(args.iter().map(|a| a.as_bytes())),
            script: Vec::new(),
        });
        self.push(0, t + 50, body);
        self
    }

    fn update(&mut self, ms: i64, id: i64, from: &str, to: &str) -> &mut Self {
        let t = T0 + ms * MS;
        self.txn += 1;
        let secs = (t / 1_000_000) as u32;
        let change = RowChange {
            table: "shop.orders".into(),
            op: RowOp::Update,
            before: Some(image(id, from)),
            after: Some(image(id, to)),
            txn: self.txn,
            header_secs: secs,
        };
        self.push(1, t, EventBody::Row(change));
        let commit =
            Commit { txn: self.txn, header_secs: secs, commit_us: None, gtid: None, xid: None };
        self.push(1, t, EventBody::Commit(commit));
        self
    }

    fn extract(&self, window_us: Us) -> Extraction {
        let mapping = Mapping::parse(
            "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\ncolumn = \"status\"\n",
        )
        .unwrap();
        let options = ExtractOptions { window_us, ..ExtractOptions::default() };
        extract(&header(), &self.events, &mapping, options).unwrap()
    }
}

const R: &str = "10.0.0.9:40000";
const W: &str = "10.0.0.7:51234";

#[test]
fn a_stale_set_race_becomes_one_component_with_its_stories() {
    let mut t = Trace::new();
    t.redis(6, R, &["GET", "order:42"])
        .update(10, 42, "CANCELLED", "PAID")
        .redis(11, W, &["DEL", "order:42"])
        .redis(13, R, &["SETEX", "order:42", "300", "CANCELLED"])
        .redis(17, W, &["GET", "order:42"])
        .redis(17, W, &["GET", "cart:1"]);
    let x = t.extract(5 * MS);
    assert_eq!(x.components.len(), 1);
    let c = &x.components[0];
    let info = &x.info[0];
    let whats: Vec<&str> = info.units.iter().map(|u| u.what.as_str()).collect();
    assert_eq!(
        whats,
        [
            "GET order:42",
            "COMMIT shop.orders id=42 → PAID",
            "DEL order:42",
            "SETEX order:42 → CANCELLED",
            "GET order:42"
        ]
    );
    assert_eq!(c.keys, ["order:42"]);
    assert_eq!(c.subjects, ["shop.orders id=42"]);
    assert_eq!(c.initial_cache, [(CacheVal::Absent, None)]);
    assert_eq!(info.db_values, ["CANCELLED", "PAID"]);
    assert_eq!(c.initial_db, [DbVal::Known(0)]);
    assert_eq!(c.units[1].ops, [Op::Commit { subject: 0, value: DbVal::Known(1) }]);
    assert_eq!(c.units[1].lane, Lane::Db(1));
    assert_eq!(c.units[2].ops, [Op::Del { key: 0 }]);
    let Op::Set { value: CacheVal::Known(v), expires_at: Some(e), .. } = c.units[3].ops[0] else {
        panic!("{:?}", c.units[3].ops)
    };
    assert_eq!(info.cache_values[v as usize], "CANCELLED");
    assert_eq!(e, T0 + 13 * MS + 300_000_000);
    assert!(c.agrees(v, 0) && !c.agrees(v, 1));
    assert_eq!(c.reads.len(), 2);
    assert_eq!(c.reads[1], ReadInfo { unit: 4, seq: 5 });
    assert_eq!(c.units[4].t_us, T0 + 17 * MS);
    assert_eq!(x.lane_name(c.units[2].lane), W);
    assert_eq!(x.lane_name(c.units[1].lane), "db");
    assert_eq!(info.units[1].events, [1, 2]);
    // CANCELLED is the initial value: no commit produced it, no causality edge.
    assert!(c.before.is_empty(), "{:?}", c.before);
    assert!(!c.approximate);
}

#[test]
fn a_write_of_a_committed_value_stays_after_its_commit() {
    let mut t = Trace::new();
    t.redis(0, R, &["GET", "order:7"])
        .update(1, 7, "NEW", "PAID")
        .redis(2, R, &["SET", "order:7", "PAID"])
        .update(3, 7, "PAID", "SHIPPED")
        .redis(4, W, &["DEL", "order:7"])
        .redis(5, R, &["GET", "order:7"]);
    let x = t.extract(5 * MS);
    let c = &x.components[0];
    // Units: GET, COMMIT PAID, SET PAID, COMMIT SHIPPED, DEL, GET.
    assert_eq!(c.units.len(), 6);
    assert!(c.before.contains(&(1, 2)), "{:?}", c.before);
    assert!(!c.before.iter().any(|&(a, b)| b == 2 && a == 3), "{:?}", c.before);
}

#[test]
fn a_write_of_a_value_two_commits_produced_follows_the_earlier() {
    let mut t = Trace::new();
    t.update(0, 7, "NEW", "PENDING")
        .redis(1, R, &["GET", "order:7"])
        .update(2, 7, "PENDING", "REFUNDED")
        .update(3, 7, "REFUNDED", "PENDING")
        .redis(4, R, &["SET", "order:7", "PENDING"])
        .redis(5, R, &["GET", "order:7"]);
    let x = t.extract(5 * MS);
    let c = &x.components[0];
    // Units: COMMIT PENDING, GET, COMMIT REFUNDED, COMMIT PENDING, SET PENDING, GET. The SET
    // may hold the PENDING read before REFUNDED: it follows the first PENDING, not the second.
    assert_eq!(c.units.len(), 6);
    assert!(c.before.contains(&(0, 4)), "{:?}", c.before);
    assert!(!c.before.contains(&(3, 4)), "{:?}", c.before);
}

#[test]
fn keys_tied_only_by_their_rows_and_blocks_form_components() {
    let mut t = Trace::new();
    t.redis(0, R, &["GET", "order:1"])
        .redis(1, R, &["GET", "order:2"])
        .redis(2, W, &["MULTI"])
        .redis(3, R, &["GET", "order:3"])
        .redis(4, W, &["DEL", "order:2"])
        .redis(4, W, &["DEL", "order:3"])
        .redis(4, W, &["EXEC"])
        .update(5, 3, "C", "D")
        .update(6, 1, "A", "B");
    let x = t.extract(10 * MS);
    // order:1 alone (with its row); order:2 and order:3 tied by the block.
    assert_eq!(x.components.len(), 2);
    assert_eq!(x.components[0].keys, ["order:1"]);
    assert_eq!(x.components[1].keys, ["order:2", "order:3"]);
    let block = &x.info[1].units.iter().find(|u| u.what.starts_with("MULTI")).unwrap();
    assert_eq!(block.events, [2, 4, 5, 6]);
    assert_eq!(block.anchor, 4);
    assert_eq!(block.what, "MULTI/EXEC (DEL order:2; DEL order:3)");
}

#[test]
fn orders_forced_through_another_row_are_hard_constraints() {
    let mut t = Trace::new();
    // Commit of order 1 at 0, then of order 2 at 1 (binlog order); R caches order 2's new
    // value at 2 (so after that commit), then reads order:1 at 3: that read comes after the
    // commit of order 1 in every order, though they are 3 ms apart in a 5 ms window.
    t.redis(0, W, &["GET", "order:1"])
        .update(0, 1, "A", "B")
        .update(1, 2, "C", "D")
        .redis(2, R, &["SET", "order:2", "D"])
        .redis(3, R, &["GET", "order:1"]);
    let x = t.extract(5 * MS);
    let c = &x.components[0];
    assert_eq!(c.keys, ["order:1"]);
    // Units: W's GET, the commit, R's GET.
    assert_eq!(c.units.len(), 3);
    assert_eq!(c.before, [(1, 2)]);
    // Without that write, nothing is forced.
    let mut t = Trace::new();
    t.redis(0, W, &["GET", "order:1"]).update(0, 1, "A", "B").update(1, 2, "C", "D").redis(
        3,
        R,
        &["GET", "order:1"],
    );
    assert!(t.extract(5 * MS).components[0].before.is_empty());
}

#[test]
fn quiet_gaps_cut_a_key_and_a_race_before_the_cut_is_carried() {
    let mut t = Trace::new();
    // Part 1: cached, read. Part 2 (10 ms later): commit, SETEX of the old value and DEL
    // racing. Part 3 (10 ms later): a read, whose value depends on that race.
    t.redis(0, R, &["SETEX", "order:1", "300", "A"])
        .redis(1, W, &["GET", "order:1"])
        .update(11, 1, "A", "B")
        .redis(12, R, &["SETEX", "order:1", "300", "A"])
        .redis(13, W, &["DEL", "order:1"])
        .redis(14, W, &["GET", "order:1"])
        .redis(24, W, &["GET", "order:1"]);
    let x = t.extract(5 * MS);
    // Part 1 commits nothing and caches what the row holds: provably clean, not explored.
    assert_eq!((x.components.len(), x.quiet), (2, 1));
    let whats =
        |i: usize| -> Vec<&str> { x.info[i].units.iter().map(|u| u.what.as_str()).collect() };
    assert_eq!(
        whats(0),
        ["COMMIT shop.orders id=1 → B", "SETEX order:1 → A", "DEL order:1", "GET order:1"]
    );
    // Part 2 starts from what part 1 left: A cached, by the first SETEX.
    let c1 = &x.components[0];
    assert!(matches!(c1.initial_cache[0].0, CacheVal::Known(_)));
    assert_eq!(x.info[0].initial_writes[0].as_ref().map(|w| w.0), Some(0));
    // Part 3 carries the race (and the commit before it), without their reads.
    assert_eq!(
        whats(1),
        ["COMMIT shop.orders id=1 → B", "SETEX order:1 → A", "DEL order:1", "GET order:1"]
    );
    let c2 = &x.components[1];
    assert_eq!(c2.reads.len(), 1);
    assert_eq!(c2.reads[0].seq, 7);
    // The carried GET at 14 ms (a read of part 2) is not here; part 3's GET is.
    assert_eq!(c2.units.len(), 4);
    assert_eq!(c2.units[3].seq, 7);
    assert_eq!(c2.initial_db, [DbVal::Known(0)]);
    // Once the last writes settle (one DEL), nothing is carried.
    let mut t = Trace::new();
    t.redis(0, R, &["SETEX", "order:1", "300", "A"])
        .update(11, 1, "A", "B")
        .redis(12, W, &["DEL", "order:1"])
        .redis(24, W, &["GET", "order:1"]);
    let x = t.extract(5 * MS);
    // The read's part starts with nothing cached and commits nothing: quiet.
    assert!(x.components.is_empty());
    assert_eq!(x.quiet, 1);
}

#[test]
fn commands_become_the_ops_the_explorer_models() {
    let mut t = Trace::new();
    t.redis(0, R, &["SET", "order:1", "A", "EX", "10"])
        .redis(1, R, &["EXPIRE", "order:1", "20"])
        .redis(2, R, &["PERSIST", "order:1"])
        .redis(3, R, &["PEXPIRE", "order:1", "0"])
        .redis(4, R, &["MGET", "order:1", "cart:2", "order:2"])
        .redis(5, R, &["SET", "order:2", "B"])
        .redis(6, R, &["SET", "order:2", "C", "NX"])
        .redis(7, R, &["GETDEL", "order:2"])
        .redis(8, R, &["APPEND", "order:3", "x"])
        .redis(9, W, &["UNLINK", "order:3", "cart:9"])
        .update(9, 1, "A", "B")
        .update(9, 2, "B", "C")
        .update(9, 3, "x", "y")
        .redis(10, R, &["GET", "order:3"]);
    let x = t.extract(5 * MS);
    // MGET ties order:1 and order:2; APPEND and UNLINK are order:3's own.
    assert_eq!(x.components.len(), 2);
    let c = &x.components[0];
    assert_eq!(c.keys, ["order:1", "order:2"]);
    let ops: Vec<&[Op]> = c.units.iter().map(|u| &u.ops[..]).collect();
    let virt = |ms: i64| T0 + ms * MS;
    assert!(
        matches!(ops[0], [Op::Set { key: 0, value: CacheVal::Known(_), expires_at: Some(e) }] if *e == virt(10_000))
    );
    assert_eq!(ops[1], [Op::Expire { key: 0, expires_at: Some(virt(1 + 20_000)) }]);
    assert_eq!(ops[2], [Op::Expire { key: 0, expires_at: None }]);
    // An expiry already past deletes.
    assert_eq!(ops[3], [Op::Del { key: 0 }]);
    assert!(matches!(
        ops[4],
        [Op::Read { key: 0, subject: 0, read: 0 }, Op::Read { key: 1, subject: 1, read: 1 }]
    ));
    assert!(matches!(ops[5], [Op::Set { key: 1, value: CacheVal::Known(_), expires_at: None }]));
    // SET NX on a present key changes nothing: no op, no unit; GETDEL reads then deletes.
    assert!(matches!(ops[6], [Op::Read { key: 1, .. }, Op::Del { key: 1 }]));
    assert!(c.approximate, "SET NX is conditional");
    assert_eq!(x.info[0].units[6].what, "GETDEL order:2");
    let c = &x.components[1];
    assert_eq!(c.keys, ["order:3"]);
    assert!(matches!(c.units[0].ops[..], [Op::Set { key: 0, value: CacheVal::Known(_), .. }]));
    assert!(c.approximate, "APPEND depends on the prior value");
    assert_eq!(c.units[1].ops, [Op::Del { key: 0 }]);
    assert_eq!(x.info[1].units[1].what, "UNLINK order:3");
    assert_eq!(x.info[1].units[1].events, [9]);
}

#[test]
fn a_script_with_its_lua_lines_is_one_unit() {
    let mut t = Trace::new();
    t.redis(0, R, &["GET", "order:1"]);
    let at = T0 + MS;
    let call = |args: &[&str]| cachetape_tape::ScriptCall {
        db: 0,
        server_us: at,
        argv: Argv::from_parts(args.iter().map(|a| a.as_bytes())),
    };
    let body = EventBody::Redis(RedisCommand {
        db: 0,
        client: W.into(),
        server_us: at,
        argv: Argv::from_parts(
            [
                "EVAL",
                "redis.call('DEL', KEYS[1]) redis.call('SET', KEYS[2], 'B')",
                "2",
                "order:1",
                "order:2",
            ]
            .iter()
            .map(|a| a.as_bytes()),
        ),
        script: vec![call(&["del", "order:1"]), call(&["set", "order:2", "B"])],
    });
    t.push(0, at + 50, body);
    t.redis(2, R, &["GET", "order:2"]).update(3, 1, "A", "B");
    let x = t.extract(5 * MS);
    assert_eq!(x.components.len(), 1);
    let c = &x.components[0];
    // The script ties order:1 and order:2 and moves as one unit with both effects.
    assert_eq!(c.keys, ["order:1", "order:2"]);
    let script = &c.units[1];
    assert!(matches!(script.ops[..], [Op::Del { key: 0 }, Op::Set { key: 1, .. }]));
    assert_eq!(x.info[0].units[1].what, "EVAL (DEL order:1; SET order:2 → B)");
    assert_eq!(x.info[0].units[1].events, [1]);
}

#[test]
fn a_redis_gap_makes_the_keys_it_hid_unknown() {
    let mut t = Trace::new();
    t.redis(0, R, &["SET", "order:1", "A"]).update(1, 1, "A", "B");
    let gap = cachetape_tape::Gap {
        from_us: T0 + 2 * MS,
        to_us: T0 + 3 * MS,
        reason: "connection lost".into(),
    };
    t.push(0, T0 + 3 * MS, EventBody::Gap(gap));
    t.redis(4, R, &["GET", "order:1"]).redis(4, R, &["GET", "order:2"]).update(5, 2, "C", "D");
    let x = t.extract(10 * MS);
    let c = &x.components[0];
    assert_eq!(c.keys, ["order:1"]);
    // order:1 was known, then the gap: a unit on the probe lane makes it unknown.
    let gap = c.units.iter().find(|u| matches!(u.lane, Lane::Probe(0))).unwrap();
    assert_eq!(gap.ops, [Op::Set { key: 0, value: CacheVal::Unknown, expires_at: None }]);
    assert_eq!(x.lane_name(gap.lane), "the recorder's probe of cache");
    // order:2 is first seen after the gap: unknown from the start.
    let c = &x.components[1];
    assert_eq!(c.keys, ["order:2"]);
    assert_eq!(c.initial_cache, [(CacheVal::Unknown, None)]);
}

#[test]
fn a_multi_row_transaction_pinned_for_a_stale_value_never_rolls_back_another_row() {
    // One transaction sets up rows 1–3; row 1 is then updated and cached fresh, row 3 updated;
    // row 2 is cached, then changed with no invalidation (a missing invalidation, stale at the
    // cut). The next part, 54 ms later, reads rows 1 and 2 (found by the Django app test). Row 2's story pins the commits of its row from
    // the setup transaction on; replaying that transaction would put row 1 back to A, so its
    // fresh read would be called stale-definite. It must not be.
    let mut t = Trace::new();
    let (t0, secs) = (T0, (T0 / 1_000_000) as u32);
    t.txn += 1;
    for (id, to) in [(1, "A"), (2, "C"), (3, "E")] {
        let change = RowChange {
            table: "shop.orders".into(),
            op: RowOp::Update,
            before: Some(image(id, "X")),
            after: Some(image(id, to)),
            txn: t.txn,
            header_secs: secs,
        };
        t.push(1, t0, EventBody::Row(change));
    }
    let commit = Commit { txn: t.txn, header_secs: secs, commit_us: None, gtid: None, xid: None };
    t.push(1, t0, EventBody::Commit(commit));
    t.update(1, 1, "A", "P")
        .redis(2, R, &["SET", "order:1", "P"])
        .update(2, 3, "E", "F")
        .redis(3, R, &["SET", "order:2", "C"])
        .redis(4, W, &["GET", "order:1"])
        .update(5, 2, "C", "D")
        .redis(6, W, &["GET", "order:2"])
        .redis(60, W, &["GET", "order:1"])
        .redis(61, W, &["GET", "order:2"]);
    let x = t.extract(5 * MS);
    assert!(x.info.len() == 2 && x.pin_rollbacks > 0);
    let mapping = Mapping::parse(
        "[[rule]]\nkey = \"order:{id}\"\ntable = \"shop.orders\"\ncolumn = \"status\"\n",
    )
    .unwrap();
    let report = crate::Replay::from_events(header(), t.events.clone())
        .mapping(mapping, "test")
        .perturb(std::time::Duration::from_millis(5))
        .jobs(1)
        .run()
        .unwrap();
    let flagged: Vec<(&str, Verdict)> =
        report.stale_reads().iter().map(|f| (f.read.key.as_str(), f.read.verdict)).collect();
    assert!(flagged.iter().all(|&(k, _)| k != "order:1"), "{flagged:?}");
    assert!(flagged.contains(&("order:2", Verdict::StaleDefinite)), "{flagged:?}");
}
