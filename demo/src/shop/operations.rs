/*!
The shop's two operations, as cache-aside does them: a read (GET; on a miss SELECT, maybe stall,
SETEX) and a write (UPDATE, invalidated as the [`Protocol`] says).
*/

use tokio::sync::oneshot;

use super::cache::Cache;
use super::database;
use super::state::{Counters, Shop};
use crate::{DemoError, Protocol};

/// One cache-aside read of order `id`; returns the value served (from the cache or the
/// database) and whether it was a hit. A miss stalls before its SETEX when `stall`.
pub(super) async fn read_order(
    shop: &Shop,
    cache: &mut Cache,
    db: &mut mysql_async::Conn,
    id: u32,
    stall: bool,
) -> Result<(String, bool), DemoError> {
    let key = format!("order:{id}");
    let c = &shop.counters;
    Counters::add(&c.reads);
    if let Some(value) = cache.get(shop, &key).await? {
        Counters::add(&c.hits);
        return Ok((value, true));
    }
    Counters::add(&c.misses);
    let value = database::select(shop, db, id).await?;
    if stall {
        Counters::add(&c.stalls);
        tokio::time::sleep(shop.config.stall).await;
    }
    cache.set_ex(shop, &key, &value).await?;
    Ok((value, false))
}

/// One write of order `id` under the shop's protocol. `committed` is told once the commit and
/// the invalidation that goes with it are done (before a double delete's delayed second DEL).
pub(super) async fn write_order(
    shop: &Shop,
    cache: &mut Cache,
    db: &mut mysql_async::Conn,
    id: u32,
    status: &str,
    total: &str,
    committed: Option<oneshot::Sender<()>>,
) -> Result<(), DemoError> {
    use mysql_async::prelude::Queryable;

    let key = format!("order:{id}");
    let c = &shop.counters;
    let protocol = shop.config.protocol;
    let del = async |cache: &mut Cache| -> Result<(), DemoError> {
        cache.del(shop, &key).await?;
        Counters::add(&c.invalidations);
        Ok(())
    };
    if matches!(protocol, Protocol::DeleteBeforeWrite | Protocol::DoubleDelete { .. }) {
        del(cache).await?;
    }
    db.exec_drop("UPDATE orders SET status = ?, total = ? WHERE id = ?", (status, total, id))
        .await
        .map_err(|e| shop.db_error(e))?;
    Counters::add(&c.writes);
    if protocol == Protocol::DeleteAfterWrite {
        del(cache).await?;
    }
    if let Some(tx) = committed {
        let _ = tx.send(());
    }
    if let Protocol::DoubleDelete { delay } = protocol {
        tokio::time::sleep(delay).await;
        del(cache).await?;
    }
    Ok(())
}
