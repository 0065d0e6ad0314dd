//! MONITOR captures and binlog files into one trace (in progress).
