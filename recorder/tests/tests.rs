//! The recorder's integration tests, as one binary (modules below), against private servers.

mod binlog_file;
mod record_live;
mod schema_file;
