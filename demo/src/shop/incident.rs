/*!
The scripted stale set on order 42 (see the crate documentation): the reader misses and selects
`CANCELLED`; only then does the writer start, commit `PAID` and invalidate; only once the writer
has handed over (a oneshot channel) and [`DemoConfig::incident_stall`] has passed does the
reader's SETEX land. The race so happens the same way on a loaded machine.

[`DemoConfig::incident_stall`]: crate::DemoConfig::incident_stall
*/

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::cache::Cache;
use super::database;
use super::operations::{read_order, write_order};
use super::state::{Counters, Shop, render};
use crate::{DemoError, INCIDENT_ORDER};

/// Reads of `order:42` the incident's reader makes after its SETEX.
const INCIDENT_REREADS: usize = 3;

/// How the scripted incident went, as the shop saw it.
#[derive(Clone, Debug)]
pub struct IncidentLog {
    /// The incident reader's client address as MONITOR shows it.
    pub reader: String,
    /// The incident writer's client address.
    pub writer: String,
    /// What the reader selected (`CANCELLED`) and cached.
    pub cached: String,
    /// What the writer committed (`PAID`).
    pub committed: String,
    /// From the writer's hand-over (commit and invalidation done) to the SETEX's reply.
    pub setex_after_commit: Duration,
    /// The reader's GETs of `order:42` after its SETEX.
    pub rereads: usize,
    /// Of which served `CANCELLED`.
    pub stale_rereads: usize,
}

/// Runs the incident on the reader's and the writer's connections, once a good part of the
/// background traffic has run.
pub(super) async fn incident(
    shop: Arc<Shop>,
    started: Instant,
    (mut rcache, mut rdb): (Cache, mysql_async::Conn),
    (mut wcache, mut wdb): (Cache, mysql_async::Conn),
) -> Result<IncidentLog, DemoError> {
    let config = &shop.config;
    // Start once a good part of the background traffic has run (and well before its end).
    let at = config.duration.mul_f64(0.4);
    let ops_at = config.operations.map(|n| n * 2 / 5);
    loop {
        if shop.stopping()
            || started.elapsed() >= at
            || ops_at.is_some_and(|n| shop.counters.operations() >= n)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let key = format!("order:{INCIDENT_ORDER}");
    let c = &shop.counters;
    Counters::add(&c.reads);
    if let Some(v) = rcache.get(&shop, &key).await? {
        return Err(DemoError::Incident(format!("{key} was already cached ({v}) before its read")));
    }
    Counters::add(&c.misses);
    Counters::add(&c.stalls);
    let cached = database::select(&shop, &mut rdb, INCIDENT_ORDER).await?;
    if !cached.contains("\"CANCELLED\"") {
        return Err(DemoError::Incident(format!("the reader selected {cached}, not CANCELLED")));
    }
    // The reader stalls here; the writer commits PAID and invalidates meanwhile.
    let (committed_tx, committed_rx) = oneshot::channel();
    let writer_shop = shop.clone();
    let writer = tokio::spawn(async move {
        let total = "99.90";
        write_order(
            &writer_shop,
            &mut wcache,
            &mut wdb,
            INCIDENT_ORDER,
            "PAID",
            total,
            Some(committed_tx),
        )
        .await?;
        let _ = wdb.disconnect().await;
        Ok::<(String, String), DemoError>((wcache.client, render(INCIDENT_ORDER, "PAID", total)))
    });
    committed_rx
        .await
        .map_err(|_| DemoError::Incident("the writer stopped before committing".into()))?;
    let handed_over = Instant::now();
    tokio::time::sleep(config.incident_stall).await;
    rcache.set_ex(&shop, &key, &cached).await?;
    let setex_after_commit = handed_over.elapsed();
    shop.incident_done.store(true, Ordering::Relaxed);
    let (writer_client, committed) =
        writer.await.map_err(|e| DemoError::Incident(format!("the writer task failed: {e}")))??;
    let mut stale_rereads = 0;
    for _ in 0..INCIDENT_REREADS {
        tokio::time::sleep(Duration::from_millis(40)).await;
        let (value, hit) = read_order(&shop, &mut rcache, &mut rdb, INCIDENT_ORDER, false).await?;
        if hit && value == cached {
            stale_rereads += 1;
        }
    }
    let _ = rdb.disconnect().await;
    Ok(IncidentLog {
        reader: rcache.client,
        writer: writer_client,
        cached,
        committed,
        setex_after_commit,
        rereads: INCIDENT_REREADS,
        stale_rereads,
    })
}
