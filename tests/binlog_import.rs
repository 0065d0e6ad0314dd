//! `cachetape import --binlog … --schema …` on binlog files written by a real mariadbd:
//! row changes with correct before/after images under the schema file's column names, grouped
//! into transactions that end in a commit.

use cachetape_testkit::MariaDb;
use serde_json::{Value, json};

use crate::util::cachetape;

#[test]
fn binlog_files_import_with_the_schema_column_names() {
    let db = MariaDb::shared();
    db.sql(
        "CREATE DATABASE cli_import;
         CREATE TABLE cli_import.orders (
           id INT UNSIGNED PRIMARY KEY, status VARCHAR(16) NOT NULL,
           total DECIMAL(10,2), note TEXT, updated DATETIME(6));",
    );
    db.sql(
        "BEGIN;
         INSERT INTO cli_import.orders VALUES (42, 'CANCELLED', 9.99, NULL, '2026-11-26 04:15:25.000001');
         INSERT INTO cli_import.orders VALUES (3000000000, 'NEW', 120.50, 'x', '2026-11-26 04:15:26');
         COMMIT;
         BEGIN;
         UPDATE cli_import.orders SET status = 'PAID' WHERE id = 42;
         DELETE FROM cli_import.orders WHERE id = 3000000000;
         COMMIT;
         FLUSH BINARY LOGS;",
    );
    let dir = tempfile::tempdir().unwrap();
    let schema = dir.path().join("schema.sql");
    let ddl = db.sql("SHOW CREATE TABLE cli_import.orders");
    let ddl = ddl.split_once('\t').unwrap().1.replace("\\n", "\n");
    std::fs::write(&schema, format!("USE cli_import;\n{ddl};\n")).unwrap();

    let trace = dir.path().join("trace.bin");
    let mut cmd = cachetape();
    cmd.arg("import");
    for file in db.binlog_files() {
        cmd.arg("--binlog").arg(file);
    }
    let out = cmd.arg("--schema").arg(&schema).arg("-o").arg(&trace).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("MariaDB"), "{stdout}");

    let out = cachetape().args(["cat", "--json"]).arg(&trace).output().unwrap();
    assert!(out.status.success());
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|e: &Value| e["kind"] == "commit" || e["table"] == "cli_import.orders")
        .collect();
    let shape: Vec<(String, Value, Value)> = events
        .iter()
        .map(|e| {
            let what = if e["kind"] == "commit" {
                "commit".to_string()
            } else {
                e["op"].as_str().unwrap().to_string()
            };
            (what, e["before"].clone(), e["after"].clone())
        })
        .filter(|(what, _, _)| what != "commit")
        .collect();
    let row42 = |status: &str| json!({"id": 42, "status": status, "total": "9.99", "note": null, "updated": "2026-11-26 04:15:25.000001"});
    let big = json!({"id": 3000000000u64, "status": "NEW", "total": "120.50", "note": "x", "updated": "2026-11-26 04:15:26"});
    assert_eq!(
        shape,
        vec![
            ("insert".into(), Value::Null, row42("CANCELLED")),
            ("insert".into(), Value::Null, big.clone()),
            ("update".into(), row42("CANCELLED"), row42("PAID")),
            ("delete".into(), big, Value::Null),
        ]
    );
    // Two transactions of two rows each, each closed by its commit.
    let rows: Vec<&Value> = events.iter().filter(|e| e["kind"] == "row").collect();
    assert_eq!(rows[0]["txn"], rows[1]["txn"]);
    assert_eq!(rows[2]["txn"], rows[3]["txn"]);
    assert_ne!(rows[0]["txn"], rows[2]["txn"]);
    for txn in [&rows[0]["txn"], &rows[2]["txn"]] {
        let commit = events.iter().position(|e| e["kind"] == "commit" && &e["txn"] == txn).unwrap();
        let last_row = events.iter().rposition(|e| e["kind"] == "row" && &e["txn"] == txn).unwrap();
        assert!(commit > last_row, "the commit of txn {txn} follows its rows");
        assert!(events[commit]["gtid"].as_str().unwrap().starts_with("0-1-"));
    }
}
