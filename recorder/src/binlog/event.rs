/*!
One binlog event's bytes: the header length, the size a header declares, parsing a whole event
under a format description (a short event or a parser panic is an error, never a crash), and the
names of event types (mysql_common's and MariaDB's own).
*/

use std::panic::{AssertUnwindSafe, catch_unwind};

use mysql_async::binlog::events::{Event, FormatDescriptionEvent};
use mysql_async::binlog::{BinlogChecksumAlg, EventType};

use super::mariadb;

/// Length of a binlog event header (binlog format v4).
pub const EVENT_HEADER_LEN: usize = 19;

/// The name of an event type: mysql_common's, MariaDB's, or `event type N`.
pub fn event_type_name(raw: u8) -> String {
    if let Some(name) = mariadb::event_name(raw) {
        return name.to_string();
    }
    match EventType::try_from(raw) {
        Ok(t) => format!("{t:?}"),
        Err(_) => format!("event type {raw}"),
    }
}

/// The event size a header declares, if `bytes` holds a whole header.
pub(crate) fn declared_size(bytes: &[u8]) -> Option<usize> {
    let size = bytes.get(9..13)?;
    Some(u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize)
}

/// Parses one whole event (`bytes` is exactly its declared size) under `fde`, checking what
/// mysql_common assumes: no panic escapes, a short event is an error.
pub(crate) fn parse_event(
    fde: &FormatDescriptionEvent<'static>,
    bytes: &[u8],
) -> Result<Event, String> {
    let is_fde = bytes.get(4) == Some(&(EventType::FORMAT_DESCRIPTION_EVENT as u8));
    let footer = fde.footer();
    let checksummed = footer.get_checksum_enabled()
        && matches!(
            footer.get_checksum_alg(),
            Ok(Some(BinlogChecksumAlg::BINLOG_CHECKSUM_ALG_CRC32))
        );
    let minimum = EVENT_HEADER_LEN + if checksummed && !is_fde { 4 } else { 0 };
    if bytes.len() < minimum {
        return Err(format!("{} bytes is too short for an event", bytes.len()));
    }
    match catch_unwind(AssertUnwindSafe(|| Event::read(fde, bytes))) {
        Ok(Ok(event)) => Ok(event),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the binlog parser gave up on its bytes".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_named() {
        assert_eq!(event_type_name(30), "WRITE_ROWS_EVENT");
        assert_eq!(event_type_name(160), "ANNOTATE_ROWS_EVENT");
        assert_eq!(event_type_name(250), "event type 250");
    }

    #[test]
    fn short_events_are_errors_not_panics() {
        let fde = FormatDescriptionEvent::new(mysql_async::binlog::BinlogVersion::Version4);
        assert!(parse_event(&fde, &[0; 5]).is_err());
        assert_eq!(declared_size(&[0; 12]), None);
    }
}
