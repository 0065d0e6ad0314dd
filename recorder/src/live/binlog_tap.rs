/*!
The database's binlog, live → RowChange and Commit events.

The tap registers as a replica (`--server-id`) and streams the binlog from the current position
(`SHOW MASTER STATUS`, or `SHOW BINARY LOG STATUS` on MySQL 8.4+) with `mysql_async`'s binlog
feature; every event goes through the same [`BinlogDecoder`] as imported binlog files. Column
names come from `information_schema.COLUMNS` (MariaDB's JSON columns from its
`CHECK (json_valid(…))` constraints) and are read again after every DDL statement the binlog shows.

Row changes are held until their transaction's Commit and sent together, so a transaction is
never split by a reconnect: after a lost connection the tap writes a [`Gap`] and resumes at the end
of the last committed transaction, dropping the partial one it held. `--tables` keeps only the
row changes of matching tables (and the commits that still have some).

Clock probes run on a second connection (`SELECT UNIX_TIMESTAMP(NOW(6))` with the session time
zone set to UTC, so no zone or DST rule can shift them). At the stop, the tap asks for the current
position and reads until the stream reaches it: every transaction committed before the stop is
in the trace.
*/

use std::collections::HashMap;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use cachetape_tape::{ClockProbe, EventBody, Gap, Micros, SourceKind};
use futures_core::Stream;
use mysql_async::binlog::events::{Event, RotateEvent};
use mysql_async::binlog::{EventFlags, EventType};
use mysql_async::prelude::Queryable;
use mysql_async::{BinlogStream, BinlogStreamRequest, Conn};
use tokio::sync::oneshot;

use super::config::RecordConfig;
use super::heartbeat::{self, HeartbeatRows};
use super::mysql_client::{master_status, mysql_connect};
use super::now_us;
use super::preflight::CheckedMysql;
use super::problem::Problem;
use super::tap::TapContext;
use crate::binlog::BinlogDecoder;
use crate::schema::Schema;

/// A binlog position: file and byte offset.
type Position = (String, u64);

/// Reads the column names, types and primary keys of every user table from
/// `information_schema` (limited to `tables` when given).
pub async fn load_schema(
    conn: &mut Conn,
    kind: SourceKind,
    tables: &[cachetape_tape::KeyPattern],
) -> Result<Schema, mysql_async::Error> {
    let rows: Vec<(String, String, String, String, String)> = conn
        .query(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, COLUMN_KEY \
             FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys') \
             ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
        )
        .await?;
    let mut json_checks: HashMap<(String, String), Vec<String>> = HashMap::new();
    if kind == SourceKind::MariaDb {
        let checks: Vec<(String, String, String)> = conn
            .query(
                "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CHECK_CLAUSE \
                 FROM information_schema.CHECK_CONSTRAINTS",
            )
            .await
            .unwrap_or_default();
        for (db, table, clause) in checks {
            let clause = clause.trim();
            if let Some(col) =
                clause.strip_prefix("json_valid(`").and_then(|c| c.strip_suffix("`)"))
            {
                json_checks.entry((db, table)).or_default().push(col.replace("``", "`"));
            }
        }
    }
    let quote = |s: &str| format!("`{}`", s.replace('`', "``"));
    let mut ddl = String::new();
    let mut i = 0;
    while i < rows.len() {
        let (db, table) = (&rows[i].0, &rows[i].1);
        let mut j = i;
        while j < rows.len() && &rows[j].0 == db && &rows[j].1 == table {
            j += 1;
        }
        let qualified = format!("{db}.{table}");
        if tables.is_empty() || tables.iter().any(|p| p.matches(qualified.as_bytes())) {
            let json = json_checks.get(&(db.clone(), table.clone()));
            let mut lines: Vec<String> = rows[i..j]
                .iter()
                .map(|r| {
                    let check = if json.is_some_and(|cols| cols.contains(&r.2)) {
                        format!(" CHECK (json_valid({}))", quote(&r.2))
                    } else {
                        String::new()
                    };
                    format!("  {} {}{check}", quote(&r.2), r.3)
                })
                .collect();
            let pk: Vec<String> =
                rows[i..j].iter().filter(|r| r.4 == "PRI").map(|r| quote(&r.2)).collect();
            if !pk.is_empty() {
                lines.push(format!("  PRIMARY KEY ({})", pk.join(",")));
            }
            ddl.push_str(&format!(
                "CREATE TABLE {}.{} (\n{}\n);\n",
                quote(db),
                quote(table),
                lines.join(",\n")
            ));
        }
        i = j;
    }
    if ddl.is_empty() {
        return Ok(Schema::new());
    }
    Ok(Schema::parse("information_schema", &ddl).unwrap_or_default())
}

/// One clock probe on `conn` (whose session time zone is UTC).
async fn clock_probe(conn: &mut Conn) -> Option<ClockProbe> {
    let send = now_us();
    let text: Option<String> = conn.query_first("SELECT UNIX_TIMESTAMP(NOW(6))").await.ok()?;
    let recv = now_us();
    let remote = parse_epoch_micros(&text?)?;
    Some(ClockProbe { local_send_us: send, remote_us: remote, local_recv_us: recv })
}

/// `1700000000.123456` → µs.
fn parse_epoch_micros(text: &str) -> Option<Micros> {
    let (secs, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let secs: Micros = secs.parse().ok()?;
    let mut digits: String = frac.chars().take(6).collect();
    while digits.len() < 6 {
        digits.push('0');
    }
    Some(secs * 1_000_000 + digits.parse::<Micros>().ok()?)
}

/// `binlog.000042` followed by stray bytes (MariaDB's first rotate, mysql_async#189) →
/// `binlog.000042`.
fn clean_file_name(name: &str) -> String {
    match name.rfind('.') {
        Some(dot) => {
            let digits = name[dot + 1..].chars().take_while(char::is_ascii_digit).count();
            name[..dot + 1 + digits].to_string()
        }
        None => name.to_string(),
    }
}

/// True when `at` is at or past `target`.
fn reached(at: &Position, target: &Position) -> bool {
    let seq = |f: &str| f.rsplit('.').next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    (seq(&at.0), at.1) >= (seq(&target.0), target.1)
}

async fn open_stream(
    db: &CheckedMysql,
    ctx: &TapContext,
    from: &Position,
) -> Result<BinlogStream, Problem> {
    let source = format!("mysql://{}", db.name);
    let mut conn = mysql_connect(&db.opts, &source).await?;
    let setup = async {
        if db.kind == SourceKind::MariaDb {
            // GTID events instead of fake BEGINs, and annotated rows are fine.
            conn.query_drop("SET @mariadb_slave_capability=4").await?;
        }
        // A heartbeat every second keeps the position moving while nothing happens.
        conn.query_drop("SET @master_heartbeat_period=1000000000").await
    };
    setup.await.map_err(|e| Problem {
        source: source.clone(),
        what: format!("cannot prepare the binlog connection: {e}"),
        fix: "check the user's privileges (REPLICATION SLAVE)".into(),
    })?;
    let request = BinlogStreamRequest::new(ctx.config.server_id)
        .with_filename(from.0.as_bytes())
        .with_pos(from.1);
    conn.get_binlog_stream(request).await.map_err(|e| Problem {
        source,
        what: format!("the server refused to stream its binlog: {e}"),
        fix: "run `GRANT REPLICATION SLAVE ON *.* TO` the recording user, and make sure no other \
              replica uses the same --server-id"
            .into(),
    })
}

async fn next_event(stream: &mut BinlogStream) -> Option<Result<Event, mysql_async::Error>> {
    poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

/// The binlog tap's state between events.
struct BinlogTap {
    ctx: TapContext,
    decoder: BinlogDecoder,
    schema: Arc<Schema>,
    kind: SourceKind,
    file: String,
    position: Position,
    /// Where to resume after a lost connection: the end of the last committed transaction.
    resume: Position,
    held: Vec<(Micros, EventBody)>,
    ddl_seen: usize,
    errors: u64,
    out: Vec<(Micros, EventBody)>,
    last_event_us: Micros,
    /// This recorder's heartbeat rows (`record --heartbeat`), turned into Heartbeat events.
    beats: Option<HeartbeatRows>,
}

/// The tables whose columns the tap reads: `--tables`, and the heartbeat table, whose rows it
/// must read whatever `--tables` says.
fn schema_tables(config: &RecordConfig) -> Vec<cachetape_tape::KeyPattern> {
    let mut tables = config.tables.clone();
    if let Some(hb) = &config.heartbeat
        && !tables.is_empty()
    {
        tables.push(cachetape_tape::KeyPattern::new(hb.qualified()));
    }
    tables
}

/// Runs the binlog tap until the stop barrier.
pub(crate) async fn run(
    ctx: TapContext,
    db: CheckedMysql,
    ready: oneshot::Sender<Result<(), Problem>>,
) {
    let source = format!("mysql://{}", db.name);
    let fail = |what: String| Problem {
        source: source.clone(),
        what,
        fix: "check that the server is reachable and the user's privileges".into(),
    };
    let mut query = match mysql_connect(&db.opts, &source).await {
        Ok(c) => c,
        Err(p) => {
            let _ = ready.send(Err(p));
            return;
        }
    };
    let _ = query.query_drop("SET time_zone = '+00:00'").await;
    if let Some(hb) = &ctx.config.heartbeat
        && let Err(what) = heartbeat::create_table(&mut query, hb).await
    {
        let fix = format!("run `GRANT CREATE ON {} TO` the recording user", hb.qualified());
        let _ = ready.send(Err(Problem { source: source.clone(), what, fix }));
        return;
    }
    let schema = match load_schema(&mut query, db.kind, &schema_tables(&ctx.config)).await {
        Ok(s) => Arc::new(s),
        Err(e) => {
            let _ = ready.send(Err(fail(format!("cannot read information_schema: {e}"))));
            return;
        }
    };
    let start = match master_status(&mut query).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            let _ = ready.send(Err(fail("SHOW MASTER STATUS is empty: the binlog is off".into())));
            return;
        }
        Err(e) => {
            let _ = ready.send(Err(fail(format!("cannot read the binlog position: {e}"))));
            return;
        }
    };
    let mut stream = match open_stream(&db, &ctx, &start).await {
        Ok(s) => s,
        Err(p) => {
            let _ = ready.send(Err(p));
            return;
        }
    };
    let mut tap = BinlogTap {
        decoder: BinlogDecoder::new(Some(schema.clone()), 1),
        schema,
        kind: db.kind,
        file: start.0.clone(),
        position: start.clone(),
        resume: start.clone(),
        held: Vec::new(),
        ddl_seen: 0,
        errors: 0,
        out: Vec::new(),
        last_event_us: now_us(),
        beats: ctx.config.heartbeat.as_ref().map(|hb| HeartbeatRows::new(hb, ctx.config.server_id)),
        ctx: ctx.clone(),
    };
    // The stream is live once the server sent its format description.
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match next_event(&mut stream).await {
                Some(Ok(event)) => {
                    let fde = event.header().event_type_raw()
                        == EventType::FORMAT_DESCRIPTION_EVENT as u8;
                    tap.event(&event, &mut query).await;
                    if fde {
                        return Ok(());
                    }
                }
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("the server ended the stream".to_string()),
            }
        }
    })
    .await;
    match first {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let _ = ready.send(Err(Problem {
                source: source.clone(),
                what: format!("the binlog stream failed at the start: {e}"),
                fix: "run `GRANT REPLICATION SLAVE ON *.* TO` the recording user, and make sure \
                      no other replica uses the same --server-id"
                    .into(),
            }));
            return;
        }
        Err(_) => {
            let _ = ready.send(Err(fail("the binlog stream did not start within 10 s".into())));
            return;
        }
    }
    if let Some(p) = clock_probe(&mut query).await {
        ctx.send_one(p.local_recv_us, EventBody::ClockProbe(p));
    }
    let _ = ready.send(Ok(()));
    let heartbeat = ctx
        .config
        .heartbeat
        .clone()
        .map(|hb| tokio::spawn(heartbeat::run(ctx.clone(), db.clone(), hb)));

    let mut stop = ctx.stop.clone();
    let mut interval = tokio::time::interval(ctx.config.probe_interval);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    let mut barrier: Option<Position> = None;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        if ctx.stopping() && barrier.is_none() {
            barrier = match master_status(&mut query).await {
                Ok(Some(p)) => Some(p),
                _ => Some(tap.position.clone()),
            };
            deadline = Some(tokio::time::Instant::now() + Duration::from_secs(10));
        }
        if let Some(b) = &barrier
            && reached(&tap.position, b)
        {
            break;
        }
        tokio::select! {
            item = next_event(&mut stream) => match item {
                Some(Ok(event)) => tap.event(&event, &mut query).await,
                other => {
                    let why = match other {
                        Some(Err(e)) => format!("binlog connection lost: {e}"),
                        _ => "the server ended the binlog stream".to_string(),
                    };
                    if ctx.stopping() {
                        break;
                    }
                    match tap.reconnect(&db, why).await {
                        Some(s) => stream = s,
                        None => break,
                    }
                }
            },
            _ = interval.tick() => {
                if let Some(p) = clock_probe(&mut query).await {
                    ctx.send_one(p.local_recv_us, EventBody::ClockProbe(p));
                }
            }
            _ = stop.changed(), if barrier.is_none() => {}
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                ctx.warn("the binlog did not reach the stop position within 10 s; the last \
                          transactions may be missing".into());
                break;
            }
        }
    }
    if let Some(p) = clock_probe(&mut query).await {
        ctx.send_one(p.local_recv_us, EventBody::ClockProbe(p));
    }
    tap.finish();
    if let Some(h) = heartbeat {
        let _ = h.await;
    }
    let _ = query.disconnect().await;
    drop(stream);
}

impl BinlogTap {
    async fn event(&mut self, event: &Event, query: &mut Conn) {
        let recv_us = now_us();
        self.last_event_us = recv_us;
        let header = event.header();
        let raw = header.event_type_raw();
        let log_pos = u64::from(header.log_pos());
        let offset = log_pos.saturating_sub(u64::from(header.event_size()));
        if raw == EventType::ROTATE_EVENT as u8
            && let Ok(rotate) = event.read_event::<RotateEvent<'_>>()
        {
            let artificial = header.log_pos() == 0
                || header.flags().contains(EventFlags::LOG_EVENT_ARTIFICIAL_F);
            let name = clean_file_name(&rotate.name());
            if !artificial || self.file.is_empty() {
                self.file = name.clone();
            }
            self.position = (self.file.clone(), rotate.position());
        } else if log_pos > 0 {
            self.position = (self.file.clone(), log_pos);
        }
        self.ctx
            .stats
            .last_server_us
            .store(u64::from(header.timestamp()) * 1_000_000, Ordering::Relaxed);
        self.ctx.stats.last_recv_us.store(recv_us as u64, Ordering::Relaxed);
        self.out.clear();
        let mut out = std::mem::take(&mut self.out);
        if let Err(e) = self.decoder.decode(event, offset, &mut out) {
            self.errors += 1;
            if self.errors <= 3 {
                self.ctx.warn(format!("{e}; the event was skipped"));
            }
        }
        let ddl = self.decoder.report().ddl.len();
        if ddl > self.ddl_seen {
            self.ddl_seen = ddl;
            self.resume = self.position.clone();
            match load_schema(query, self.kind, &schema_tables(&self.ctx.config)).await {
                Ok(schema) => {
                    self.schema = Arc::new(schema);
                    self.decoder.rows_mut().set_schema(Some(self.schema.clone()));
                    self.decoder.rows_mut().forget_tables();
                }
                Err(e) => self.ctx.warn(format!(
                    "cannot re-read information_schema after DDL ({e}): column names may be stale"
                )),
            }
        }
        let mut batch = Vec::new();
        for (_, body) in out.drain(..) {
            match body {
                EventBody::Row(mut change) => {
                    if let Some(beats) = &mut self.beats
                        && beats.take_row(&change)
                    {
                        continue;
                    }
                    let table = change.table.clone();
                    if !self.ctx.config.tables.is_empty()
                        && !self.ctx.config.tables.iter().any(|p| p.matches(table.as_bytes()))
                    {
                        continue;
                    }
                    if self.ctx.redactor.mode() != cachetape_tape::Redaction::None {
                        let (db, name) = table.split_once('.').unwrap_or(("", &table));
                        let pk = self
                            .schema
                            .table(db, name)
                            .map(|t| t.primary_key.clone())
                            .unwrap_or_default();
                        self.ctx.redactor.row(&mut change, &pk);
                    }
                    self.held.push((recv_us, EventBody::Row(change)));
                    if self.held.len() >= 100_000 {
                        // A huge transaction: send what it has so far.
                        batch.append(&mut self.held);
                    }
                }
                EventBody::Commit(commit) => {
                    if let Some(beat) = self.beats.as_mut().and_then(|b| b.commit(commit.txn)) {
                        batch.push((recv_us, beat));
                    }
                    let had_rows = !self.held.is_empty()
                        || batch
                            .iter()
                            .any(|(_, b)| matches!(b, EventBody::Row(r) if r.txn == commit.txn));
                    batch.append(&mut self.held);
                    if had_rows {
                        batch.push((recv_us, EventBody::Commit(commit)));
                    }
                    self.resume = self.position.clone();
                }
                other => batch.push((recv_us, other)),
            }
        }
        self.out = out;
        self.ctx.send(batch);
    }

    /// Reconnects with backoff from the end of the last committed transaction; writes the Gap.
    async fn reconnect(&mut self, db: &CheckedMysql, why: String) -> Option<BinlogStream> {
        self.ctx.warn(format!("{why}; reconnecting"));
        let from_us = self.last_event_us;
        self.held.clear();
        if let Some(beats) = &mut self.beats {
            beats.clear();
        }
        let next_txn = self.decoder.next_txn();
        let old = std::mem::replace(
            &mut self.decoder,
            BinlogDecoder::new(Some(self.schema.clone()), next_txn),
        );
        let _ = old.finish();
        self.file = self.resume.0.clone();
        self.position = self.resume.clone();
        let mut backoff = Duration::from_millis(100);
        loop {
            if self.ctx.stopping() {
                return None;
            }
            match open_stream(db, &self.ctx, &self.resume).await {
                Ok(s) => {
                    let to_us = now_us();
                    self.ctx.stats.gaps.fetch_add(1, Ordering::Relaxed);
                    self.ctx.send_one(to_us, EventBody::Gap(Gap { from_us, to_us, reason: why }));
                    return Some(s);
                }
                Err(_) => {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    fn finish(mut self) {
        let held = std::mem::take(&mut self.held);
        self.ctx.send(held);
        let report = self.decoder.finish();
        for note in report.notes("the binlog stream") {
            self.ctx.warn(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_names() {
        assert_eq!(clean_file_name("binlog.000002\u{1}\u{2}\u{3}\u{4}"), "binlog.000002");
        assert_eq!(clean_file_name("mysql-bin.000010"), "mysql-bin.000010");
        assert!(reached(&("b.000002".into(), 4), &("b.000001".into(), 900)));
        assert!(!reached(&("b.000001".into(), 4), &("b.000001".into(), 900)));
        assert_eq!(parse_epoch_micros("1700000000.123456"), Some(1_700_000_000_123_456));
        assert_eq!(parse_epoch_micros("1700000000.5"), Some(1_700_000_000_500_000));
    }
}
