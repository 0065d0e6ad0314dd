/*!
The background traffic: reader and writer tasks, each on connections of its own opened before any
task starts, the turns coordinator, the clock that stops the shop, and the scripted incident
started beside them.
*/

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::cache::Cache;
use super::database;
use super::incident::{IncidentLog, incident};
use super::operations::{read_order, write_order};
use super::state::{STATUSES, Shop, Turn};
use crate::{DemoError, INCIDENT_ORDER};
use cachetape_base::Rng;

/// The hot orders a third of the reads go to (the incident's order among them).
const HOT: std::ops::RangeInclusive<u32> = 40..=49;
/// How long readers or writers have the shop to themselves in turns mode.
const TURN: Duration = Duration::from_millis(200);

/// One task's connections: Redis and the database.
type Connections = (Cache, mysql_async::Conn);

async fn connect(shop: &Shop) -> Result<Connections, DemoError> {
    Ok((Cache::connect(shop).await?, database::connect(shop, Some(&shop.config.database)).await?))
}

/// Runs the tasks until the duration or the operation count is reached and the incident is done.
pub(super) async fn traffic(shop: Arc<Shop>) -> Result<Option<IncidentLog>, DemoError> {
    let config = &shop.config;
    let mut tasks = tokio::task::JoinSet::new();
    // Connections first, so that connecting is not part of anyone's timing.
    let mut readers = Vec::new();
    for _ in 0..config.readers {
        readers.push(connect(&shop).await?);
    }
    let mut writers = Vec::new();
    for _ in 0..config.writers {
        writers.push(connect(&shop).await?);
    }
    let incident_conns = if config.incident {
        let reader = connect(&shop).await?;
        let writer = connect(&shop).await?;
        Some((reader, writer))
    } else {
        None
    };
    let started = Instant::now();
    for (i, (cache, db)) in readers.into_iter().enumerate() {
        let rng = Rng::stream(config.seed, 100 + i as u64);
        tasks.spawn(reader(shop.clone(), cache, db, rng));
    }
    for (i, (cache, db)) in writers.into_iter().enumerate() {
        let rng = Rng::stream(config.seed, 200 + i as u64);
        tasks.spawn(writer(shop.clone(), cache, db, rng));
    }
    if let Some(pause) = config.turns {
        tasks.spawn(turns(shop.clone(), pause));
    }
    let incident = incident_conns.map(|(reader, writer)| {
        let shop = shop.clone();
        tokio::spawn(async move {
            let result = incident(shop.clone(), started, reader, writer).await;
            // However it ended, the clock may now stop the shop; a failure stops it at once.
            if result.is_err() {
                shop.stop();
            }
            shop.incident_done.store(true, Ordering::Relaxed);
            result
        })
    });
    tasks.spawn(clock(shop.clone(), started));

    let mut first_error = None;
    while let Some(result) = tasks.join_next().await {
        let result =
            result.unwrap_or_else(|e| Err(DemoError::Incident(format!("a task failed: {e}"))));
        if let Err(e) = result {
            shop.stop();
            first_error.get_or_insert(e);
        }
    }
    let log = match incident {
        Some(handle) => match handle.await {
            Ok(Ok(log)) => Some(log),
            Ok(Err(e)) => return Err(first_error.unwrap_or(e)),
            Err(e) => return Err(DemoError::Incident(format!("its task failed: {e}"))),
        },
        None => None,
    };
    match first_error {
        Some(e) => Err(e),
        None => Ok(log),
    }
}

/// Stops the shop once the duration is up and the incident (if any) is done.
async fn clock(shop: Arc<Shop>, started: Instant) -> Result<(), DemoError> {
    while !shop.stopping() {
        if started.elapsed() >= shop.config.duration && shop.incident_done() {
            shop.stop();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

/// Turns mode: writers, pause, readers, pause, … A turn ends only when its operations in flight
/// have finished (the write lock waits for them), then the pause starts.
async fn turns(shop: Arc<Shop>, pause: Duration) -> Result<(), DemoError> {
    for next in [Turn::Write, Turn::Read].into_iter().cycle() {
        if shop.stopping() {
            break;
        }
        *shop.turn.write().await = next;
        tokio::time::sleep(TURN).await;
        *shop.turn.write().await = Turn::Pause;
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

/// The background reader: GET, and on a miss SELECT, maybe stall, SETEX.
async fn reader(
    shop: Arc<Shop>,
    mut cache: Cache,
    mut db: mysql_async::Conn,
    mut rng: Rng,
) -> Result<(), DemoError> {
    let orders = shop.config.orders;
    while !shop.stopping() {
        let turn = shop.turn.read().await;
        if !matches!(*turn, Turn::Read | Turn::Both) {
            drop(turn);
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let mut id = if rng.chance(1.0 / 3.0) {
            *HOT.start() + rng.below(u64::from(HOT.end() - HOT.start() + 1)) as u32
        } else {
            1 + rng.below(u64::from(orders)) as u32
        };
        if id > orders || (id == INCIDENT_ORDER && !shop.incident_done()) {
            id = 1 + rng.below(u64::from(orders.min(INCIDENT_ORDER - 1))) as u32;
        }
        let stall = rng.chance(shop.config.stall_probability);
        read_order(&shop, &mut cache, &mut db, id, stall).await?;
        shop.count_op();
        drop(turn);
        tokio::time::sleep(shop.config.think).await;
    }
    let _ = db.disconnect().await;
    Ok(())
}

/// The background writer: a new status and total for a random order, invalidated as the
/// protocol says. Order 42 is the incident's alone.
async fn writer(
    shop: Arc<Shop>,
    mut cache: Cache,
    mut db: mysql_async::Conn,
    mut rng: Rng,
) -> Result<(), DemoError> {
    let orders = shop.config.orders;
    while !shop.stopping() {
        let turn = shop.turn.read().await;
        if !matches!(*turn, Turn::Write | Turn::Both) {
            drop(turn);
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        }
        let mut id = 1 + rng.below(u64::from(orders)) as u32;
        if shop.config.incident && id == INCIDENT_ORDER {
            id = 1 + rng.below(u64::from(INCIDENT_ORDER - 1)) as u32;
        }
        let status = STATUSES[rng.below(STATUSES.len() as u64) as usize];
        let total = format!("{}.{:02}", 5 + rng.below(200), rng.below(100));
        write_order(&shop, &mut cache, &mut db, id, status, &total, None).await?;
        shop.count_op();
        drop(turn);
        tokio::time::sleep(shop.config.write_think).await;
    }
    let _ = db.disconnect().await;
    Ok(())
}
