/*!
The recorder's connections to MySQL/MariaDB (`mysql_async`): options from a `mysql://` URL (TCP
only), the server's name in the trace, connecting with a timeout (failures are [`Problem`]s that
name the fix), and the current binlog position.
*/

use std::time::Duration;

use cachetape_tape::{mask_password, strip_credentials};
use mysql_async::prelude::Queryable;

use super::problem::Problem;

/// Connects to MySQL/MariaDB with a timeout; failures name the fix.
pub(crate) async fn mysql_connect(
    opts: &mysql_async::Opts,
    source: &str,
) -> Result<mysql_async::Conn, Problem> {
    let connect = mysql_async::Conn::new(opts.clone());
    let user = opts.user().unwrap_or("");
    let result = tokio::time::timeout(Duration::from_secs(10), connect).await;
    let problem = |what: String, fix: &str| Problem {
        source: source.to_string(),
        what,
        fix: fix.to_string(),
    };
    match result {
        Err(_) => Err(problem(
            format!("no answer from {source} within 10 s"),
            "check the host and port and that no firewall drops the connection",
        )),
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(mysql_async::Error::Server(e))) if e.code == 1045 => Err(problem(
            format!("the server refused the login of user `{user}` (Access denied)"),
            "check the user and password in the --mysql URL (mysql://USER:PASSWORD@host:port; \
             percent-encode `@` `:` `/` in the password)",
        )),
        Ok(Err(mysql_async::Error::Server(e))) => Err(problem(
            format!("the server refused the connection: {} (error {})", e.message, e.code),
            "check the user's account on the server",
        )),
        Ok(Err(mysql_async::Error::Io(e))) => Err(problem(
            format!("cannot reach MySQL at {source}: {e}"),
            "check the host and port, that the server runs there and that no firewall blocks this \
             machine",
        )),
        Ok(Err(e)) => Err(problem(
            format!("cannot connect: {e}"),
            "check the --mysql URL and that the server is a MySQL or MariaDB",
        )),
    }
}

/// Parses a `mysql://` URL into options (TCP only, no socket switching).
pub(crate) fn mysql_opts(url: &str) -> Result<mysql_async::Opts, Problem> {
    let source = strip_credentials(url);
    let shown = mask_password(url);
    if !url.contains("://") {
        return Err(Problem {
            source,
            what: format!("`{shown}` has no scheme"),
            fix: format!("write mysql://{shown} (mysql://USER:PASSWORD@host:port)"),
        });
    }
    let opts = mysql_async::Opts::from_url(url).map_err(|e| {
        // Shown only if it does not quote the credentials.
        let e = e.to_string();
        let credentials = url.split_once("://").and_then(|(_, r)| r.rsplit_once('@')).map(|c| c.0);
        let quoted = credentials
            .and_then(|c| c.split_once(':').map(|(_, p)| p))
            .is_some_and(|p| !p.is_empty() && e.contains(p));
        let e = if quoted { "the parser's message quotes the password".to_string() } else { e };
        Problem {
            source: source.clone(),
            what: format!("`{shown}` is not a usable MySQL URL ({e})"),
            fix: "write mysql://USER:PASSWORD@host:port, percent-encoding `@ : / ? #` in the user \
                  name and password (`/` is %2F)"
                .into(),
        }
    })?;
    Ok(mysql_async::OptsBuilder::from_opts(opts).prefer_socket(false).into())
}

/// `host:port` of a MySQL URL.
pub(crate) fn mysql_name(opts: &mysql_async::Opts) -> String {
    let host = opts.ip_or_hostname();
    if host.contains(':') {
        format!("[{host}]:{}", opts.tcp_port())
    } else {
        format!("{host}:{}", opts.tcp_port())
    }
}

/// The current binlog file and position: `SHOW MASTER STATUS`, or `SHOW BINARY LOG STATUS` on
/// MySQL 8.4+. `Ok(None)` when the binlog is off.
pub(crate) async fn master_status(
    conn: &mut mysql_async::Conn,
) -> Result<Option<(String, u64)>, mysql_async::Error> {
    let row = match conn.query_first::<mysql_async::Row, _>("SHOW MASTER STATUS").await {
        Ok(row) => row,
        Err(mysql_async::Error::Server(e)) if e.code == 1064 => {
            conn.query_first::<mysql_async::Row, _>("SHOW BINARY LOG STATUS").await?
        }
        Err(e) => return Err(e),
    };
    Ok(row.and_then(|r| {
        let file: Option<String> = r.get(0);
        let pos: Option<String> = r.get(1);
        Some((file?, pos?.parse().ok()?))
    }))
}
