/*!
Converting one row image: each present column's mysql_common value into a tape [`Value`] in the
database's own representation (unsigned integers at their width, DECIMAL as text, TIMESTAMP as
µs, ENUM/SET as their labels when known, JSON as text).
*/

use cachetape_tape::{Cell, DateTime, RowImage, Value};
use mysql_async::Value as SqlValue;
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;

use super::RowsError;
use super::layout::{ColumnLayout, Kind, TableLayout};

/// One row image: the present columns, in order, with converted values.
pub(super) fn image(
    layout: &TableLayout,
    present: &[usize],
    mut row: BinlogRow,
    partial_json: &mut bool,
) -> Result<RowImage, RowsError> {
    let mut cells = Vec::with_capacity(row.len());
    for (k, &i) in present.iter().enumerate().take(row.len()) {
        let Some(column) = layout.columns.get(i) else { break };
        let Some(value) = row.take(k) else { continue };
        match convert(column, value) {
            Ok(Some(value)) => cells.push(Cell { column: column.name.clone(), value }),
            Ok(None) => *partial_json = true,
            Err(problem) => {
                return Err(RowsError::BadRow {
                    table: layout.table.to_string(),
                    problem: format!("column {}: {problem}", column.name),
                });
            }
        }
    }
    Ok(RowImage { cells })
}

/// Converts one decoded value; `Ok(None)` for a partial JSON update, which has no value.
fn convert(column: &ColumnLayout, value: BinlogValue<'_>) -> Result<Option<Value>, String> {
    let value = match value {
        BinlogValue::Value(v) => v,
        BinlogValue::Jsonb(j) => {
            return match SqlValue::try_from(BinlogValue::Jsonb(j)) {
                Ok(SqlValue::Bytes(text)) => Ok(Some(Value::Json(
                    String::from_utf8(text).unwrap_or_else(|e| lossy(e.as_bytes())),
                ))),
                Ok(other) => Ok(Some(generic(other))),
                Err(e) => Err(format!("binary JSON: {e}")),
            };
        }
        BinlogValue::JsonDiff(_) => return Ok(None),
    };
    if value == SqlValue::NULL {
        return Ok(Some(Value::Null));
    }
    let converted = match (column.kind, value) {
        (Kind::Integer(bits), SqlValue::Int(x)) => {
            if column.unsigned {
                let mask = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
                Value::UInt(x as u64 & mask)
            } else {
                Value::Int(x)
            }
        }
        (Kind::Integer(_), SqlValue::UInt(x)) => {
            if column.unsigned {
                Value::UInt(x)
            } else {
                Value::Int(x as i64)
            }
        }
        (Kind::Decimal, SqlValue::Bytes(text)) => Value::Decimal(lossy(&text)),
        (Kind::Timestamp, SqlValue::Int(secs)) => Value::Timestamp(secs.saturating_mul(1_000_000)),
        (Kind::Timestamp, SqlValue::Bytes(text)) => Value::Timestamp(timestamp_micros(&text)?),
        (Kind::Year, SqlValue::Bytes(text)) => {
            let year: i64 =
                lossy(&text).parse().map_err(|_| format!("YEAR value {:?}", lossy(&text)))?;
            // mysql_common adds 1900 to the stored byte; the stored 0 is the year 0000.
            Value::Int(if year == 1900 { 0 } else { year })
        }
        (Kind::Bit, SqlValue::Bytes(bytes)) => {
            Value::Int(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)) as i64)
        }
        (Kind::Enum, SqlValue::Int(index)) => match index {
            0 => Value::Bytes(Vec::new()),
            i => match usize::try_from(i - 1).ok().and_then(|i| column.members.get(i)) {
                Some(label) => Value::Bytes(label.clone()),
                None => Value::Int(i),
            },
        },
        (Kind::Set, SqlValue::Bytes(bytes)) => {
            let mask = bytes.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            if column.members.is_empty() {
                Value::UInt(mask)
            } else {
                let labels: Vec<&[u8]> = column
                    .members
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| *bit < 64 && mask & (1u64 << bit) != 0)
                    .map(|(_, label)| label.as_slice())
                    .collect();
                Value::Bytes(labels.join(&b","[..]))
            }
        }
        (Kind::Text, SqlValue::Bytes(bytes)) if column.json => match String::from_utf8(bytes) {
            Ok(text) => Value::Json(text),
            Err(e) => Value::Bytes(e.into_bytes()),
        },
        (Kind::Float, SqlValue::Double(d)) => Value::Float(d as f32),
        (Kind::Double, SqlValue::Float(f)) => Value::Double(f64::from(f)),
        (_, other) => generic(other),
    };
    Ok(Some(converted))
}

/// The obvious conversion of a mysql_common value.
fn generic(value: SqlValue) -> Value {
    match value {
        SqlValue::NULL => Value::Null,
        SqlValue::Bytes(b) => Value::Bytes(b),
        SqlValue::Int(i) => Value::Int(i),
        SqlValue::UInt(u) => Value::UInt(u),
        SqlValue::Float(f) => Value::Float(f),
        SqlValue::Double(d) => Value::Double(d),
        SqlValue::Date(year, month, day, hour, minute, second, micros) => {
            Value::DateTime(DateTime { year, month, day, hour, minute, second, micros })
        }
        SqlValue::Time(negative, days, hours, minutes, seconds, micros) => {
            let secs = ((i64::from(days) * 24 + i64::from(hours)) * 60 + i64::from(minutes)) * 60
                + i64::from(seconds);
            let us = secs * 1_000_000 + i64::from(micros);
            Value::Time(if negative { -us } else { us })
        }
    }
}

/// mysql_common renders TIMESTAMP(n) as `seconds[.micros]` text, with the seconds read as a
/// signed 32-bit number; TIMESTAMP is unsigned (MariaDB ≥ 11.5 goes past 2038), so undo that.
fn timestamp_micros(text: &[u8]) -> Result<i64, String> {
    let text = lossy(text);
    let (secs, micros) = text.split_once('.').unwrap_or((&text, "0"));
    let bad = || format!("TIMESTAMP value {text:?}");
    let mut secs: i64 = secs.parse().map_err(|_| bad())?;
    if secs < 0 {
        secs += 1 << 32;
    }
    let micros: i64 = micros.parse().map_err(|_| bad())?;
    Ok(secs * 1_000_000 + micros)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mysql_async::binlog::jsonb::{self, JsonbString};
    use std::sync::Arc;

    fn column(kind: Kind, unsigned: bool) -> ColumnLayout {
        ColumnLayout { name: Arc::from("c"), kind, unsigned, json: false, members: Vec::new() }
    }

    fn value(column: &ColumnLayout, v: SqlValue) -> Value {
        convert(column, BinlogValue::Value(v)).unwrap().unwrap()
    }

    #[test]
    fn unsigned_columns_are_reinterpreted_at_their_width() {
        let cases = [
            (8, -1i64, 255u64),
            (16, -2, 65534),
            (24, -1, 16_777_215),
            (32, -294_967_296, 4_000_000_000),
            (64, -1, u64::MAX),
        ];
        for (bits, signed, unsigned) in cases {
            assert_eq!(
                value(&column(Kind::Integer(bits), true), SqlValue::Int(signed)),
                Value::UInt(unsigned)
            );
            assert_eq!(
                value(&column(Kind::Integer(bits), false), SqlValue::Int(signed)),
                Value::Int(signed)
            );
        }
        assert_eq!(value(&column(Kind::Integer(64), true), SqlValue::UInt(7)), Value::UInt(7));
    }

    #[test]
    fn temporal_and_bit_values() {
        let ts = column(Kind::Timestamp, false);
        assert_eq!(
            value(&ts, SqlValue::Bytes(b"1704164645.678000".to_vec())),
            Value::Timestamp(1_704_164_645_678_000)
        );
        assert_eq!(value(&ts, SqlValue::Bytes(b"1".to_vec())), Value::Timestamp(1_000_000));
        // After 2038 mysql_common's signed seconds wrap; TIMESTAMP is unsigned.
        assert_eq!(
            value(&ts, SqlValue::Bytes(b"-2147483648".to_vec())),
            Value::Timestamp(2_147_483_648 * 1_000_000)
        );
        assert!(convert(&ts, BinlogValue::Value(SqlValue::Bytes(b"x".to_vec()))).is_err());
        let year = column(Kind::Year, false);
        assert_eq!(value(&year, SqlValue::Bytes(b"1900".to_vec())), Value::Int(0));
        assert_eq!(value(&year, SqlValue::Bytes(b"2155".to_vec())), Value::Int(2155));
        let bit = column(Kind::Bit, false);
        assert_eq!(value(&bit, SqlValue::Bytes(vec![0x01, 0x02])), Value::Int(0x0102));
        let time = column(Kind::Time, false);
        assert_eq!(
            value(&time, SqlValue::Time(true, 1, 2, 3, 4, 5)),
            Value::Time(-((26 * 3600 + 3 * 60 + 4) * 1_000_000 + 5))
        );
    }

    #[test]
    fn enum_and_set_values_use_their_members_when_known() {
        let mut e = column(Kind::Enum, false);
        assert_eq!(value(&e, SqlValue::Int(2)), Value::Int(2));
        e.members = vec![b"new".to_vec(), b"paid".to_vec()];
        assert_eq!(value(&e, SqlValue::Int(2)), Value::Bytes(b"paid".to_vec()));
        assert_eq!(
            value(&e, SqlValue::Int(0)),
            Value::Bytes(Vec::new()),
            "the invalid-value index"
        );
        assert_eq!(value(&e, SqlValue::Int(9)), Value::Int(9));
        let mut s = column(Kind::Set, false);
        assert_eq!(value(&s, SqlValue::Bytes(vec![0b101])), Value::UInt(5));
        s.members = vec![b"x".to_vec(), b"y".to_vec(), b"z".to_vec()];
        assert_eq!(value(&s, SqlValue::Bytes(vec![0b101])), Value::Bytes(b"x,z".to_vec()));
    }

    #[test]
    fn json_columns() {
        let binary = column(Kind::Json, false);
        let text = |v| convert(&binary, BinlogValue::Jsonb(v)).unwrap().unwrap();
        assert_eq!(
            text(jsonb::Value::String(JsonbString::new(&b"h\xc3\xa9"[..]))),
            Value::Json("\"hé\"".into())
        );
        assert_eq!(text(jsonb::Value::I64(-5)), Value::Json("-5".into()));
        assert_eq!(text(jsonb::Value::Null), Value::Json("null".into()));
        assert_eq!(convert(&binary, BinlogValue::JsonDiff(Vec::new())).unwrap(), None);
        let mut mariadb = column(Kind::Text, false);
        assert_eq!(
            value(&mariadb, SqlValue::Bytes(b"[1]".to_vec())),
            Value::Bytes(b"[1]".to_vec())
        );
        mariadb.json = true;
        assert_eq!(value(&mariadb, SqlValue::Bytes(b"[1]".to_vec())), Value::Json("[1]".into()));
        assert_eq!(
            value(&mariadb, SqlValue::Bytes(vec![0xff])),
            Value::Bytes(vec![0xff]),
            "not UTF-8"
        );
        assert_eq!(value(&mariadb, SqlValue::NULL), Value::Null);
    }
}
