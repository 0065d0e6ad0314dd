/*!
MariaDB's own binlog events, which mysql_common does not know.

MariaDB numbers its events from 160 up: `ANNOTATE_ROWS` (160, the SQL text of the row events
after it), `BINLOG_CHECKPOINT` (161), its GTID event (162, `domain-server-seq`, which also begins
a transaction), `GTID_LIST` (163), `START_ENCRYPTION` (164, everything after it is encrypted)
and the compressed query and rows events of `log_bin_compress=ON` (165–171). This module names
them and reads the GTID event; the rest are counted and skipped.
*/

/// `ANNOTATE_ROWS_EVENT`.
pub const ANNOTATE_ROWS: u8 = 160;
/// `BINLOG_CHECKPOINT_EVENT`.
pub const BINLOG_CHECKPOINT: u8 = 161;
/// MariaDB's `GTID_EVENT`.
pub const GTID: u8 = 162;
/// `GTID_LIST_EVENT`.
pub const GTID_LIST: u8 = 163;
/// `START_ENCRYPTION_EVENT`.
pub const START_ENCRYPTION: u8 = 164;
/// `QUERY_COMPRESSED_EVENT`.
pub const QUERY_COMPRESSED: u8 = 165;
/// The last of the compressed rows events (`DELETE_ROWS_COMPRESSED_EVENT`).
pub const LAST_COMPRESSED: u8 = 171;

/// `FL_STANDALONE`: the GTID's group is a single statement without BEGIN/COMMIT (DDL).
const FL_STANDALONE: u8 = 1;

/// The name of a MariaDB event type, if `event_type` is one.
pub fn event_name(event_type: u8) -> Option<&'static str> {
    Some(match event_type {
        ANNOTATE_ROWS => "ANNOTATE_ROWS_EVENT",
        BINLOG_CHECKPOINT => "BINLOG_CHECKPOINT_EVENT",
        GTID => "GTID_EVENT (MariaDB)",
        GTID_LIST => "GTID_LIST_EVENT",
        START_ENCRYPTION => "START_ENCRYPTION_EVENT",
        QUERY_COMPRESSED => "QUERY_COMPRESSED_EVENT",
        166 => "WRITE_ROWS_COMPRESSED_EVENT_V1",
        167 => "UPDATE_ROWS_COMPRESSED_EVENT_V1",
        168 => "DELETE_ROWS_COMPRESSED_EVENT_V1",
        169 => "WRITE_ROWS_COMPRESSED_EVENT",
        170 => "UPDATE_ROWS_COMPRESSED_EVENT",
        171 => "DELETE_ROWS_COMPRESSED_EVENT",
        _ => return None,
    })
}

/// A MariaDB GTID event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MariaDbGtid {
    /// Replication domain.
    pub domain: u32,
    /// The originating server (from the event header).
    pub server_id: u32,
    /// Sequence number within the domain.
    pub seq: u64,
    /// A single statement without BEGIN/COMMIT (DDL), rather than a transaction.
    pub standalone: bool,
}

impl MariaDbGtid {
    /// Reads the event body (after the 19-byte header, checksum removed). `None` when it is too
    /// short to be a GTID event.
    pub fn read(data: &[u8], server_id: u32) -> Option<MariaDbGtid> {
        let seq = u64::from_le_bytes(data.get(0..8)?.try_into().ok()?);
        let domain = u32::from_le_bytes(data.get(8..12)?.try_into().ok()?);
        let flags = *data.get(12)?;
        Some(MariaDbGtid { domain, server_id, seq, standalone: flags & FL_STANDALONE != 0 })
    }
}

impl std::fmt::Display for MariaDbGtid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server_id, self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::MariaDbGtid;

    #[test]
    fn gtid_events_read_as_domain_server_seq() {
        let mut data = 42u64.to_le_bytes().to_vec();
        data.extend(7u32.to_le_bytes());
        data.push(1);
        data.extend([0; 6]);
        let gtid = MariaDbGtid::read(&data, 3).unwrap();
        assert_eq!(gtid.to_string(), "7-3-42");
        assert!(gtid.standalone);
        assert_eq!(MariaDbGtid::read(&data[..12], 3), None);
    }
}
