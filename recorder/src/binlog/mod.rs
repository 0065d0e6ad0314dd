/*!
MySQL/MariaDB binlogs → tape row changes and commits.

- [`rows`]: a rows event and its table map → [`RowChange`](cachetape_tape::RowChange)s, with
  column names from the binlog's metadata or the [`Schema`](crate::schema::Schema), else
  `@1..@n`, and each value in the database's own representation;
- [`decoder`]: a stream of binlog events → row changes and
  [`Commit`](cachetape_tape::Commit)s grouped into transactions, plus a report of what else it
  saw (server version, DDL, statement-format DML, skipped events);
- [`file`](mod@file): binlog files → that stream, with checksums verified and files cut short kept up to
  their last complete event;
- [`statement`] and [`mariadb`]: query-event classification and MariaDB's own event types;
- `event.rs`: one event's bytes (header length, declared size, parsing without panics, type
  names), shared by the file reader and the decoder.

The file reader and the live recorder (which streams with `mysql_async`'s `binlog` feature) both
use mysql_common's binlog types through `mysql_async::binlog`, so they share one mysql_common
version and one [`BinlogDecoder`].

```no_run
use std::sync::Arc;
use cachetape_recorder::binlog::{BinlogFile, BinlogOptions};
use cachetape_recorder::schema::Schema;

let schema = Arc::new(Schema::from_file("schema.sql".as_ref())?);
let mut first_txn = 1;
for path in ["binlog.000001", "binlog.000002"] {
    let options = BinlogOptions { schema: Some(schema.clone()), first_txn, ..Default::default() };
    let mut file = BinlogFile::open(path, &options)?;
    for item in &mut file {
        let (recv_us, body) = item?; // EventBody::Row or EventBody::Commit
        println!("{recv_us} {body:?}");
    }
    let report = file.finish();
    println!("{report}");
    for note in report.notes() {
        eprintln!("warning: {note}");
    }
    first_txn = report.next_txn();
}
# Ok::<(), Box<dyn std::error::Error>>(())
```
*/

pub mod decoder;
mod event;
pub mod file;
pub mod mariadb;
pub mod rows;
pub mod statement;

pub use decoder::{BinlogDecoder, DecodeError, DecodeReport, TimedBody};
pub use file::{BinlogError, BinlogFile, BinlogOptions, FileReport, Truncation};
pub use rows::{RowDecoder, RowsError};
