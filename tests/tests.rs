//! cachetape's command line end to end, as one test binary: each module drives the real binary
//! against real servers or files made in the test.

mod analyze_cases;
mod analyze_html;
mod analyze_inconclusive;
mod analyze_reads;
mod analyze_workload;
mod app_django;
mod app_node;
mod app_support;
mod as_recorded;
mod binlog_import;
mod bounded;
mod cat_replies;
mod demo_cli;
mod hostile_traces;
mod monitor_capture;
mod output_paths;
mod record_cli;
mod record_secrets;
mod replay_cases;
mod replay_workload;
mod salvage_readers;
mod shipped_traces;
mod shrink_cli;
mod trace_size;
mod truncation;
mod util;
