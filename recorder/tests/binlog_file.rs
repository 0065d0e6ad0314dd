/*!
Binlog files written by a real mariadbd → row changes and commits.

One workload runs once per test binary on the shared MariaDB (ROW, FULL) in a database of its
own: every column type the importer converts, multi-row transactions of inserts, updates and
deletes, and an autocommit insert with NULLs; then `FLUSH BINARY LOGS`, and the binlog files are
copied aside. The tests read those copies with the schema from `SHOW CREATE TABLE`, without a
schema, cut short at every byte, damaged and spliced; one test starts its own server with
`binlog_format=STATEMENT`.

Other tests share the server and its binlog, so assertions look only at this database's tables
and at the transactions that touched them.
*/

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cachetape_recorder::binlog::decoder::{DecodeError, TimedBody};
use cachetape_recorder::binlog::file::{BinlogError, BinlogFile, BinlogOptions, FileReport};
use cachetape_recorder::schema::Schema;
use cachetape_tape::{Commit, DateTime, EventBody, RowChange, RowOp, SourceKind, Value};
use cachetape_testkit::{MariaDb, MariaDbOptions};

const DB: &str = "ct_binlog_file";

/// The binlog copies and schema file of the workload.
struct Workload {
    files: Vec<PathBuf>,
    schema_file: PathBuf,
}

/// Starting a mariadbd removes stray `#sql*` files from `/tmp`, which makes another server's
/// `mariadb-install-db` fail if it runs at that moment: this module starts one at a time.
fn one_start_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    STARTING.lock().unwrap_or_else(|e| e.into_inner())
}

/// The binary's shared MariaDB (ROW, FULL).
pub fn shared_mariadb() -> &'static MariaDb {
    let _starting = one_start_at_a_time();
    MariaDb::shared()
}

/// A private MariaDB with `options`.
fn private_mariadb(options: MariaDbOptions) -> MariaDb {
    let _starting = one_start_at_a_time();
    MariaDb::start_with(options)
}

fn workload() -> &'static Workload {
    static WORKLOAD: OnceLock<Workload> = OnceLock::new();
    WORKLOAD.get_or_init(|| {
        let db = shared_mariadb();
        db.sql(&format!(
            "DROP DATABASE IF EXISTS {DB}; CREATE DATABASE {DB} DEFAULT CHARACTER SET utf8mb4;
             CREATE TABLE {DB}.kinds (
               `id` INT NOT NULL PRIMARY KEY,
               `i` INT,
               `u` INT UNSIGNED,
               `big` BIGINT UNSIGNED,
               `price` DECIMAL(10,2),
               `name` VARCHAR(40),
               `body` TEXT,
               `bin` BLOB,
               `at` DATETIME(6),
               `ts` TIMESTAMP(3) NULL,
               `day` DATE,
               `dur` TIME(6),
               `doc` JSON,
               `status` ENUM('new','paid','a,b'),
               `tags` SET('x','y','z'),
               `ratio` DOUBLE,
               `score` FLOAT,
               `flags` BIT(5),
               `yr` YEAR
             ) ENGINE=InnoDB;"
        ));
        db.sql(&format!(
            "SET time_zone = '+00:00';
             BEGIN;
             INSERT INTO {DB}.kinds VALUES
               (1, -5, 4000000000, 18446744073709551615, -12.34, 'héllo', 'text body', X'00FF10',
                '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.678', '2024-02-29',
                '-838:59:58.5', '{{\"a\": [1, 2], \"b\": null}}', 'a,b', 'x,z', 1.5, 2.25,
                b'10101', 2024),
               (2, 2147483647, 2147483648, 9223372036854775808, 99999999.99, '', '', '',
                '1000-01-01 00:00:00', '1970-01-01 00:00:01', '9999-12-31', '00:00:00.000001',
                '[]', 'new', '', -1e300, -0.5, b'0', 1901);
             UPDATE {DB}.kinds SET status = 'paid', price = 0.5 WHERE id = 2;
             COMMIT;
             BEGIN;
             UPDATE {DB}.kinds SET name = 'bye', u = u + 1 WHERE id IN (1, 2);
             DELETE FROM {DB}.kinds WHERE id = 1;
             COMMIT;
             INSERT INTO {DB}.kinds (id) VALUES (3);
             FLUSH BINARY LOGS;"
        ));
        // Beside the server's data directory, which is removed when the test binary exits.
        let dir = db.dir.parent().unwrap().join("ct-binlog-file");
        std::fs::create_dir_all(&dir).unwrap();
        let files: Vec<PathBuf> = db
            .binlog_files()
            .iter()
            .map(|f| {
                let copy = dir.join(f.file_name().unwrap());
                std::fs::copy(f, &copy).unwrap();
                copy
            })
            .collect();
        let out = db
            .client()
            .args(["--raw", "-e", &format!("SHOW CREATE TABLE {DB}.kinds")])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let (_, create) = text.split_once('\t').expect("table name, tab, CREATE TABLE");
        let schema_file = dir.join("schema.sql");
        std::fs::write(&schema_file, format!("USE `{DB}`;\n{};\n", create.trim_end())).unwrap();
        Workload { files, schema_file }
    })
}

/// Reads `files` in order as one source, chaining transaction numbers.
fn read_files(
    files: &[PathBuf],
    schema: Option<Arc<Schema>>,
    first_txn: u64,
) -> (Vec<TimedBody>, Vec<FileReport>) {
    let mut bodies = Vec::new();
    let mut reports = Vec::new();
    let mut next_txn = first_txn;
    for path in files {
        let options =
            BinlogOptions { schema: schema.clone(), first_txn: next_txn, ..Default::default() };
        let (mut read, report, error) = BinlogFile::open(path, &options).unwrap().read_all();
        assert!(error.is_none(), "{}", error.unwrap());
        next_txn = report.next_txn();
        bodies.append(&mut read);
        reports.push(report);
    }
    (bodies, reports)
}

fn ours(bodies: &[TimedBody]) -> Vec<EventBody> {
    let prefix = format!("{DB}.");
    let txns: Vec<u64> = bodies
        .iter()
        .filter_map(|(_, b)| match b {
            EventBody::Row(r) if r.table.starts_with(&prefix) => Some(r.txn),
            _ => None,
        })
        .collect();
    bodies
        .iter()
        .filter(|(_, b)| match b {
            EventBody::Row(r) => r.table.starts_with(&prefix),
            EventBody::Commit(c) => txns.contains(&c.txn),
            _ => false,
        })
        .map(|(_, b)| b.clone())
        .collect()
}

fn row(body: &EventBody) -> &RowChange {
    match body {
        EventBody::Row(r) => r,
        other => panic!("expected a row change, got {other:?}"),
    }
}

fn commit(body: &EventBody) -> &Commit {
    match body {
        EventBody::Commit(c) => c,
        other => panic!("expected a commit, got {other:?}"),
    }
}

fn dt(year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8, micros: u32) -> Value {
    Value::DateTime(DateTime { year, month, day, hour, minute, second, micros })
}

fn bytes(b: &[u8]) -> Value {
    Value::Bytes(b.to_vec())
}

/// The image as (column, value) pairs.
fn cells(image: &Option<cachetape_tape::RowImage>) -> Vec<(String, Value)> {
    image
        .as_ref()
        .expect("an image")
        .cells
        .iter()
        .map(|c| (c.column.to_string(), c.value.clone()))
        .collect()
}

fn named(values: Vec<Value>) -> Vec<(String, Value)> {
    let names = [
        "id", "i", "u", "big", "price", "name", "body", "bin", "at", "ts", "day", "dur", "doc",
        "status", "tags", "ratio", "score", "flags", "yr",
    ];
    names.iter().map(|n| n.to_string()).zip(values).collect()
}

fn row_one() -> Vec<Value> {
    vec![
        Value::Int(1),
        Value::Int(-5),
        Value::UInt(4_000_000_000),
        Value::UInt(u64::MAX),
        Value::Decimal("-12.34".into()),
        bytes("héllo".as_bytes()),
        bytes(b"text body"),
        bytes(b"\x00\xff\x10"),
        dt(2024, 1, 2, 3, 4, 5, 123_456),
        Value::Timestamp(1_704_164_645_678_000),
        dt(2024, 2, 29, 0, 0, 0, 0),
        Value::Time(-((838 * 3600 + 59 * 60 + 58) * 1_000_000 + 500_000)),
        Value::Json(r#"{"a": [1, 2], "b": null}"#.into()),
        bytes(b"a,b"),
        bytes(b"x,z"),
        Value::Double(1.5),
        Value::Float(2.25),
        Value::Int(0b10101),
        Value::Int(2024),
    ]
}

fn row_two() -> Vec<Value> {
    vec![
        Value::Int(2),
        Value::Int(2_147_483_647),
        Value::UInt(2_147_483_648),
        Value::UInt(9_223_372_036_854_775_808),
        Value::Decimal("99999999.99".into()),
        bytes(b""),
        bytes(b""),
        bytes(b""),
        dt(1000, 1, 1, 0, 0, 0, 0),
        Value::Timestamp(1_000_000),
        dt(9999, 12, 31, 0, 0, 0, 0),
        Value::Time(1),
        Value::Json("[]".into()),
        bytes(b"new"),
        bytes(b""),
        Value::Double(-1e300),
        Value::Float(-0.5),
        Value::Int(0),
        Value::Int(1901),
    ]
}

fn with(mut values: Vec<Value>, changes: &[(usize, Value)]) -> Vec<Value> {
    for (i, v) in changes {
        values[*i] = v.clone();
    }
    values
}

#[test]
fn mariadb_binlog_gives_exact_images_with_the_schema_names() {
    let w = workload();
    let schema = Arc::new(Schema::from_file(&w.schema_file).unwrap());
    let table = schema.table(DB, "kinds").expect("the schema file defines the table");
    assert_eq!(table.primary_key, ["id"]);
    assert!(table.column("doc").unwrap().json, "MariaDB's JSON is LONGTEXT CHECK(json_valid)");
    let (bodies, reports) = read_files(&w.files, Some(schema), 1);
    for r in &reports {
        assert_eq!(r.source_kind(), Some(SourceKind::MariaDb), "{r}");
        assert!(r.server_version().unwrap().contains("MariaDB"));
        assert!(r.truncated.is_none(), "{:?}", r.notes());
    }
    for pair in reports.windows(2) {
        let next = pair[1].path.file_name().unwrap().to_str().unwrap();
        assert_eq!(
            pair[0].decoded.next_file.as_deref(),
            Some(next),
            "the rotate names the next file"
        );
    }
    let skipped = |name: &str| {
        reports.iter().map(|r| r.decoded.skipped.get(name).copied().unwrap_or(0)).sum::<u64>()
    };
    assert!(skipped("ANNOTATE_ROWS_EVENT") >= 5, "MariaDB annotates every rows event");
    assert!(skipped("GTID_LIST_EVENT") >= 1 && skipped("BINLOG_CHECKPOINT_EVENT") >= 1);

    let ours = ours(&bodies);
    assert_eq!(ours.len(), 10, "{ours:#?}");
    let table_name = format!("{DB}.kinds");

    // Transaction A: a two-row insert, then an update, then the commit.
    let (a1, a2, a3, ca) = (row(&ours[0]), row(&ours[1]), row(&ours[2]), commit(&ours[3]));
    assert_eq!(&*a1.table, table_name);
    assert_eq!((a1.op, a2.op, a3.op), (RowOp::Insert, RowOp::Insert, RowOp::Update));
    assert!(a1.before.is_none() && a2.before.is_none());
    assert_eq!(cells(&a1.after), named(row_one()));
    assert_eq!(cells(&a2.after), named(row_two()));
    assert_eq!(cells(&a3.before), named(row_two()));
    let two_paid = with(row_two(), &[(4, Value::Decimal("0.50".into())), (13, bytes(b"paid"))]);
    assert_eq!(cells(&a3.after), named(two_paid.clone()));
    assert!(a1.txn == a2.txn && a2.txn == a3.txn && ca.txn == a1.txn);
    assert!(ca.xid.is_some(), "InnoDB transactions end with an XID event");
    assert_eq!(ca.commit_us, None, "MariaDB gives only the header's seconds");

    // Transaction B: one update event with two rows, a delete, the commit.
    let (b1, b2, b3, cb) = (row(&ours[4]), row(&ours[5]), row(&ours[6]), commit(&ours[7]));
    assert_eq!((b1.op, b2.op, b3.op), (RowOp::Update, RowOp::Update, RowOp::Delete));
    let one_bye = with(row_one(), &[(2, Value::UInt(4_000_000_001)), (5, bytes(b"bye"))]);
    let two_bye = with(two_paid.clone(), &[(2, Value::UInt(2_147_483_649)), (5, bytes(b"bye"))]);
    assert_eq!(cells(&b1.before), named(row_one()));
    assert_eq!(cells(&b1.after), named(one_bye.clone()));
    assert_eq!(cells(&b2.before), named(two_paid));
    assert_eq!(cells(&b2.after), named(two_bye));
    assert_eq!(cells(&b3.before), named(one_bye));
    assert!(b3.after.is_none());
    assert!(b1.txn == b2.txn && b2.txn == b3.txn && cb.txn == b1.txn);
    assert!(cb.txn > ca.txn);

    // Transaction C: an autocommit insert of NULLs.
    let (c1, cc) = (row(&ours[8]), commit(&ours[9]));
    assert_eq!(c1.op, RowOp::Insert);
    let mut nulls = vec![Value::Null; 19];
    nulls[0] = Value::Int(3);
    assert_eq!(cells(&c1.after), named(nulls));
    assert_eq!(cc.txn, c1.txn);
    assert!(cc.txn > cb.txn);

    // MariaDB GTIDs are domain-server-seq, increasing.
    let seqs: Vec<u64> = [ca, cb, cc]
        .iter()
        .map(|c| {
            let gtid = c.gtid.as_deref().expect("MariaDB writes a GTID per transaction");
            let parts: Vec<&str> = gtid.split('-').collect();
            assert_eq!(parts[..2], ["0", "1"], "{gtid}");
            parts[2].parse().unwrap()
        })
        .collect();
    assert!(seqs[0] < seqs[1] && seqs[1] < seqs[2], "{seqs:?}");
    for c in [ca, cb, cc] {
        assert!(c.header_secs > 1_600_000_000);
    }

    // Every transaction number of the source is unique, across files.
    let mut commits: Vec<u64> = bodies
        .iter()
        .filter_map(|(_, b)| match b {
            EventBody::Commit(c) => Some(c.txn),
            _ => None,
        })
        .collect();
    let n = commits.len();
    commits.sort();
    commits.dedup();
    assert_eq!(commits.len(), n, "transaction numbers repeat");
    // recv_us is the header's seconds.
    for (recv_us, body) in &bodies {
        let secs = match body {
            EventBody::Row(r) => r.header_secs,
            EventBody::Commit(c) => c.header_secs,
            _ => unreachable!(),
        };
        assert_eq!(*recv_us, i64::from(secs) * 1_000_000);
    }
    // The DDL of the workload is reported, with the schema caveat.
    let notes: Vec<String> = reports.iter().flat_map(FileReport::notes).collect();
    assert!(
        notes.iter().any(|n| n.contains("CREATE TABLE") && n.contains("may be stale")),
        "{notes:#?}"
    );
}

#[test]
fn without_a_schema_columns_are_positional_and_integers_signed() {
    let w = workload();
    let (bodies, reports) = read_files(&w.files, None, 1);
    let ours = ours(&bodies);
    let first = row(&ours[0]);
    let got = cells(&first.after);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    let expected: Vec<String> = (1..=19).map(|i| format!("@{i}")).collect();
    assert_eq!(names, expected);
    let values: Vec<&Value> = got.iter().map(|(_, v)| v).collect();
    assert_eq!(
        values[2],
        &Value::Int(4_000_000_000u32 as i32 as i64),
        "no UNSIGNED without a schema"
    );
    assert_eq!(values[3], &Value::Int(-1));
    assert_eq!(values[12], &bytes(br#"{"a": [1, 2], "b": null}"#), "MariaDB's JSON is text");
    assert_eq!(values[13], &Value::Int(3), "ENUM index");
    assert_eq!(values[14], &Value::UInt(0b101), "SET bit mask");
    assert_eq!(values[4], &Value::Decimal("-12.34".into()));
    let notes: Vec<String> = reports.iter().flat_map(FileReport::notes).collect();
    assert!(!notes.iter().any(|n| n.contains("may be stale")), "no schema, no stale names");
}

#[test]
fn transaction_numbers_continue_from_the_caller_counter() {
    let w = workload();
    let (from_one, _) = read_files(&w.files, None, 1);
    let (from_thousand, reports) = read_files(&w.files, None, 1000);
    let txns = |bodies: &[TimedBody]| -> Vec<u64> {
        ours(bodies)
            .iter()
            .map(|b| match b {
                EventBody::Row(r) => r.txn,
                EventBody::Commit(c) => c.txn,
                _ => unreachable!(),
            })
            .collect()
    };
    let shifted: Vec<u64> = txns(&from_one).iter().map(|t| t + 999).collect();
    assert_eq!(txns(&from_thousand), shifted);
    let last = reports.last().unwrap();
    let used: u64 = reports.iter().map(|r| r.decoded.commits).sum();
    assert_eq!(last.next_txn(), 1000 + used, "only transactions with row changes take a number");
}

/// The copy that holds the workload's transactions.
fn workload_file() -> &'static Path {
    let w = workload();
    w.files
        .iter()
        .find(|f| {
            let (bodies, _, _) = BinlogFile::open(f, &BinlogOptions::default()).unwrap().read_all();
            ours(&bodies).len() == 10
        })
        .expect("one file holds the whole workload")
}

#[test]
fn a_file_cut_anywhere_keeps_every_complete_event() {
    let path = workload_file();
    let full = std::fs::read(path).unwrap();
    let (all, report, error) =
        BinlogFile::open(path, &BinlogOptions::default()).unwrap().read_all();
    assert!(error.is_none() && report.truncated.is_none());
    let dir = tempfile::tempdir().unwrap();
    let cut_path = dir.path().join("binlog.cut");
    // Event boundaries, from the headers' sizes; cuts at and around each, and inside each event.
    let mut boundaries = vec![4usize];
    while let Some(&at) = boundaries.last()
        && at + 13 <= full.len()
    {
        let size = u32::from_le_bytes(full[at + 9..at + 13].try_into().unwrap()) as usize;
        boundaries.push(at + size);
    }
    assert_eq!(boundaries.last(), Some(&full.len()));
    let mut cuts = std::collections::BTreeSet::new();
    for pair in boundaries.windows(2) {
        let (start, end) = (pair[0], pair[1]);
        cuts.extend([1, 2, 4, 5, 9, 12, 13, 18, 19, 20].map(|d| (start + d).min(end)));
        cuts.extend([start, (start + end) / 2, end - 4, end - 1]);
    }
    let mut saw_unfinished = false;
    for &cut in cuts.iter().filter(|&&c| c < full.len()) {
        std::fs::write(&cut_path, &full[..cut]).unwrap();
        let (bodies, report, error) =
            BinlogFile::open(&cut_path, &BinlogOptions::default()).unwrap().read_all();
        assert!(error.is_none(), "cut at {cut}: {}", error.unwrap());
        assert_eq!(bodies[..], all[..bodies.len()], "cut at {cut}: not a prefix");
        assert_eq!(report.truncated.is_none(), boundaries.contains(&cut), "cut at {cut}");
        if let Some(t) = &report.truncated {
            assert!(t.offset < cut as u64 && !t.zero_filled);
            assert_eq!(t.offset + t.present, cut as u64, "cut at {cut}");
            let notes = report.notes().join("\n");
            assert!(notes.contains("binlog.cut ends inside an event"), "{notes}");
            assert!(notes.contains(&format!("position {}", t.offset)), "{notes}");
        }
        if report.decoded.unfinished.iter().any(|u| u.at_end && u.row_changes > 0) {
            saw_unfinished = true;
            assert!(report.notes().join("\n").contains("but no commit"));
        }
    }
    assert!(saw_unfinished, "some cut falls inside a transaction");

    // A zero-filled tail (allocated, never written) is ignored, not an error.
    let mut padded = full.clone();
    padded.extend([0u8; 100]);
    std::fs::write(&cut_path, &padded).unwrap();
    let (bodies, report, error) =
        BinlogFile::open(&cut_path, &BinlogOptions::default()).unwrap().read_all();
    assert!(error.is_none());
    assert_eq!(bodies, all);
    assert!(report.truncated.as_ref().is_some_and(|t| t.zero_filled && t.present == 100));
}

#[test]
fn damaged_files_are_errors_naming_the_position_never_panics() {
    let path = workload_file();
    let full = std::fs::read(path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("binlog.damaged");

    // One flipped bit: the checksum catches it and names the event.
    let mut bad = full.clone();
    let at = full.len() / 2;
    bad[at] ^= 0x10;
    std::fs::write(&damaged, &bad).unwrap();
    let (_, _, error) = BinlogFile::open(&damaged, &BinlogOptions::default()).unwrap().read_all();
    let message = error.expect("a damaged event is an error").to_string();
    assert!(message.contains("binlog.damaged") && message.contains("position"), "{message}");
    assert!(message.contains("CRC32") || message.contains("corrupt"), "{message}");

    // Without checksums, damage reaches the decoder: errors, never panics.
    let mut rng = cachetape_base::Rng::new(0x9e37_79b9_7f4a_7c15);
    let mut next = || rng.next_u64();
    let options = BinlogOptions { verify_checksums: false, ..Default::default() };
    let mut errors = 0;
    for _ in 0..400 {
        let mut bad = full.clone();
        for _ in 0..1 + next() % 4 {
            let i = 4 + (next() as usize) % (full.len() - 4);
            bad[i] = next() as u8;
        }
        std::fs::write(&damaged, &bad).unwrap();
        let error = match BinlogFile::open(&damaged, &options) {
            Ok(file) => file.read_all().2,
            Err(error) => Some(error),
        };
        if let Some(error) = error {
            let message = error.to_string();
            assert!(!message.contains("gave up"), "the parser panicked (caught): {message}");
            errors += 1;
        }
    }
    assert!(errors > 20, "damage reaches the decoder: only {errors} errors of 400");
}

#[test]
fn encrypted_mariadb_binlogs_are_a_clear_error() {
    let path = workload_file();
    let full = std::fs::read(path).unwrap();
    let fde_size = u32::from_le_bytes(full[4 + 9..4 + 13].try_into().unwrap()) as usize;
    // START_ENCRYPTION_EVENT: scheme, key version, nonce; then a CRC32.
    let mut event = Vec::new();
    event.extend(1_700_000_000u32.to_le_bytes());
    event.push(164);
    event.extend(1u32.to_le_bytes());
    event.extend(((19 + 17 + 4) as u32).to_le_bytes());
    event.extend(0u32.to_le_bytes());
    event.extend(0u16.to_le_bytes());
    event.push(1);
    event.extend(1u32.to_le_bytes());
    event.extend([7u8; 12]);
    let crc = crc32fast::hash(&event);
    event.extend(crc.to_le_bytes());
    let mut spliced = full[..4 + fde_size].to_vec();
    spliced.extend(&event);
    spliced.extend(&full[4 + fde_size..]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("binlog.encrypted");
    std::fs::write(&file, &spliced).unwrap();
    let (bodies, _, error) = BinlogFile::open(&file, &BinlogOptions::default()).unwrap().read_all();
    assert!(bodies.is_empty());
    let error = error.expect("an encrypted binlog is an error");
    assert!(
        matches!(&error, BinlogError::Decode { source: DecodeError::Encrypted { .. }, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("binlog.encrypted") && message.contains("encrypt_binlog"),
        "{message}"
    );
    assert!(message.contains("--read-from-remote-server"), "{message}");
}

#[test]
fn files_that_are_not_binlogs_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 6] = [
        ("empty", b"", "it is empty"),
        ("gz", b"\x1f\x8b\x08\x00rest", "gzip"),
        ("text", b"/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/;\n", "mysqlbinlog"),
        ("mysql-encrypted", b"\xfdbin\x03rest", "encrypted MySQL binlog"),
        ("index", b"./binlog.000001\n./binlog.000002\n", "index file"),
        ("other", b"hello world", "68 65 6c 6c"),
    ];
    for (name, content, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let error = BinlogFile::open(&path, &BinlogOptions::default()).unwrap_err();
        assert!(matches!(error, BinlogError::NotBinlog { .. }), "{name}: {error:?}");
        let message = error.to_string();
        assert!(message.contains(expected) && message.contains(name), "{name}: {message}");
    }
    let missing = BinlogFile::open(dir.path().join("missing"), &BinlogOptions::default());
    assert!(missing.unwrap_err().to_string().starts_with("cannot read binlog file"));
}

#[test]
fn statement_format_dml_is_a_clear_warning() {
    let db = private_mariadb(MariaDbOptions { binlog_format: "STATEMENT", ..Default::default() });
    db.sql(
        "CREATE DATABASE ct_statement; CREATE TABLE ct_statement.t (id INT PRIMARY KEY, v INT);
         BEGIN; INSERT INTO ct_statement.t VALUES (1, 1), (2, 2);
         UPDATE ct_statement.t SET v = 3 WHERE id = 1; COMMIT;
         DELETE FROM ct_statement.t WHERE id = 2; FLUSH BINARY LOGS;",
    );
    let files = db.binlog_files();
    let (bodies, reports) = read_files(&files, None, 1);
    assert!(bodies.is_empty(), "statement-format DML has no row events: {bodies:?}");
    let report = reports.iter().find(|r| r.decoded.statement_dml > 0).expect("DML statements seen");
    assert_eq!(report.decoded.statement_dml, 3);
    let notes = report.notes().join("\n");
    let name = report.path.display().to_string();
    assert!(notes.contains(&format!("{name}: 3 INSERT/UPDATE/DELETE statement(s)")), "{notes}");
    assert!(notes.contains("binlog_format=STATEMENT or MIXED"), "{notes}");
    assert!(notes.contains("SET GLOBAL binlog_format=ROW"), "{notes}");
    assert!(notes.contains("INSERT INTO ct_statement.t VALUES (1, 1), (2, 2)"), "{notes}");
}

#[test]
fn partial_images_and_binlog_metadata() {
    let db = private_mariadb(MariaDbOptions { binlog_row_image: "MINIMAL", ..Default::default() });
    db.sql(
        "CREATE DATABASE ct_minimal;
         CREATE TABLE ct_minimal.t (id INT PRIMARY KEY, a INT UNSIGNED, b VARCHAR(10), e ENUM('x','y'));
         INSERT INTO ct_minimal.t VALUES (1, 3000000000, 'p', 'y');
         UPDATE ct_minimal.t SET b = 'q' WHERE id = 1;
         DELETE FROM ct_minimal.t WHERE id = 1;
         SET GLOBAL binlog_row_metadata = FULL;",
    );
    db.sql("INSERT INTO ct_minimal.t VALUES (2, 4000000000, 'r', 'x'); FLUSH BINARY LOGS;");
    let dir = tempfile::tempdir().unwrap();
    let schema_file = dir.path().join("schema.sql");
    std::fs::write(
        &schema_file,
        "CREATE TABLE ct_minimal.t (id INT PRIMARY KEY, a INT UNSIGNED, b VARCHAR(10), e ENUM('x','y'));",
    )
    .unwrap();
    let schema = Arc::new(Schema::from_file(&schema_file).unwrap());
    let (bodies, _) = read_files(&db.binlog_files(), Some(schema), 1);
    let rows: Vec<&RowChange> = bodies
        .iter()
        .filter_map(|(_, b)| match b {
            EventBody::Row(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(rows.len(), 4, "{rows:#?}");
    let pairs = |v: &[(&str, Value)]| -> Vec<(String, Value)> {
        v.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
    };
    assert_eq!(
        cells(&rows[0].after),
        pairs(&[
            ("id", Value::Int(1)),
            ("a", Value::UInt(3_000_000_000)),
            ("b", bytes(b"p")),
            ("e", bytes(b"y"))
        ])
    );
    assert_eq!(cells(&rows[1].before), pairs(&[("id", Value::Int(1))]), "MINIMAL: the key only");
    assert_eq!(
        cells(&rows[1].after),
        pairs(&[("b", bytes(b"q"))]),
        "MINIMAL: changed columns only"
    );
    assert_eq!(cells(&rows[2].before), pairs(&[("id", Value::Int(1))]));
    assert!(rows[2].after.is_none());
    assert_eq!(
        cells(&rows[3].after),
        pairs(&[
            ("id", Value::Int(2)),
            ("a", Value::UInt(4_000_000_000)),
            ("b", bytes(b"r")),
            ("e", bytes(b"x"))
        ])
    );

    // With binlog_row_metadata=FULL the binlog names the columns, signedness and ENUM members
    // itself: no schema needed, and a stale schema cannot misname them.
    let stale = dir.path().join("stale.sql");
    std::fs::write(&stale, "CREATE TABLE ct_minimal.t (id INT PRIMARY KEY, x INT);").unwrap();
    let stale = Arc::new(Schema::from_file(&stale).unwrap());
    let (bodies, reports) = read_files(&db.binlog_files(), Some(stale), 1);
    let rows: Vec<&RowChange> = bodies
        .iter()
        .filter_map(|(_, b)| match b {
            EventBody::Row(r) => Some(r),
            _ => None,
        })
        .collect();
    let names = |r: &RowChange| -> Vec<String> {
        r.after.as_ref().unwrap().cells.iter().map(|c| c.column.to_string()).collect()
    };
    assert_eq!(names(rows[0]), ["@1", "@2", "@3", "@4"], "a schema that does not fit is not used");
    assert_eq!(
        rows[0].after.as_ref().unwrap().cells[1].value,
        Value::Int(3_000_000_000u32 as i32 as i64)
    );
    assert_eq!(
        cells(&rows[3].after),
        pairs(&[
            ("id", Value::Int(2)),
            ("a", Value::UInt(4_000_000_000)),
            ("b", bytes(b"r")),
            ("e", bytes(b"x"))
        ])
    );
    let notes: Vec<String> = reports.iter().flat_map(FileReport::notes).collect();
    assert!(
        notes
            .iter()
            .any(|n| n
                .contains("defines ct_minimal.t with 2 columns, but the binlog's table map has 4")),
        "{notes:#?}"
    );
}

#[test]
fn the_server_version_is_known_once_the_file_is_open() {
    let file = BinlogFile::open(workload_file(), &BinlogOptions::default()).unwrap();
    assert_eq!(file.source_kind(), Some(SourceKind::MariaDb));
    assert!(file.server_version().unwrap().contains("-MariaDB"), "{:?}", file.server_version());
}
