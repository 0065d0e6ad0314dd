/*!
The shop's database side: connecting (patiently, as a server that has just started may refuse the
first connections) and reading an order row as the shop caches it.
*/

use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;

use super::state::{Shop, render};
use crate::DemoError;

/// A connection to the shop's database server, in `database` when given.
pub(super) async fn connect(
    shop: &Shop,
    database: Option<&str>,
) -> Result<mysql_async::Conn, DemoError> {
    let opts = mysql_async::Opts::from_url(&shop.mysql).map_err(|e| shop.db_error(e))?;
    let opts = mysql_async::OptsBuilder::from_opts(opts)
        .prefer_socket(false)
        .db_name(database.map(str::to_string));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match mysql_async::Conn::new(opts.clone()).await {
            Ok(conn) => return Ok(conn),
            Err(mysql_async::Error::Io(_)) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(shop.db_error(e)),
        }
    }
}

/// Order `id` as the shop caches it (`SELECT status, total`, rendered as JSON).
pub(super) async fn select(
    shop: &Shop,
    db: &mut mysql_async::Conn,
    id: u32,
) -> Result<String, DemoError> {
    let row: Option<(String, String)> = db
        .exec_first("SELECT status, CAST(total AS CHAR) FROM orders WHERE id = ?", (id,))
        .await
        .map_err(|e| shop.db_error(e))?;
    let (status, total) =
        row.ok_or_else(|| shop.db_error(format!("order {id} vanished from the orders table")))?;
    Ok(render(id, &status, &total))
}
