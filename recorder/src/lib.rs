/*!
cachetape-recorder: everything that reads the outside world into a trace.

The MONITOR line parser lives here, as does the import of MONITOR captures and binlog files. The
live recorder (MONITOR tap, binlog tap, clock and snapshot probes) is the next step. This is the
only crate that does network I/O.
*/
#![deny(missing_docs)]
