/*!
Before the recording: the `orders` table created and filled from the seed, and the shop's keys
emptied — refusing to touch a database or a Redis db holding anything the demo did not make.
*/

use mysql_async::prelude::Queryable;

use super::cache::Cache;
use super::database;
use super::state::{STATUSES, Shop};
use crate::{DemoError, INCIDENT_ORDER};
use cachetape_base::Rng;

/// Creates the table (refusing to touch a database or Redis db the demo did not make) and fills
/// it; empties the shop's keys.
pub(super) async fn setup(shop: &Shop) -> Result<(), DemoError> {
    let config = &shop.config;
    let db = &config.database;
    let mut cache = Cache::connect(shop).await?;
    // A given Redis: only the demo's own keys (from an earlier run, deleted below) may be there.
    let mut leftovers = Vec::new();
    if config.redis.is_some() {
        for key in cache.keys(shop).await? {
            if !is_demo_key(&key) {
                return Err(DemoError::Config(format!(
                    "Redis at {} holds keys the demo did not write in db {} (`{key}`): the demo \
                     writes and deletes order:{{id}} keys and must not mix them with yours. Give \
                     it an empty db (redis://HOST:PORT/15)",
                    shop.redis_name,
                    shop.redis.redis_settings().db()
                )));
            }
            leftovers.push(key);
        }
    }
    let mut conn = database::connect(shop, None).await?;
    let tables: Vec<(String, String)> = conn
        .exec(
            "SELECT table_name, table_comment FROM information_schema.tables WHERE table_schema = ?",
            (db.as_str(),),
        )
        .await
        .map_err(|e| shop.db_error(e))?;
    for (name, comment) in &tables {
        if name != "orders" || comment != "cachetape demo" {
            return Err(DemoError::Config(format!(
                "the database `{db}` already has a table `{name}` the demo did not create; give \
                 the demo a database of its own (--database cachetape_demo)"
            )));
        }
    }
    let mut rng = Rng::stream(config.seed, 0);
    let mut rows = Vec::with_capacity(config.orders as usize);
    for id in 1..=config.orders {
        let status = if config.incident && id == INCIDENT_ORDER {
            "CANCELLED"
        } else {
            STATUSES[rng.below(STATUSES.len() as u64) as usize]
        };
        let total = format!("{}.{:02}", 5 + rng.below(200), rng.below(100));
        rows.push(format!("({id}, '{status}', {total}, 'customer-{}')", 1 + rng.below(50)));
    }
    let statements = [
        format!("CREATE DATABASE IF NOT EXISTS `{db}`"),
        format!("DROP TABLE IF EXISTS `{db}`.orders"),
        format!(
            "CREATE TABLE `{db}`.orders (id INT PRIMARY KEY, status VARCHAR(16) NOT NULL, \
             total DECIMAL(10,2) NOT NULL, customer VARCHAR(32) NOT NULL) ENGINE=InnoDB \
             COMMENT='cachetape demo'"
        ),
        format!(
            "INSERT INTO `{db}`.orders (id, status, total, customer) VALUES {}",
            rows.join(", ")
        ),
    ];
    for sql in statements {
        conn.query_drop(sql).await.map_err(|e| shop.db_error(e))?;
    }
    let _ = conn.disconnect().await;
    for key in (1..=config.orders).map(|id| format!("order:{id}")).chain(leftovers) {
        cache.del(shop, &key).await?;
    }
    Ok(())
}

/// One of the demo's own keys: `order:` and digits.
fn is_demo_key(key: &str) -> bool {
    key.strip_prefix("order:")
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}
