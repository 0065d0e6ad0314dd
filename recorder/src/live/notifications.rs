/*!
The keyspace-notification listener of one node (`--notifications`): a pub/sub connection of the
`redis` crate subscribed to `__keyevent@*__:expired` and `__keyevent@*__:evicted`; each message
becomes a [`KeyspaceNotice`]. A lost connection is opened again after 500 ms (the MONITOR reader
records the node's Gap).
*/

use std::future::poll_fn;
use std::sync::Arc;
use std::time::Duration;

use cachetape_tape::{EventBody, KeyspaceNotice};
use futures_core::Stream;
use redis::Msg;
use redis::aio::PubSub;

use super::now_us;
use super::probes::ProbeShared;
use super::redis_client;
use super::redis_url::RedisUrl;
use super::tap::TapContext;

/// Listens until the stop; `pubsub` is subscribed already.
pub(crate) async fn listen(
    ctx: TapContext,
    url: RedisUrl,
    pubsub: PubSub,
    shared: Arc<ProbeShared>,
) {
    let mut stop = ctx.stop.clone();
    let mut messages = Box::pin(pubsub.into_on_message());
    loop {
        let message = tokio::select! {
            _ = stop.changed() => break,
            m = poll_fn(|cx| messages.as_mut().poll_next(cx)) => m,
        };
        let Some(message) = message else {
            if ctx.stopping() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Ok(pubsub) = redis_client::subscribe_keyevents(&url, &shared.own).await {
                messages = Box::pin(pubsub.into_on_message());
            }
            continue;
        };
        if let Some(mut notice) = notice(&message) {
            ctx.redactor.keyspace(&mut notice);
            ctx.send_one(now_us(), EventBody::Keyspace(notice));
        }
    }
}

/// `__keyevent@3__:expired` with the key as payload → the notice.
fn notice(message: &Msg) -> Option<KeyspaceNotice> {
    let rest = message.get_channel_name().strip_prefix("__keyevent@")?;
    let (db, event) = rest.split_once("__:")?;
    let db = db.parse::<u32>().ok()?;
    Some(KeyspaceNotice { db, key: message.get_payload_bytes().to_vec(), event: event.into() })
}
