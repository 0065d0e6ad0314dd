/*!
A stream of binlog events → row changes and commits, grouped into transactions.

[`BinlogDecoder`] is fed the events of one binlog stream in order — from a file
([`BinlogFile`](crate::binlog::BinlogFile)) or from the live recorder's `mysql_async` binlog
stream, which yields the same mysql_common events — and produces tape [`RowChange`]s and
[`Commit`]s.

Transactions: a GTID event (MySQL `uuid:n`, MariaDB `domain-server-seq`) or a `BEGIN` query
starts one; its row changes get its transaction number; an XID event or a `COMMIT` query ends it
with a [`Commit`]. MariaDB's GTID event implies the `BEGIN` (it writes none) unless it is
*standalone* (DDL), and a MySQL GTID followed by DDL is a group without `BEGIN`: both end at their
statement. Numbers are handed out from a counter the caller starts (see
[`BinlogDecoder::new`]), only to transactions that changed rows, so they stay unique across the
files of one source.

Everything else is accounted for in a [`DecodeReport`]: the server version (and so whether it is
MariaDB or MySQL), events skipped by type, DDL statements, DML logged as statements
(`binlog_format=STATEMENT/MIXED`, whose row changes the binlog lacks), transactions that never
committed, and the row decoder's warnings. [`DecodeReport::notes`] words them for the terminal.
*/

mod report;

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use cachetape_tape::{Commit, EventBody, Micros, RowChange, SourceKind};
use mysql_async::binlog::EventFlags;
use mysql_async::binlog::EventType;
use mysql_async::binlog::events::{
    AnonymousGtidEvent, Event, EventData, FormatDescriptionEvent, GtidEvent, QueryEvent,
    RotateEvent, TableMapEvent, TransactionPayloadEvent, XidEvent,
};

pub use super::event::{EVENT_HEADER_LEN, event_type_name};
use super::event::{declared_size, parse_event};
use super::mariadb::{self, MariaDbGtid};
use super::rows::{RowDecoder, RowsError};
use super::statement::{self, StatementKind};
use crate::schema::Schema;
use report::EXAMPLES;
pub use report::{DecodeReport, StatementSeen, UnfinishedTransaction};

/// A tape event body with the time it is filed under (µs since the epoch): the binlog event
/// header's seconds × 10⁶, as binlogs carry nothing finer.
pub type TimedBody = (Micros, EventBody);

/// Why an event could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The event's bytes do not parse as its type says.
    #[error(
        "the {event_type} at position {offset} is corrupt ({detail}); the binlog is damaged \
         here: import the files before it, or take a fresh copy from the server"
    )]
    Corrupt {
        /// Byte offset of the event in its file.
        offset: u64,
        /// The event's type, named.
        event_type: String,
        /// What failed.
        detail: String,
    },
    /// A rows event could not be turned into row changes.
    #[error("the {event_type} at position {offset}: {source}")]
    Rows {
        /// Byte offset of the event in its file.
        offset: u64,
        /// The event's type, named.
        event_type: String,
        /// What failed.
        source: RowsError,
    },
    /// MariaDB's START_ENCRYPTION event: every event after it is encrypted.
    #[error(
        "the binlog is encrypted from position {offset} on (MariaDB encrypt_binlog=ON), and \
         cachetape cannot decrypt it. Fetch decrypted copies through the server instead: \
         `mariadb-binlog --read-from-remote-server --raw --host=HOST --user=USER FILE` writes \
         the same file unencrypted"
    )]
    Encrypted {
        /// Byte offset of the START_ENCRYPTION event.
        offset: u64,
    },
}

/// The transaction being read.
#[derive(Debug)]
struct OpenTransaction {
    offset: u64,
    gtid: Option<String>,
    commit_us: Option<Micros>,
    /// BEGIN seen (or implied by a MariaDB GTID): statements inside do not end it.
    began: bool,
    txn: Option<u64>,
    row_changes: u64,
}

/// Turns the events of one binlog stream, in order, into row changes and commits.
#[derive(Debug)]
pub struct BinlogDecoder {
    rows: RowDecoder,
    open: Option<OpenTransaction>,
    next_txn: u64,
    report: DecodeReport,
}

impl BinlogDecoder {
    /// A decoder naming columns from `schema` and numbering transactions from `first_txn` (pass
    /// the previous file's [`BinlogDecoder::next_txn`] to keep numbers unique per source).
    pub fn new(schema: Option<Arc<Schema>>, first_txn: u64) -> BinlogDecoder {
        let report = DecodeReport {
            had_schema: schema.is_some(),
            first_txn,
            next_txn: first_txn,
            ..DecodeReport::default()
        };
        BinlogDecoder { rows: RowDecoder::new(schema), open: None, next_txn: first_txn, report }
    }

    /// The row decoder (to replace the schema after DDL, or look at table layouts).
    pub fn rows_mut(&mut self) -> &mut RowDecoder {
        &mut self.rows
    }

    /// The next transaction number this decoder would hand out.
    pub fn next_txn(&self) -> u64 {
        self.next_txn
    }

    /// What was seen so far.
    pub fn report(&self) -> &DecodeReport {
        &self.report
    }

    /// Ends the stream: a transaction still open with row changes is reported as unfinished.
    /// Returns the final report.
    pub fn finish(mut self) -> DecodeReport {
        self.abandon_open(true);
        self.sync_report();
        self.report
    }

    fn sync_report(&mut self) {
        self.report.next_txn = self.next_txn;
        self.report.row_warnings.extend(self.rows.take_warnings());
    }

    fn skip(&mut self, name: String) {
        *self.report.skipped.entry(name).or_insert(0) += 1;
    }

    /// Decodes one event found at byte `offset`, appending what it produced to `out`.
    pub fn decode(
        &mut self,
        event: &Event,
        offset: u64,
        out: &mut Vec<TimedBody>,
    ) -> Result<(), DecodeError> {
        let result = catch_unwind(AssertUnwindSafe(|| self.decode_event(event, offset, out)));
        self.sync_report();
        match result {
            Ok(result) => result,
            Err(_) => Err(DecodeError::Corrupt {
                offset,
                event_type: event_type_name(event.header().event_type_raw()),
                detail: "the binlog parser gave up on its bytes".into(),
            }),
        }
    }

    fn decode_event(
        &mut self,
        event: &Event,
        offset: u64,
        out: &mut Vec<TimedBody>,
    ) -> Result<(), DecodeError> {
        self.report.events += 1;
        let header = event.header();
        let raw = header.event_type_raw();
        let secs = header.timestamp();
        let corrupt = |detail: std::io::Error| DecodeError::Corrupt {
            offset,
            event_type: event_type_name(raw),
            detail: detail.to_string(),
        };
        const FDE: u8 = EventType::FORMAT_DESCRIPTION_EVENT as u8;
        const QUERY: u8 = EventType::QUERY_EVENT as u8;
        const XID: u8 = EventType::XID_EVENT as u8;
        const TABLE_MAP: u8 = EventType::TABLE_MAP_EVENT as u8;
        const ROTATE: u8 = EventType::ROTATE_EVENT as u8;
        const GTID: u8 = EventType::GTID_EVENT as u8;
        const GTID_TAGGED: u8 = EventType::GTID_TAGGED_LOG_EVENT as u8;
        const ANONYMOUS_GTID: u8 = EventType::ANONYMOUS_GTID_EVENT as u8;
        const PAYLOAD: u8 = EventType::TRANSACTION_PAYLOAD_EVENT as u8;
        const XA_PREPARE: u8 = EventType::XA_PREPARE_LOG_EVENT as u8;
        const ROWS: [u8; 7] = [
            EventType::WRITE_ROWS_EVENT_V1 as u8,
            EventType::UPDATE_ROWS_EVENT_V1 as u8,
            EventType::DELETE_ROWS_EVENT_V1 as u8,
            EventType::WRITE_ROWS_EVENT as u8,
            EventType::UPDATE_ROWS_EVENT as u8,
            EventType::DELETE_ROWS_EVENT as u8,
            EventType::PARTIAL_UPDATE_ROWS_EVENT as u8,
        ];
        match raw {
            FDE => {
                let fde = event.read_event::<FormatDescriptionEvent<'_>>().map_err(corrupt)?;
                let version = fde.server_version().trim_end_matches('\0').to_string();
                self.report.source_kind =
                    Some(if version.to_ascii_lowercase().contains("mariadb") {
                        SourceKind::MariaDb
                    } else {
                        SourceKind::MySql
                    });
                self.report.server_version = Some(version);
                self.report.server_id = Some(header.server_id());
                self.rows.forget_tables();
            }
            QUERY => {
                let query = event.read_event::<QueryEvent<'_>>().map_err(corrupt)?;
                self.query(&query, offset, secs, out);
            }
            XID => {
                let xid = event.read_event::<XidEvent>().map_err(corrupt)?;
                self.finish_transaction(secs, Some(xid.xid), out);
            }
            XA_PREPARE => {
                if self.open.as_ref().is_some_and(|t| t.txn.is_some()) {
                    self.report.xa_prepared += 1;
                }
                self.finish_transaction(secs, None, out);
            }
            TABLE_MAP => {
                let tme = event.read_event::<TableMapEvent<'_>>().map_err(corrupt)?;
                self.rows.table_map(tme);
            }
            r if ROWS.contains(&r) => {
                let Some(EventData::RowsEvent(rows)) = event.read_data().map_err(corrupt)? else {
                    return Err(corrupt(std::io::Error::other("not a rows event")));
                };
                if self.open.is_none() {
                    self.open = Some(OpenTransaction {
                        offset,
                        gtid: None,
                        commit_us: None,
                        began: true,
                        txn: None,
                        row_changes: 0,
                    });
                }
                let open = self.open.as_mut().expect("opened above");
                let txn = open.txn.unwrap_or(self.next_txn);
                let changes: Vec<RowChange> =
                    self.rows.decode(&rows, txn, secs).map_err(|source| DecodeError::Rows {
                        offset,
                        event_type: event_type_name(raw),
                        source,
                    })?;
                if !changes.is_empty() && open.txn.is_none() {
                    open.txn = Some(txn);
                    self.next_txn += 1;
                }
                open.row_changes += changes.len() as u64;
                self.report.row_changes += changes.len() as u64;
                let at = micros(secs);
                out.extend(changes.into_iter().map(|c| (at, EventBody::Row(c))));
            }
            GTID | GTID_TAGGED => {
                let gtid = event.read_event::<GtidEvent>().map_err(corrupt)?;
                self.begin_group(offset, Some(mysql_gtid(&gtid)), commit_micros(&gtid), false);
            }
            ANONYMOUS_GTID => {
                let gtid = event.read_event::<AnonymousGtidEvent>().map_err(corrupt)?;
                self.begin_group(offset, None, commit_micros(&gtid.0), false);
            }
            ROTATE => {
                let rotate = event.read_event::<RotateEvent<'_>>().map_err(corrupt)?;
                // A live stream opens with an artificial rotate naming the file it reads: its
                // header's log_pos is 0 and it is flagged artificial (mysql_common's `is_fake`
                // only looks at the position field). Its name may still carry the checksum
                // (mysql_async#189): only real rotates, at the end of a file, name the next one.
                let artificial = header.log_pos() == 0
                    || header.flags().contains(EventFlags::LOG_EVENT_ARTIFICIAL_F);
                if !artificial {
                    self.report.next_file = Some(rotate.name().into_owned());
                    self.rows.forget_tables();
                }
                self.skip(event_type_name(raw));
            }
            PAYLOAD => {
                let payload = event.read_event::<TransactionPayloadEvent<'_>>().map_err(corrupt)?;
                self.payload(event, &payload, offset, out)?;
            }
            mariadb::GTID => {
                let gtid =
                    MariaDbGtid::read(event.data(), header.server_id()).ok_or_else(|| {
                        corrupt(std::io::Error::other("MariaDB GTID event is too short"))
                    })?;
                self.begin_group(offset, Some(gtid.to_string()), None, !gtid.standalone);
            }
            mariadb::START_ENCRYPTION => return Err(DecodeError::Encrypted { offset }),
            r if (mariadb::QUERY_COMPRESSED..=mariadb::LAST_COMPRESSED).contains(&r) => {
                self.report.compressed += 1;
                self.skip(event_type_name(raw));
            }
            _ => self.skip(event_type_name(raw)),
        }
        Ok(())
    }

    /// MySQL 8's compressed transaction: the events inside, without checksums.
    fn payload(
        &mut self,
        event: &Event,
        payload: &TransactionPayloadEvent<'_>,
        offset: u64,
        out: &mut Vec<TimedBody>,
    ) -> Result<(), DecodeError> {
        let corrupt = |detail: String| DecodeError::Corrupt {
            offset,
            event_type: event_type_name(EventType::TRANSACTION_PAYLOAD_EVENT as u8),
            detail,
        };
        let mut bytes = Vec::new();
        let limit = payload.uncompressed_size().min(1 << 32);
        payload
            .decompressed()
            .and_then(|r| r.take(limit).read_to_end(&mut bytes))
            .map_err(|e| corrupt(format!("cannot decompress: {e}")))?;
        let mut footer = event.fde().footer();
        footer.set_checksum_enabled(false);
        let fde = event.fde().clone().with_footer(footer);
        let mut pos = 0;
        while pos < bytes.len() {
            let size = declared_size(&bytes[pos..])
                .filter(|&n| n >= EVENT_HEADER_LEN && pos + n <= bytes.len())
                .ok_or_else(|| corrupt(format!("the event at offset {pos} inside is cut short")))?;
            let inner = parse_event(&fde, &bytes[pos..pos + size]).map_err(corrupt)?;
            if inner.header().event_type_raw() == EventType::TRANSACTION_PAYLOAD_EVENT as u8 {
                return Err(corrupt("a transaction payload inside a transaction payload".into()));
            }
            self.decode_event(&inner, offset, out)?;
            pos += size;
        }
        Ok(())
    }

    fn query(&mut self, query: &QueryEvent<'_>, offset: u64, secs: u32, out: &mut Vec<TimedBody>) {
        let sql = query.query_raw();
        let seen = || StatementSeen {
            offset,
            header_secs: secs,
            database: query.schema().into_owned(),
            text: statement::excerpt(sql, 160),
        };
        match statement::classify(sql) {
            StatementKind::Begin => match &mut self.open {
                Some(open) if open.row_changes == 0 => open.began = true,
                _ => self.begin_group(offset, None, None, true),
            },
            StatementKind::Commit => self.finish_transaction(secs, None, out),
            StatementKind::Rollback => {
                if self.open.as_ref().is_some_and(|t| t.txn.is_some()) {
                    self.report.rolled_back += 1;
                }
                self.finish_transaction(secs, None, out);
            }
            StatementKind::Xa => {
                let words = statement::excerpt(sql, 20).to_ascii_uppercase();
                if words.starts_with("XA START") || words.starts_with("XA BEGIN") {
                    match &mut self.open {
                        Some(open) if open.row_changes == 0 => open.began = true,
                        _ => self.begin_group(offset, None, None, true),
                    }
                } else {
                    self.skip("QUERY_EVENT (XA)".into());
                }
            }
            StatementKind::Ddl => {
                self.report.ddl.push(seen());
                self.end_statement_group(secs, out);
            }
            StatementKind::Dml => {
                self.report.statement_dml += 1;
                if self.report.statement_dml_examples.len() < EXAMPLES {
                    self.report.statement_dml_examples.push(seen());
                }
                self.end_statement_group(secs, out);
            }
            StatementKind::Other => {
                self.skip("QUERY_EVENT (other statements)".into());
                self.end_statement_group(secs, out);
            }
        }
    }

    /// A statement in a group that never said BEGIN is the whole group.
    fn end_statement_group(&mut self, secs: u32, out: &mut Vec<TimedBody>) {
        if self.open.as_ref().is_some_and(|t| !t.began) {
            self.finish_transaction(secs, None, out);
        }
    }

    fn begin_group(
        &mut self,
        offset: u64,
        gtid: Option<String>,
        commit_us: Option<Micros>,
        began: bool,
    ) {
        self.abandon_open(false);
        self.open =
            Some(OpenTransaction { offset, gtid, commit_us, began, txn: None, row_changes: 0 });
    }

    fn abandon_open(&mut self, at_end: bool) {
        if let Some(open) = self.open.take()
            && let Some(txn) = open.txn
        {
            self.report.unfinished.push(UnfinishedTransaction {
                offset: open.offset,
                txn,
                gtid: open.gtid,
                row_changes: open.row_changes,
                at_end,
            });
        }
    }

    fn finish_transaction(&mut self, secs: u32, xid: Option<u64>, out: &mut Vec<TimedBody>) {
        let Some(open) = self.open.take() else { return };
        let Some(txn) = open.txn else { return };
        self.report.commits += 1;
        out.push((
            micros(secs),
            EventBody::Commit(Commit {
                txn,
                header_secs: secs,
                commit_us: open.commit_us,
                gtid: open.gtid,
                xid,
            }),
        ));
    }
}

fn micros(secs: u32) -> Micros {
    Micros::from(secs) * 1_000_000
}

/// `3e11fa47-71ca-11e1-9e33-c80aa9429562:23` (or `uuid:tag:23`).
fn mysql_gtid(gtid: &GtidEvent) -> String {
    let hex: String = gtid.sid().iter().map(|b| format!("{b:02x}")).collect();
    let uuid = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    match gtid.tag() {
        Some(tag) => format!("{uuid}:{}:{}", tag.as_str(), gtid.gno()),
        None => format!("{uuid}:{}", gtid.gno()),
    }
}

/// MySQL ≥ 8.0.1 writes the commit time into the GTID event, in µs.
fn commit_micros(gtid: &GtidEvent) -> Option<Micros> {
    [gtid.immediate_commit_timestamp(), gtid.original_commit_timestamp()]
        .into_iter()
        .find(|&t| t != 0)
        .and_then(|t| Micros::try_from(t).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_gtids_and_commit_timestamps() {
        let sid = [
            0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1, 0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42,
            0x95, 0x62,
        ];
        let gtid = GtidEvent::new(sid, 23);
        assert_eq!(mysql_gtid(&gtid), "3e11fa47-71ca-11e1-9e33-c80aa9429562:23");
        assert_eq!(commit_micros(&gtid), None, "MySQL 5.7 writes no commit timestamp");
        let gtid = gtid.with_original_commit_timestamp(1_700_000_000_123_456);
        assert_eq!(commit_micros(&gtid), Some(1_700_000_000_123_456));
        let gtid = gtid.with_immediate_commit_timestamp(1_700_000_000_200_000);
        assert_eq!(commit_micros(&gtid), Some(1_700_000_000_200_000), "this server's own time");
    }
}
