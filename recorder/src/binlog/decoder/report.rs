/*!
What a [`BinlogDecoder`](super::BinlogDecoder) saw besides row changes and commits — server
version, skipped events, DDL, statement-format DML, unfinished and rolled-back transactions — and
its wording for the terminal ([`DecodeReport::notes`]).
*/

use std::collections::BTreeMap;

use cachetape_tape::SourceKind;

/// A statement seen in the binlog (DDL, or DML logged as text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementSeen {
    /// Byte offset of its query event.
    pub offset: u64,
    /// The event header's seconds.
    pub header_secs: u32,
    /// The default database it ran in (may be empty).
    pub database: String,
    /// The statement, shortened to one line.
    pub text: String,
}

/// A transaction whose row changes never got a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnfinishedTransaction {
    /// Byte offset of the event that began it.
    pub offset: u64,
    /// Its transaction number.
    pub txn: u64,
    /// Its GTID, when it had one.
    pub gtid: Option<String>,
    /// Row changes it produced (kept in the output, without a Commit).
    pub row_changes: u64,
    /// True when the stream ended inside it; false when another transaction began first.
    pub at_end: bool,
}

/// What a [`BinlogDecoder`](super::BinlogDecoder) saw besides row changes and commits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodeReport {
    /// The server version from the format description event (`10.11.6-MariaDB-log`).
    pub server_version: Option<String>,
    /// MariaDB or MySQL, from the server version.
    pub source_kind: Option<SourceKind>,
    /// The server id in the format description event's header.
    pub server_id: Option<u32>,
    /// Events decoded (events inside MySQL's compressed transaction payloads included).
    pub events: u64,
    /// Row changes produced.
    pub row_changes: u64,
    /// Commits produced.
    pub commits: u64,
    /// Events that produced nothing, by type name (`ANNOTATE_ROWS_EVENT`, `ROTATE_EVENT`, …).
    pub skipped: BTreeMap<String, u64>,
    /// DDL statements (`CREATE`/`ALTER`/`DROP`/`RENAME` of tables, `TRUNCATE`).
    pub ddl: Vec<StatementSeen>,
    /// INSERT/UPDATE/DELETE statements logged as text (`binlog_format=STATEMENT/MIXED`).
    pub statement_dml: u64,
    /// The first few of them.
    pub statement_dml_examples: Vec<StatementSeen>,
    /// Transactions with row changes but no commit.
    pub unfinished: Vec<UnfinishedTransaction>,
    /// Transactions that ended in ROLLBACK after changing rows (non-transactional tables).
    pub rolled_back: u64,
    /// XA transactions (their Commit is placed at XA PREPARE).
    pub xa_prepared: u64,
    /// MariaDB compressed events (`log_bin_compress=ON`) that were skipped.
    pub compressed: u64,
    /// The file named by the last (non-fake) ROTATE event: the next file of the sequence.
    pub next_file: Option<String>,
    /// Whether a schema supplied column names.
    pub had_schema: bool,
    /// Warnings from the row decoder (schema mismatches, partial JSON).
    pub row_warnings: Vec<String>,
    /// The first transaction number this decoder could hand out.
    pub first_txn: u64,
    /// The next transaction number it would hand out.
    pub next_txn: u64,
}

/// How many examples of a kind of statement the report keeps and names.
pub(super) const EXAMPLES: usize = 3;

impl DecodeReport {
    /// Events skipped, all types together.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// `ANNOTATE_ROWS_EVENT 4, ROTATE_EVENT 1`, or `none`.
    pub fn skipped_summary(&self) -> String {
        if self.skipped.is_empty() {
            return "none".into();
        }
        let parts: Vec<String> = self.skipped.iter().map(|(k, n)| format!("{k} {n}")).collect();
        parts.join(", ")
    }

    /// What the person at the terminal should know, one message each, naming `source` (a file
    /// path, or `the binlog stream`).
    pub fn notes(&self, source: &str) -> Vec<String> {
        let mut notes = Vec::new();
        if self.statement_dml > 0 {
            let example = self
                .statement_dml_examples
                .first()
                .map(|s| format!(", e.g. at position {}: `{}`", s.offset, s.text))
                .unwrap_or_default();
            notes.push(format!(
                "{source}: {} INSERT/UPDATE/DELETE statement(s) were logged as SQL text, not as \
                 row events (binlog_format=STATEMENT or MIXED){example}. The rows they changed \
                 are not in the binlog, so they are missing from the trace. Fix: run `SET \
                 GLOBAL binlog_format=ROW` on the server (and set binlog_format=ROW in its \
                 config file), then record again",
                self.statement_dml
            ));
        }
        if !self.ddl.is_empty() {
            let shown: Vec<String> = self
                .ddl
                .iter()
                .take(EXAMPLES)
                .map(|s| format!("at position {}: `{}`", s.offset, s.text))
                .collect();
            let more = if self.ddl.len() > EXAMPLES {
                format!(" and {} more", self.ddl.len() - EXAMPLES)
            } else {
                String::new()
            };
            let names = if self.had_schema {
                " Column names come from the schema file and may be stale for the row changes \
                 after them."
            } else {
                ""
            };
            notes.push(format!(
                "{source}: {} DDL statement(s): {}{more}.{names} Rows removed by TRUNCATE or \
                 DROP do not appear as row changes",
                self.ddl.len(),
                shown.join("; ")
            ));
        }
        for u in &self.unfinished {
            let gtid = u.gtid.as_deref().map(|g| format!(" (GTID {g})")).unwrap_or_default();
            let why = if u.at_end {
                "the binlog ends inside it"
            } else {
                "another transaction began before it committed"
            };
            notes.push(format!(
                "{source}: transaction {}{gtid}, from position {}, has {} row change(s) but no \
                 commit: {why}. Its row changes are kept without a Commit event; it may have \
                 rolled back",
                u.txn, u.offset, u.row_changes
            ));
        }
        if self.rolled_back > 0 {
            notes.push(format!(
                "{source}: {} transaction(s) ended in ROLLBACK after changing rows of \
                 non-transactional tables (MyISAM, Aria); those changes did happen and are kept, \
                 with a Commit",
                self.rolled_back
            ));
        }
        if self.xa_prepared > 0 {
            notes.push(format!(
                "{source}: {} XA transaction(s): their Commit is placed at XA PREPARE, which may \
                 come before the XA COMMIT that made them visible",
                self.xa_prepared
            ));
        }
        if self.compressed > 0 {
            notes.push(format!(
                "{source}: {} compressed event(s) (MariaDB log_bin_compress=ON) were skipped, \
                 so their row changes are missing. Fix: `SET GLOBAL log_bin_compress=OFF` on \
                 the server",
                self.compressed
            ));
        }
        notes.extend(self.row_warnings.iter().map(|w| format!("{source}: {w}")));
        notes
    }
}
