//! Binlog row events into row changes and commits (in progress).
