//! The MONITOR line parser (in progress).
