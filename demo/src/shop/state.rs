/*!
What every task of the shop shares: the configuration, where the servers are, the counters, the
stop flag, whose turn it is; and the row rendering every task caches.
*/

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use cachetape_tape::strip_credentials;
use tokio::sync::RwLock;

use crate::{DemoConfig, DemoError};

/// Statuses the writers move orders between.
pub(super) const STATUSES: [&str; 5] = ["NEW", "PAID", "SHIPPED", "CANCELLED", "REFUNDED"];

/// What the shop did (background traffic and incident together).
#[derive(Clone, Debug, Default)]
pub struct ShopCounts {
    /// GETs of `order:{id}`.
    pub reads: u64,
    /// Of which hits.
    pub hits: u64,
    /// Misses that read the database and cached the row.
    pub misses: u64,
    /// Misses that stalled before caching.
    pub stalls: u64,
    /// Committed updates.
    pub writes: u64,
    /// DELs sent by writers.
    pub invalidations: u64,
}

/// The live counters behind [`ShopCounts`], shared by every task.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) reads: AtomicU64,
    pub(super) hits: AtomicU64,
    pub(super) misses: AtomicU64,
    pub(super) stalls: AtomicU64,
    pub(super) writes: AtomicU64,
    pub(super) invalidations: AtomicU64,
}

impl Counters {
    /// The counts so far.
    pub(super) fn snapshot(&self) -> ShopCounts {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ShopCounts {
            reads: get(&self.reads),
            hits: get(&self.hits),
            misses: get(&self.misses),
            stalls: get(&self.stalls),
            writes: get(&self.writes),
            invalidations: get(&self.invalidations),
        }
    }

    /// Reads and writes so far.
    pub(super) fn operations(&self) -> u64 {
        self.reads.load(Ordering::Relaxed) + self.writes.load(Ordering::Relaxed)
    }

    /// Adds one to `counter`.
    pub(super) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Whose turn it is (turns mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Turn {
    /// Readers and writers together (no turns).
    Both,
    /// Readers only.
    Read,
    /// Writers only.
    Write,
    /// Nobody: the pause between turns.
    Pause,
}

/// What every task shares.
pub(super) struct Shop {
    pub(super) config: DemoConfig,
    /// Where Redis is, with the credentials and db the shop's connections log in with.
    pub(super) redis: redis::ConnectionInfo,
    /// `redis://host:port`, for messages (no credentials).
    pub(super) redis_name: String,
    pub(super) mysql: String,
    pub(super) counters: Counters,
    pub(super) stop: AtomicBool,
    /// Background readers leave order 42 alone until the incident has cached it.
    pub(super) incident_done: AtomicBool,
    pub(super) turn: RwLock<Turn>,
}

impl Shop {
    /// The shop for `config` over the given servers; nothing is connected yet.
    pub(super) fn new(
        config: &DemoConfig,
        redis: redis::ConnectionInfo,
        redis_name: String,
        mysql: String,
    ) -> Shop {
        Shop {
            config: config.clone(),
            redis,
            redis_name,
            mysql,
            counters: Counters::default(),
            stop: AtomicBool::new(false),
            incident_done: AtomicBool::new(!config.incident),
            turn: RwLock::new(if config.turns.is_some() { Turn::Pause } else { Turn::Both }),
        }
    }

    /// Whether the shop is stopping.
    pub(super) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Stops every task at its next operation.
    pub(super) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether the incident has cached its value (or there is none).
    pub(super) fn incident_done(&self) -> bool {
        self.incident_done.load(Ordering::Relaxed)
    }

    /// Counts one background operation; stops the shop when `operations` is reached.
    pub(super) fn count_op(&self) {
        if let Some(limit) = self.config.operations
            && self.counters.operations() >= limit
        {
            self.stop();
        }
    }

    /// The TTL of cached values, in whole seconds (what SETEX takes).
    pub(super) fn ttl_secs(&self) -> u64 {
        self.config.ttl.as_secs()
    }

    /// A Redis failure, naming the node.
    pub(super) fn redis_error(&self, e: impl std::fmt::Display) -> DemoError {
        DemoError::Redis { url: self.redis_name.clone(), detail: e.to_string() }
    }

    /// A database failure, naming the server (without credentials).
    pub(super) fn db_error(&self, e: impl std::fmt::Display) -> DemoError {
        DemoError::Database { url: strip_credentials(&self.mysql), detail: e.to_string() }
    }
}

/// The JSON the shop caches for a row: `{"id":42,"status":"PAID","total":"12.50"}`.
pub(super) fn render(id: u32, status: &str, total: &str) -> String {
    format!(r#"{{"id":{id},"status":"{status}","total":"{total}"}}"#)
}
