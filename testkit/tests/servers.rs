//! The harness itself: private servers start, answer, and are isolated from the machine's own.

use cachetape_testkit::*;

#[test]
fn private_redis_answers_on_its_own_port() {
    let redis = RedisServer::start();
    assert_ne!(redis.port, 6379);
    assert_eq!(redis.command(&[b"SET", b"k", b"v"]), b"+OK\r\n");
    assert_eq!(redis.command(&[b"GET", b"k"]), b"$1\r\nv\r\n");
    assert!(redis.socket.exists());
}

#[test]
fn private_mariadb_has_the_binlog_on_in_row_format() {
    let db = MariaDb::shared();
    assert_ne!(db.port, 3306);
    let vars = db.sql("SELECT @@log_bin, @@binlog_format, @@binlog_row_image");
    assert_eq!(vars.trim(), "1\tROW\tFULL");
    db.sql("CREATE DATABASE harness; CREATE TABLE harness.t (id INT PRIMARY KEY); INSERT INTO harness.t VALUES (1)");
    assert!(!db.binlog_files().is_empty());
}
