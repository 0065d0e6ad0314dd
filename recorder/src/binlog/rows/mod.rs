/*!
Binlog rows events → tape [`RowChange`]s: column names, signedness and value conversion.

This is the part both binlog paths share: the file reader ([`super::file`]) and the live
recorder, which streams the same mysql_common events through `mysql_async`'s binlog feature.
A [`RowDecoder`] remembers the table map events it is given and turns each rows event of a
mapped table into one [`RowChange`] per row.

Where the names and types come from, best first:

1. the table map's own optional metadata (`binlog_row_metadata=FULL` on MySQL 8 and MariaDB
   ≥ 10.5): column names, signedness and ENUM/SET members, exact at the time of the event;
2. the [`Schema`] (a DDL file, or `information_schema` for the live recorder), when it defines
   the table with as many columns as the table map has;
3. otherwise `@1..@n` and signed integers; ENUM values stay their index, SET values their bit
   mask.

Values keep the database's representation: DECIMAL as its exact text, DATE/DATETIME as
[`DateTime`], TIMESTAMP as µs since the epoch, TIME as µs, MySQL's binary JSON as JSON text, and
MariaDB's JSON (a LONGTEXT) as [`Value::Json`] only when the schema says the column holds JSON.
Partial images (`binlog_row_image=MINIMAL` or `NOBLOB`) carry only the columns the binlog sent.
*/

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cachetape_tape::{Cell, DateTime, Name, RowChange, RowImage, RowOp, Value};
use mysql_async::Value as SqlValue;
use mysql_async::binlog::events::{OptionalMetadataField, RowsEventData, TableMapEvent};
use mysql_async::binlog::row::BinlogRow;
use mysql_async::binlog::value::BinlogValue;
use mysql_async::consts::ColumnType;

use crate::schema::{Schema, Table};

/// Why a rows event could not be turned into row changes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RowsError {
    /// A rows event came without the table map event that must precede it.
    #[error(
        "a rows event names table id {table_id}, but no table map event for it came before: the \
         binlog was read from the middle of a transaction; start reading at a transaction \
         boundary (the position of a GTID or BEGIN event, or the start of a file)"
    )]
    NoTableMap {
        /// The table id the rows event names.
        table_id: u64,
    },
    /// The table map event describes columns this reader cannot decode.
    #[error("cannot decode rows of {table}: its table map event {problem}")]
    BadTableMap {
        /// `db.table`.
        table: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A row's bytes do not match its table map (a corrupt event, or a type this reader does not
    /// know).
    #[error("cannot decode a row of {table}: {problem}")]
    BadRow {
        /// `db.table`.
        table: String,
        /// What failed.
        problem: String,
    },
}

/// Where a table's column names came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnNames {
    /// The table map event's optional metadata (`binlog_row_metadata=FULL`).
    Binlog,
    /// The schema.
    Schema,
    /// Neither: `@1..@n`.
    Positional,
}

/// How a value of a column is converted, decided once per table map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// TINYINT … BIGINT, with their width in bits.
    Integer(u32),
    Float,
    Double,
    Decimal,
    Timestamp,
    DateTime,
    Time,
    Year,
    Bit,
    Enum,
    Set,
    /// MySQL's binary JSON.
    Json,
    /// CHAR, VARCHAR, TEXT, BLOB, BINARY (and MariaDB's JSON, a LONGTEXT).
    Text,
    /// GEOMETRY, VECTOR and anything else mysql_common decodes.
    Other,
}

/// One column of a [`TableLayout`].
#[derive(Clone, Debug)]
struct ColumnLayout {
    name: Name,
    kind: Kind,
    unsigned: bool,
    json: bool,
    members: Vec<Vec<u8>>,
}

/// What a [`RowDecoder`] knows about one mapped table.
#[derive(Clone, Debug)]
pub struct TableLayout {
    tme: TableMapEvent<'static>,
    table: Name,
    columns: Vec<ColumnLayout>,
    names: ColumnNames,
    /// Set when the table map cannot be decoded safely.
    problem: Option<String>,
}

impl TableLayout {
    /// `db.table`.
    pub fn table(&self) -> &Name {
        &self.table
    }

    /// The column names, in table order.
    pub fn column_names(&self) -> impl Iterator<Item = &Name> {
        self.columns.iter().map(|c| &c.name)
    }

    /// Where the column names came from.
    pub fn names_from(&self) -> ColumnNames {
        self.names
    }
}

/// Turns rows events into [`RowChange`]s, given the table map events before them.
#[derive(Debug, Default)]
pub struct RowDecoder {
    schema: Option<Arc<Schema>>,
    tables: HashMap<u64, TableLayout>,
    warnings: Vec<String>,
    warned: HashSet<String>,
}

impl RowDecoder {
    /// A decoder that takes column names from `schema` when the binlog lacks them.
    pub fn new(schema: Option<Arc<Schema>>) -> RowDecoder {
        RowDecoder { schema, ..RowDecoder::default() }
    }

    /// Replaces the schema (the live recorder re-reads it after DDL). Tables mapped before keep
    /// their layout until their next table map event.
    pub fn set_schema(&mut self, schema: Option<Arc<Schema>>) {
        self.schema = schema;
    }

    /// The schema in use.
    pub fn schema(&self) -> Option<&Arc<Schema>> {
        self.schema.as_ref()
    }

    /// Remembers a table map event; the rows events after it name its table id.
    pub fn table_map(&mut self, tme: TableMapEvent<'_>) -> &TableLayout {
        let table_id = tme.table_id();
        let reuse = self.tables.get(&table_id).is_some_and(|layout| layout.tme == tme);
        if !reuse {
            let layout = self.build_layout(tme.into_owned());
            self.tables.insert(table_id, layout);
        }
        &self.tables[&table_id]
    }

    /// Forgets every table map (a new binlog file, a real rotate).
    pub fn forget_tables(&mut self) {
        self.tables.clear();
    }

    /// The layout of a mapped table id.
    pub fn layout(&self, table_id: u64) -> Option<&TableLayout> {
        self.tables.get(&table_id)
    }

    /// Problems noticed while decoding (a schema that does not match a table map, partial JSON
    /// updates that could not be applied), each reported once; drains them.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn warn_once(&mut self, key: String, message: String) {
        if self.warned.insert(key) {
            self.warnings.push(message);
        }
    }

    /// The row changes of one rows event: one per row, all with transaction number `txn` and
    /// the event header's seconds `header_secs`.
    pub fn decode(
        &mut self,
        rows: &RowsEventData<'_>,
        txn: u64,
        header_secs: u32,
    ) -> Result<Vec<RowChange>, RowsError> {
        let table_id = rows.table_id();
        let Some(layout) = self.tables.get(&table_id) else {
            if rows.rows_data().is_empty() {
                return Ok(Vec::new()); // the dummy end-of-statement event
            }
            return Err(RowsError::NoTableMap { table_id });
        };
        if let Some(problem) = &layout.problem {
            return Err(RowsError::BadTableMap {
                table: layout.table.to_string(),
                problem: problem.clone(),
            });
        }
        let op = match rows {
            RowsEventData::WriteRowsEventV1(_) | RowsEventData::WriteRowsEvent(_) => RowOp::Insert,
            RowsEventData::DeleteRowsEventV1(_) | RowsEventData::DeleteRowsEvent(_) => {
                RowOp::Delete
            }
            _ => RowOp::Update,
        };
        let bad_row =
            |problem: String| RowsError::BadRow { table: layout.table.to_string(), problem };
        let n_columns = layout.columns.len();
        if rows.num_columns() > n_columns as u64 {
            return Err(bad_row(format!(
                "the rows event has {} columns but its table map has {n_columns}",
                rows.num_columns()
            )));
        }
        let before_columns: Vec<usize> =
            rows.columns_before_image().map(|b| b.iter_ones().collect()).unwrap_or_default();
        let after_columns: Vec<usize> =
            rows.columns_after_image().map(|b| b.iter_ones().collect()).unwrap_or_default();
        let mut changes = Vec::new();
        let mut partial_json = false;
        for row in rows.rows(&layout.tme) {
            let (before, after) = row.map_err(|e| bad_row(e.to_string()))?;
            let before = match before {
                Some(r) => Some(image(layout, &before_columns, r, &mut partial_json)?),
                None => None,
            };
            let after = match after {
                Some(r) => Some(image(layout, &after_columns, r, &mut partial_json)?),
                None => None,
            };
            changes.push(RowChange {
                table: layout.table.clone(),
                op,
                before,
                after,
                txn,
                header_secs,
            });
        }
        if partial_json {
            let table = layout.table.to_string();
            self.warn_once(
                format!("partial-json {table}"),
                format!(
                    "{table}: some JSON columns were logged as partial updates \
                     (binlog_row_value_options=PARTIAL_JSON), which carry only the change, not \
                     the value; those columns are left out of the after images. Set \
                     binlog_row_value_options='' on the server to log whole values"
                ),
            );
        }
        Ok(changes)
    }

    /// Builds the layout of a table from its table map event and the schema.
    fn build_layout(&mut self, tme: TableMapEvent<'static>) -> TableLayout {
        let database = tme.database_name().into_owned();
        let table_name = tme.table_name().into_owned();
        let qualified: Name = Arc::from(format!("{database}.{table_name}"));
        let n = tme.columns_count() as usize;
        let meta = BinlogMetadata::read(&tme);
        let named_by_binlog = meta.names.len() == n;
        let schema_table: Option<Table> = match &self.schema {
            Some(schema) => match schema.table(&database, &table_name) {
                Some(t) if t.columns.len() == n => Some(t.clone()),
                Some(t) if !named_by_binlog => {
                    let message = format!(
                        "the schema file defines {} with {} columns, but the binlog's table map \
                         has {n}: the table changed after the schema was taken (or the schema is \
                         of another table); its columns are named @1..@{n}. Take the schema \
                         again (`mysqldump --no-data`) to name them",
                        t.qualified_name(),
                        t.columns.len()
                    );
                    self.warn_once(format!("count {qualified} {n}"), message);
                    None
                }
                None if !named_by_binlog => {
                    let message = format!(
                        "the schema file does not define {qualified}: its columns are named \
                         @1..@{n}; add its CREATE TABLE to the schema file to name them"
                    );
                    self.warn_once(format!("missing {qualified}"), message);
                    None
                }
                _ => None,
            },
            None => None,
        };
        let names_from = if named_by_binlog {
            ColumnNames::Binlog
        } else if schema_table.is_some() {
            ColumnNames::Schema
        } else {
            ColumnNames::Positional
        };
        let mut problem = None;
        let mut columns = Vec::with_capacity(n);
        let (mut numeric, mut enums, mut sets) = (0usize, 0usize, 0usize);
        for i in 0..n {
            let column_type = match tme.get_column_type(i) {
                Ok(Some(t)) => t,
                Ok(None) | Err(_) => {
                    problem
                        .get_or_insert_with(|| format!("gives column {} an unknown type", i + 1));
                    ColumnType::MYSQL_TYPE_NULL
                }
            };
            if problem.is_none()
                && let Some(p) = metadata_problem(&tme, i, column_type)
            {
                problem = Some(format!("column {}: {p}", i + 1));
            }
            let schema_column = schema_table.as_ref().and_then(|t| t.columns.get(i));
            let name: Name = match names_from {
                ColumnNames::Binlog => Arc::from(String::from_utf8_lossy(&meta.names[i]).as_ref()),
                ColumnNames::Schema => Arc::from(
                    schema_column.map_or_else(|| format!("@{}", i + 1), |c| c.name.clone()),
                ),
                ColumnNames::Positional => Arc::from(format!("@{}", i + 1)),
            };
            let binlog_unsigned = if column_type.is_numeric_type() {
                numeric += 1;
                meta.signedness.as_ref().and_then(|s| s.get(numeric - 1).copied())
            } else {
                None
            };
            let unsigned =
                binlog_unsigned.unwrap_or_else(|| schema_column.is_some_and(|c| c.unsigned));
            let members = match column_type {
                ColumnType::MYSQL_TYPE_ENUM => {
                    enums += 1;
                    meta.enum_members.get(enums - 1).cloned()
                }
                ColumnType::MYSQL_TYPE_SET => {
                    sets += 1;
                    meta.set_members.get(sets - 1).cloned()
                }
                _ => None,
            }
            .or_else(|| {
                schema_column.map(|c| c.members.iter().map(|m| m.as_bytes().to_vec()).collect())
            })
            .unwrap_or_default();
            columns.push(ColumnLayout {
                name,
                kind: kind_of(column_type),
                unsigned,
                json: schema_column.is_some_and(|c| c.json),
                members,
            });
        }
        TableLayout { tme, table: qualified, columns, names: names_from, problem }
    }
}

/// What the table map's optional metadata says, where the server wrote it.
#[derive(Default)]
struct BinlogMetadata {
    names: Vec<Vec<u8>>,
    signedness: Option<Vec<bool>>,
    enum_members: Vec<Vec<Vec<u8>>>,
    set_members: Vec<Vec<Vec<u8>>>,
}

impl BinlogMetadata {
    fn read(tme: &TableMapEvent<'_>) -> BinlogMetadata {
        let mut meta = BinlogMetadata::default();
        for field in tme.iter_optional_meta() {
            let Ok(field) = field else { return BinlogMetadata::default() };
            match field {
                OptionalMetadataField::ColumnName(names) => {
                    meta.names = names
                        .iter_names()
                        .filter_map(Result::ok)
                        .map(|n| n.name_raw().to_vec())
                        .collect();
                }
                OptionalMetadataField::Signedness(bits) => {
                    meta.signedness = Some(bits.iter().by_vals().collect());
                }
                OptionalMetadataField::EnumStrValue(values) => {
                    meta.enum_members = values
                        .iter_values()
                        .filter_map(Result::ok)
                        .map(|v| v.values().iter().map(|m| m.value_raw().to_vec()).collect())
                        .collect();
                }
                OptionalMetadataField::SetStrValue(values) => {
                    meta.set_members = values
                        .iter_values()
                        .filter_map(Result::ok)
                        .map(|v| v.values().iter().map(|m| m.value_raw().to_vec()).collect())
                        .collect();
                }
                _ => {}
            }
        }
        meta
    }
}

fn kind_of(column_type: ColumnType) -> Kind {
    use ColumnType::*;
    match column_type {
        MYSQL_TYPE_TINY => Kind::Integer(8),
        MYSQL_TYPE_SHORT => Kind::Integer(16),
        MYSQL_TYPE_INT24 => Kind::Integer(24),
        MYSQL_TYPE_LONG => Kind::Integer(32),
        MYSQL_TYPE_LONGLONG => Kind::Integer(64),
        MYSQL_TYPE_FLOAT => Kind::Float,
        MYSQL_TYPE_DOUBLE => Kind::Double,
        MYSQL_TYPE_NEWDECIMAL => Kind::Decimal,
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => Kind::Timestamp,
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 | MYSQL_TYPE_NEWDATE | MYSQL_TYPE_DATE => {
            Kind::DateTime
        }
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Kind::Time,
        MYSQL_TYPE_YEAR => Kind::Year,
        MYSQL_TYPE_BIT => Kind::Bit,
        MYSQL_TYPE_ENUM => Kind::Enum,
        MYSQL_TYPE_SET => Kind::Set,
        MYSQL_TYPE_JSON => Kind::Json,
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB => Kind::Text,
        _ => Kind::Other,
    }
}

/// Checks what mysql_common's value decoder indexes without checking, so a corrupt table map is
/// an error rather than a panic.
fn metadata_problem(tme: &TableMapEvent<'_>, i: usize, column_type: ColumnType) -> Option<String> {
    use ColumnType::*;
    let Some(meta) = tme.get_column_metadata(i) else {
        return Some("its metadata is missing or cut short".into());
    };
    let needed = match column_type {
        MYSQL_TYPE_STRING
        | MYSQL_TYPE_ENUM
        | MYSQL_TYPE_SET
        | MYSQL_TYPE_BIT
        | MYSQL_TYPE_NEWDECIMAL
        | MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING => 2,
        MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_GEOMETRY
        | MYSQL_TYPE_TIMESTAMP2
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIME2
        | MYSQL_TYPE_JSON
        | MYSQL_TYPE_VECTOR => 1,
        MYSQL_TYPE_TYPED_ARRAY => return Some("typed arrays are not supported".into()),
        MYSQL_TYPE_DECIMAL => return Some("pre-5.0 DECIMAL columns are not supported".into()),
        _ => 0,
    };
    if meta.len() < needed {
        return Some(format!(
            "{column_type:?} needs {needed} bytes of metadata, has {}",
            meta.len()
        ));
    }
    if column_type == MYSQL_TYPE_NEWDECIMAL {
        let (precision, scale) = (meta[0], meta[1]);
        if precision == 0 || precision > 65 || scale > precision || scale > 38 {
            return Some(format!("DECIMAL({precision},{scale}) is not a valid DECIMAL"));
        }
    }
    None
}

/// One row image: the present columns, in order, with converted values.
fn image(
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
