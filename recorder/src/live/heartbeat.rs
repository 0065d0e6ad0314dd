/*!
`record --heartbeat DB.TABLE`: measuring how long the binlog takes to deliver a commit, instead of
assuming it (the pt-heartbeat practice, on the recorder's own clock).

Every [`HEARTBEAT_INTERVAL`] the recorder's own database connection (not the binlog's, and not
the clock probes', so neither waits for it) runs, in autocommit,

```sql
INSERT INTO db.table (id, ts, sent_us) VALUES (<server id>, NOW(6), <recorder clock µs>)
  ON DUPLICATE KEY UPDATE ts = VALUES(ts), sent_us = VALUES(sent_us)
```

`id` is the recorder's replica server id, so two recorders sharing a table never read each
other's rows; `ts` is the server's time, for people reading the table; `sent_us` is the
recorder's clock just before sending. The binlog tap recognizes the row (its table and `id`,
[`HeartbeatRows`]) and, when the transaction's commit arrives, writes a
[`Heartbeat`](cachetape_tape::Heartbeat) event instead of the row change and the commit: its
receive time minus `sent_us` bounds, on the recorder's clock alone (no clock alignment needed),
how long before its receipt the commit happened. `analyze` and `replay` use the worst such bound
as the trace's database lag. The statement needs the INSERT and UPDATE privileges on the table
(preflight checks them); the table is created only with `--heartbeat-create`.
*/

use std::collections::HashMap;

use cachetape_tape::{EventBody, Heartbeat, Micros, Name, RowChange, Value};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use super::config::{HEARTBEAT_INTERVAL, HeartbeatConfig};
use super::mysql_client::mysql_connect;
use super::now_us;
use super::preflight::CheckedMysql;
use super::tap::TapContext;

/// The heartbeat write of recorder `server_id` into `hb`'s table, sent at `sent_us`.
fn statement(hb: &HeartbeatConfig, server_id: u32, sent_us: Micros) -> String {
    format!(
        "INSERT INTO `{}`.`{}` (id, ts, sent_us) VALUES ({server_id}, NOW(6), {sent_us}) \
         ON DUPLICATE KEY UPDATE ts = VALUES(ts), sent_us = VALUES(sent_us)",
        hb.db, hb.table
    )
}

/// Creates the heartbeat table when asked to (`--heartbeat-create`); run before the binlog tap
/// reads the schema, so its columns are known.
pub(crate) async fn create_table(conn: &mut Conn, hb: &HeartbeatConfig) -> Result<(), String> {
    if !hb.create {
        return Ok(());
    }
    conn.query_drop(hb.create_table())
        .await
        .map_err(|e| format!("cannot create the heartbeat table {}: {e}", hb.qualified()))
}

/// Writes the heartbeat until the recording stops, on a connection of its own. A failed write
/// is said once on stderr and ends the heartbeat (the trace then has fewer samples, and says
/// nothing false).
pub(crate) async fn run(ctx: TapContext, db: CheckedMysql, hb: HeartbeatConfig) {
    let source = format!("mysql://{}", db.name);
    let mut conn = match mysql_connect(&db.opts, &source).await {
        Ok(c) => c,
        Err(p) => {
            ctx.warn(format!("the heartbeat cannot connect ({}): no lag will be measured", p.what));
            return;
        }
    };
    let mut stop = ctx.stop.clone();
    let mut interval = tokio::time::interval(HEARTBEAT_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !ctx.stopping() {
        tokio::select! {
            _ = interval.tick() => {}
            _ = stop.changed() => break,
        }
        let sent_us = now_us();
        if let Err(e) = conn.query_drop(statement(&hb, ctx.config.server_id, sent_us)).await {
            ctx.warn(format!(
                "the heartbeat write into {} failed ({e}): no more lag samples; `GRANT INSERT, \
                 UPDATE ON {} TO` the recording user",
                hb.qualified(),
                hb.qualified()
            ));
            break;
        }
    }
    let _ = conn.disconnect().await;
}

/// The binlog tap's view of heartbeat rows: which row changes are this recorder's heartbeat,
/// held by transaction until their commit.
pub(crate) struct HeartbeatRows {
    table: Name,
    server_id: u32,
    /// The `sent_us` of each open transaction's heartbeat row.
    open: HashMap<u64, Micros>,
}

impl HeartbeatRows {
    /// Heartbeat rows of `hb`'s table, written by recorder `server_id`.
    pub(crate) fn new(hb: &HeartbeatConfig, server_id: u32) -> HeartbeatRows {
        HeartbeatRows { table: hb.qualified().into(), server_id, open: HashMap::new() }
    }

    /// True when `change` is a row of the heartbeat table (which is no application data: the
    /// tap drops it); this recorder's own writes are remembered for their commit.
    pub(crate) fn take_row(&mut self, change: &RowChange) -> bool {
        if change.table != self.table {
            return false;
        }
        let after = change.after.as_ref();
        let id = after.and_then(|a| a.get("id")).and_then(integer);
        let sent = after.and_then(|a| a.get("sent_us")).and_then(integer);
        if let (Some(id), Some(sent)) = (id, sent)
            && id == i128::from(self.server_id)
            && let Ok(sent) = Micros::try_from(sent)
        {
            self.open.insert(change.txn, sent);
        }
        true
    }

    /// The heartbeat event of transaction `txn`'s commit, if it carried this recorder's write.
    pub(crate) fn commit(&mut self, txn: u64) -> Option<EventBody> {
        let sent_us = self.open.remove(&txn)?;
        Some(EventBody::Heartbeat(Heartbeat { table: self.table.clone(), sent_us }))
    }

    /// Forgets open transactions (a reconnect drops the partial one).
    pub(crate) fn clear(&mut self) {
        self.open.clear();
    }
}

/// What is wrong with `hb` on the server `conn` is connected to, as (what, fix) pairs: the table
/// missing (without `--heartbeat-create`) or lacking a column, or the user lacking the
/// privileges the write needs (`grants`: its `SHOW GRANTS`; `account`: `'user'@'host'`).
pub(crate) async fn preflight(
    conn: &mut Conn,
    hb: &HeartbeatConfig,
    grants: &[String],
    account: &str,
) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let columns: Vec<String> = conn
        .exec(
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
            (&hb.db, &hb.table),
        )
        .await
        .unwrap_or_default();
    let name = hb.qualified();
    let exists = !columns.is_empty();
    if !exists && !hb.create {
        problems.push((
            format!("the heartbeat table {name} does not exist"),
            format!("add --heartbeat-create, or run `{};`", hb.create_table()),
        ));
    }
    let lacking: Vec<&str> = ["id", "ts", "sent_us"]
        .into_iter()
        .filter(|c| !columns.iter().any(|have| have.eq_ignore_ascii_case(c)))
        .collect();
    if exists && !lacking.is_empty() {
        problems.push((
            format!("the heartbeat table {name} lacks the column(s) {}", lacking.join(", ")),
            format!(
                "name another table (cachetape creates `{}`), or drop this one",
                hb.create_table()
            ),
        ));
    }
    let mut needed = vec!["INSERT", "UPDATE"];
    if !exists && hb.create {
        needed.push("CREATE");
    }
    let missing: Vec<&str> =
        needed.into_iter().filter(|p| !granted(grants, &hb.db, &hb.table, p)).collect();
    if !missing.is_empty() && !grants.is_empty() {
        problems.push((
            format!(
                "the user lacks {} on {name}, which the heartbeat writes",
                missing.join(" and ")
            ),
            format!(
                "run `GRANT {} ON {name} TO {account};` as an administrator",
                missing.join(", ")
            ),
        ));
    }
    problems
}

/// True when `grants` (`SHOW GRANTS` lines) give `privilege` on `db.table`: on every database,
/// on `db`, or on the table, directly or through ALL PRIVILEGES.
fn granted(grants: &[String], db: &str, table: &str, privilege: &str) -> bool {
    let targets = [
        " ON *.* ".to_string(),
        format!(" ON `{}`.* ", db.to_ascii_uppercase()),
        format!(" ON `{}`.`{}` ", db.to_ascii_uppercase(), table.to_ascii_uppercase()),
    ];
    grants.iter().map(|g| g.to_ascii_uppercase()).any(|g| {
        let Some((privileges, _)) = g.split_once(" ON ") else { return false };
        targets.iter().any(|t| g.contains(t.as_str()))
            && (privileges.contains("ALL PRIVILEGES")
                || privileges
                    .split(',')
                    .any(|p| p.trim().trim_start_matches("GRANT ") == privilege))
    })
}

/// An integer column's value.
fn integer(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(i128::from(*i)),
        Value::UInt(u) => Some(i128::from(*u)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use cachetape_tape::{Cell, RowImage, RowOp};

    use super::*;

    fn change(table: &str, id: Value, sent: i64, txn: u64) -> RowChange {
        let cells = vec![
            Cell { column: "id".into(), value: id },
            Cell { column: "sent_us".into(), value: Value::Int(sent) },
        ];
        RowChange {
            table: table.into(),
            op: RowOp::Update,
            before: None,
            after: Some(RowImage { cells }),
            txn,
            header_secs: 0,
        }
    }

    #[test]
    fn only_this_recorders_rows_become_heartbeats() {
        let hb = HeartbeatConfig::parse("ct.hb", false).unwrap();
        let mut rows = HeartbeatRows::new(&hb, 7);
        assert!(!rows.take_row(&change("shop.orders", Value::Int(7), 5, 1)));
        assert!(rows.take_row(&change("ct.hb", Value::UInt(7), 1_000, 2)));
        assert!(rows.take_row(&change("ct.hb", Value::UInt(8), 2_000, 3)));
        assert_eq!(
            rows.commit(2),
            Some(EventBody::Heartbeat(Heartbeat { table: "ct.hb".into(), sent_us: 1_000 }))
        );
        assert_eq!(rows.commit(2), None);
        assert_eq!(rows.commit(3), None, "another recorder's row");
        assert!(statement(&hb, 7, 42).contains("VALUES (7, NOW(6), 42)"));
    }

    #[test]
    fn grants_on_the_server_the_database_or_the_table_count() {
        let g = |s: &str| vec![s.to_string()];
        assert!(granted(&g("GRANT ALL PRIVILEGES ON *.* TO `u`@`%`"), "ct", "hb", "INSERT"));
        assert!(granted(
            &g("GRANT SELECT, INSERT, UPDATE ON `ct`.* TO `u`@`%`"),
            "ct",
            "hb",
            "UPDATE"
        ));
        assert!(granted(&g("GRANT INSERT ON `ct`.`hb` TO `u`@`%`"), "ct", "hb", "INSERT"));
        assert!(!granted(&g("GRANT INSERT ON `ct`.`other` TO `u`@`%`"), "ct", "hb", "INSERT"));
        assert!(!granted(&g("GRANT SELECT ON *.* TO `u`@`%`"), "ct", "hb", "INSERT"));
        assert!(!granted(&g("GRANT INSERT ON `shop`.* TO `u`@`%`"), "ct", "hb", "INSERT"));
    }

    #[test]
    fn names_must_be_qualified() {
        assert!(HeartbeatConfig::parse("hb", false).unwrap_err().contains("DB.TABLE"));
        assert!(HeartbeatConfig::parse("a.b;drop", false).is_err());
        assert_eq!(HeartbeatConfig::parse("a.b", true).unwrap().qualified(), "a.b");
    }
}
