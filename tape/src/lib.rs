/*!
cachetape's event model and trace file format.

This crate owns what a trace *is*: the events of DESIGN ([`Event`], [`EventBody`] and the
structs it holds), the header and footer, and the streaming [`Writer`] and [`Reader`] of the
file format laid out in [`wire`]. It is the only serde boundary of the workspace: every other
crate sees events as plain Rust values. It also knows which arguments of a Redis command are keys
([`commands`]), because recorder, replayer and reports all need that and all depend on this crate,
and how trace times read: UTC renderings ([`format_time`], [`format_duration`]) and the system
clock in trace µs ([`now_us`]). Every file a command writes goes through [`output`]: never
over one of its inputs, and renamed into place only when whole.
*/
#![deny(missing_docs)]

mod argv;
mod clock;
pub mod commands;
mod error;
mod event;
mod header;
pub mod output;
mod pattern;
mod reader;
pub mod summary;
mod time;
mod value;
pub mod wire;
mod writer;

#[cfg(test)]
mod testdata;

pub use argv::{ArgWriter, Argv, ArgvIter, ArgvRef};
pub use clock::{Clock, now_us};
pub use error::{Error, Result};
pub use event::*;
pub use header::{
    Capture, Footer, Header, Redaction, Source, SourceKind, mask_password, strip_credentials,
};
pub use pattern::KeyPattern;
pub use reader::{Damage, Frame, LostFrame, ReadReport, Reader, Truncation};
pub use time::{format_duration, format_time};
pub use value::{Cell, DateTime, Name, RowImage, StoredValue, Value};
pub use wire::{EventRef, RedisRef};
pub use writer::{Writer, WriterOptions};
