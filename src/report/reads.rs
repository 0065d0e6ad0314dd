/*!
`analyze --reads FILE`: every judged read as one JSON object per line, so that a verdict can be
checked against an application's own log. The fields, in this order (the README documents them):

- `seq` — the read's event (`cachetape cat --around SEQ` shows the events near it);
- `key`, `node`, `redis_db` — what was read, where;
- `client` — the connection that read it (`ip:port`), `?` when the trace did not name one;
- `t_us`, `uncertainty_us` — when, in µs since the epoch on the recorder's clock, ± how much;
- `verdict` — `fresh`, `stale-definite`, `stale-possible` or `unverifiable`;
- `cause` — a stale read's cause (`stale-set`, `late-invalidation`, `missing-invalidation`,
  `unexplained`), else `null`;
- `age_us` — a stale read's age (time since the served value was superseded), else `null`;
- `served` — what the cache served, projected onto the rule's columns (`null` when it could not
  be);
- `db` — what the database held then, best estimate (`(no row)` when there was none, `null` when
  the row's history is unknown);
- `reason` — why an unverifiable read could not be judged, else `null`.

Lines are in sequence-number order (then by key): the file depends on nothing but the trace and
the mapping.
*/

use std::io::{self, Write};

use cachetape_analyzer::analysis::{JudgedRead, ReadLog};
use serde_json::json;

/// Writes `log` to `out` as JSON lines.
pub fn write_reads(log: &ReadLog, out: &mut dyn Write) -> io::Result<()> {
    for read in log.iter() {
        serde_json::to_writer(&mut *out, &line(&read))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// One read's object, its fields in the documented order.
fn line(r: &JudgedRead<'_>) -> serde_json::Value {
    json!({
        "seq": r.seq,
        "key": r.key,
        "node": r.node,
        "redis_db": r.redis_db,
        "client": r.client,
        "t_us": r.t_us,
        "uncertainty_us": r.uncertainty_us,
        "verdict": r.verdict.name(),
        "cause": r.cause.map(|c| c.name()),
        "age_us": r.age_us,
        "served": r.served,
        "db": r.db,
        "reason": r.reason,
    })
}
