/*!
Schema files as a real server writes them: `mariadb-dump --no-data` output (version comments,
`DELIMITER ;;` around triggers and routines, views) read back into column names, types and keys.
*/

use cachetape_recorder::schema::{Schema, SchemaError};
use cachetape_testkit::require;

#[test]
fn mariadb_dump_output_gives_every_table_its_columns() {
    let db = crate::binlog_file::shared_mariadb();
    db.sql(
        "DROP DATABASE IF EXISTS ct_schema_dump; CREATE DATABASE ct_schema_dump;
         USE ct_schema_dump;
         CREATE TABLE orders (
           id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
           status ENUM('NEW','PAID','it''s; (odd)') NOT NULL DEFAULT 'NEW' COMMENT 'a -- b /* c',
           total DECIMAL(10,2) NOT NULL,
           doc JSON,
           `weird name` VARCHAR(20) DEFAULT ';',
           PRIMARY KEY (id), KEY by_status (status)
         );
         CREATE TABLE order_lines (order_id BIGINT UNSIGNED, n SMALLINT, qty INT CHECK (qty > 0),
           PRIMARY KEY (order_id, n),
           CONSTRAINT fk FOREIGN KEY (order_id) REFERENCES orders (id));
         CREATE VIEW paid AS SELECT id, total FROM orders WHERE status = 'PAID';
         DELIMITER //
         CREATE TRIGGER bump BEFORE INSERT ON order_lines
           FOR EACH ROW BEGIN SET NEW.qty = NEW.qty + 1; END //
         CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //",
    );
    let dump = require("mariadb-dump", "mariadb-client");
    let out = std::process::Command::new(dump)
        .args(["--no-defaults", "-h", "127.0.0.1", "-u", "root", "--no-data", "--routines"])
        .arg(format!("-P{}", db.port))
        .args(["--databases", "ct_schema_dump"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.sql");
    std::fs::write(&path, &out.stdout).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DELIMITER ;;") && text.contains("/*!40101"), "{text}");

    let schema = Schema::from_file(&path).unwrap();
    let orders = schema.table("ct_schema_dump", "orders").unwrap();
    let names: Vec<&str> = orders.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "status", "total", "doc", "weird name"]);
    assert!(orders.columns[0].unsigned);
    assert_eq!(orders.columns[1].members, ["NEW", "PAID", "it's; (odd)"]);
    assert_eq!(orders.columns[2].sql_type, "decimal(10,2)");
    assert!(orders.columns[3].json, "{:?}", orders.columns[3]);
    assert_eq!(orders.primary_key, ["id"]);
    let lines = schema.table("ct_schema_dump", "order_lines").unwrap();
    assert_eq!(lines.primary_key, ["order_id", "n"]);
    assert_eq!(lines.columns.len(), 3);
    assert_eq!(lines.columns[1].type_name(), "smallint");
    assert!(schema.table("other_db", "orders").is_none());
}

#[test]
fn schema_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.sql");
    std::fs::write(&path, "USE shop;\nCREATE TABLE t (\n  a INT,\n  b VARCHAR(3) DEFAULT 'x\n);\n")
        .unwrap();
    let error = Schema::from_file(&path).unwrap_err();
    assert!(matches!(error, SchemaError::Syntax { line: 4, .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("{}:4: string opened with ' is never closed", path.display()))
    );
    let missing = Schema::from_file(&dir.path().join("missing.sql")).unwrap_err();
    assert!(missing.to_string().starts_with("cannot read schema file"), "{missing}");
}
