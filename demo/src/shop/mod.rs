/*!
The shop: the `orders` table, the reader and writer tasks, the turns coordinator and the scripted
incident, run on one tokio runtime while the recorder captures them.

Every task has its own Redis and database connections (opened before the traffic starts), so
MONITOR shows one client address per task. The files, one concern each: [`state`] (what the
tasks share), [`cache`] (a task's Redis connection, through the `redis` crate), [`database`],
[`setup`] (the table and the empty cache before recording), [`operations`] (a cache-aside read and
a write under the protocol), [`traffic`] (the tasks) and [`incident`] (the scripted stale set).
*/

mod cache;
mod database;
mod incident;
mod operations;
mod setup;
mod state;
mod traffic;

use std::sync::Arc;

use cachetape_recorder::live::{RecordConfig, Recording};
use cachetape_tape::{KeyPattern, strip_credentials};

pub use incident::IncidentLog;
pub use state::ShopCounts;

use crate::servers::{PrivateMariaDb, PrivateRedis};
use crate::{DemoConfig, DemoError, DemoSummary};

/// Runs the shop and records it (see [`crate::run`]).
pub fn run(config: &DemoConfig, progress: &mut dyn FnMut(&str)) -> Result<DemoSummary, DemoError> {
    config.validate()?;
    // Private servers live until the end of this function (dropped: killed, directories removed).
    let mut _private_redis = None;
    let redis_url = match &config.redis {
        Some(url) => url.clone(),
        None => {
            progress("starting a private redis-server (loopback, free port, no persistence)");
            let redis = PrivateRedis::start()?;
            let url = redis.url();
            progress(&format!("redis-server ready at {url}"));
            _private_redis = Some(redis);
            url
        }
    };
    let mut _private_db = None;
    let mysql_url = match &config.mysql {
        Some(url) => url.clone(),
        None => {
            progress("starting a private MariaDB (binlog on, ROW format; takes a few seconds)");
            let db = PrivateMariaDb::start()?;
            let url = db.url();
            progress(&format!("MariaDB ready at {url}"));
            _private_db = Some(db);
            url
        }
    };
    let (redis, redis_name) = cache::parse_url(&redis_url).map_err(|e| {
        DemoError::Config(format!("--redis {}: {e}", strip_credentials(&redis_url)))
    })?;
    let shop = Arc::new(state::Shop::new(config, redis, redis_name, mysql_url.clone()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| DemoError::Server {
            what: "the shop's runtime".into(),
            detail: e.to_string(),
        })?;

    runtime.block_on(setup::setup(&shop))?;
    progress(&format!(
        "{}.orders holds {} orders; the cache is empty",
        config.database, config.orders
    ));

    let mut record = RecordConfig::new(&config.output);
    record.redis = vec![redis_url.clone()];
    record.mysql = Some(mysql_url.clone());
    record.tables = vec![KeyPattern::new(format!("{}.*", config.database))];
    record.level = config.level;
    record.probe_interval = config.probe_interval;
    record.created_us = config.created_us;
    record.status_line = false;
    let recording = Recording::start(record)?;
    progress(&format!(
        "recording into {} (renamed to {} when closed)",
        cachetape_tape::output::OutputFile::partial_path(&config.output).display(),
        config.output.display()
    ));

    let outcome = runtime.block_on(traffic::traffic(shop.clone()));
    recording.stop();
    let summary = recording.wait();
    let incident = outcome?;
    let summary = summary?;
    progress(&format!("recorded {} events", summary.events));

    let mapping = config.mapping_path();
    cachetape_tape::output::write_file(&mapping, config.mapping_toml()).map_err(|e| {
        DemoError::Output {
            what: format!("cannot write the mapping {}", mapping.display()),
            detail: e.to_string(),
        }
    })?;
    Ok(DemoSummary {
        trace: config.output.clone(),
        mapping,
        trace_bytes: summary.bytes,
        events: summary.events,
        counts: shop.counters.snapshot(),
        incident,
        recording: summary,
    })
}
