/*!
One client connection, executed live: [`Store::execute`] receives commands as a [`Client`] sends
them and applies Redis's connection semantics — processCommand's checks before anything runs,
MULTI queueing, EXEC running the queue or aborting (see `transactions.rs`), SELECT changing the
connection's database.
*/

use cachetape_tape::{Argv, ArgvRef, commands};

use crate::command::Command;
use crate::reply::Reply;
use crate::store::{ClientId, Cx, Store};
use crate::transactions::watch;

/// One client connection, for live execution: its id (WATCH state is per client), its selected
/// database and its MULTI queue.
#[derive(Clone, Debug, Default)]
pub struct Client {
    /// The id (distinct per connection, never 0 — that id is the replayer's anonymous client).
    pub id: ClientId,
    /// The selected database.
    pub db: u32,
    queue: Option<Vec<Argv>>,
    queue_failed: bool,
}

impl Client {
    /// A connection with id `id` on database 0.
    pub fn new(id: ClientId) -> Client {
        Client { id, ..Client::default() }
    }

    /// True between MULTI and EXEC/DISCARD.
    pub fn in_multi(&self) -> bool {
        self.queue.is_some()
    }
}

/// The error Redis gives for a command name it does not know.
fn unknown_command(argv: &ArgvRef<'_>) -> Reply {
    let mut args = String::new();
    for a in argv.iter().skip(1) {
        if args.len() >= 128 {
            break;
        }
        let room = 128 - args.len();
        let text = String::from_utf8_lossy(a);
        let cut: String = text.chars().take(room).collect();
        args.push_str(&format!("'{cut}' "));
    }
    let name: String = String::from_utf8_lossy(argv.name()).chars().take(128).collect();
    Reply::err_owned(format!("ERR unknown command '{name}', with args beginning with: {args}"))
}

impl Store {
    /// Executes `argv` as `client` sent it on its connection, at virtual time `now_us` (µs),
    /// with Redis's connection semantics: MULTI queues, EXEC runs the queue or aborts, SELECT
    /// changes the client's database.
    pub fn execute(&mut self, client: &mut Client, argv: &Argv, now_us: i64) -> Reply {
        let command = Command::of(argv);
        let now = now_us.div_euclid(1000);
        // processCommand's checks, before anything runs or is queued.
        let rejected = if command == Command::Unknown {
            match commands::lookup(argv) {
                None => Some(unknown_command(&argv.view())),
                Some(spec) => {
                    let argc = argv.len() as i32;
                    let bad = (spec.arity > 0 && argc != spec.arity) || argc < -spec.arity;
                    bad.then(|| {
                        Reply::err_owned(format!(
                            "ERR wrong number of arguments for '{}' command",
                            spec.name.replace('|', " ")
                        ))
                    })
                }
            }
        } else if !command.arity_ok(argv.len()) {
            Some(command.arity_error())
        } else {
            None
        };
        if let Some(err) = rejected {
            if client.queue.is_some() {
                client.queue_failed = true;
            }
            return err;
        }
        if let Some(queue) = &mut client.queue
            && !matches!(
                command,
                Command::Exec | Command::Discard | Command::Multi | Command::Watch
            )
        {
            queue.push(argv.clone());
            return Reply::QUEUED;
        }
        match command {
            Command::Multi => {
                if client.queue.is_some() {
                    return Reply::err("ERR MULTI calls can not be nested");
                }
                client.queue = Some(Vec::new());
                Reply::OK
            }
            Command::Discard => {
                if client.queue.take().is_none() {
                    return Reply::err("ERR DISCARD without MULTI");
                }
                self.end_transaction(client);
                Reply::OK
            }
            Command::Watch => {
                if client.queue.is_some() {
                    return Reply::err("ERR WATCH inside MULTI is not allowed");
                }
                let cx = Cx { db: client.db as usize, now, client: client.id };
                watch(self, &cx, &argv.view())
            }
            Command::Exec => {
                let Some(queue) = client.queue.take() else {
                    return Reply::err("ERR EXEC without MULTI");
                };
                let failed = client.queue_failed;
                let aborted = self.is_dirty(client.id) || self.watched_key_expired(client.id, now);
                self.end_transaction(client);
                if failed {
                    return Reply::err(
                        "EXECABORT Transaction discarded because of previous errors.",
                    );
                }
                if aborted {
                    return Reply::NilArray;
                }
                let mut results = Vec::with_capacity(queue.len());
                for q in &queue {
                    results.push(self.call(client.id, &mut client.db, q, now_us));
                }
                Reply::Array(results)
            }
            _ => self.call(client.id, &mut client.db, argv, now_us),
        }
    }

    /// `discardTransaction`: leaves MULTI, forgets WATCHes and the dirty flag.
    fn end_transaction(&mut self, client: &mut Client) {
        client.queue = None;
        client.queue_failed = false;
        self.unwatch_all(client.id);
        self.clear_dirty(client.id);
    }
}
