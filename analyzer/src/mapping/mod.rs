/*!
The key→row mapping: which cache keys hold which database rows, and how a cached value is
compared with the row.

A mapping file is TOML, one `[[rule]]` per key family:

```toml
[[rule]]
key = "order:{id}"          # a key pattern; each {name} is one key segment (no ':' inside)
table = "shop.orders"       # schema.table
# row = { id = "{id}" }     # the row's key columns (default: one column per placeholder name)
json = ["id", "status", "total"]   # the value is JSON; these fields equal the same columns
# json = { state = "status" }      # …or fields named differently from their columns
# json = { "customer.name" = "name" }  # a dotted path reaches into nested objects
# column = "status"                # the value is one column
# hash = ["status", "total"]       # the value is a Redis hash; fields ↔ columns
# node = "cache-1"                 # only keys of this Redis source (default: every node)
# redis_db = 0                     # only keys of this db index (default: every db)
```

Values are compared in normalized form ([`crate::normalize`]): a projection is the tuple of a
rule's columns, each canonical, interned in a [`ValueTable`] so that the oracle compares numbers
([`ValueId`]s), never bytes. A JSON document or hash that lacks some mapped fields projects to a
*partial* tuple, compared on the fields it has; one with none of them cannot be reconciled.

A JSON field may be a dotted path, `a.b.c`, through nested objects (a field whose own name has
a dot is looked up whole first): `json = { "value.status" = "status" }` reads `status` inside
`value`. What a framework wraps around the document needs no path under `decode = "auto"`
([`crate::decode`]): a Keyv envelope (`{"value":{…},"expires":ms}`, cache-manager ≥ 6) is
unwrapped, so `json = ["status"]` reads the inner document (a rule that names `value.…` paths
reads the envelope as it is); a decoded string that holds a JSON object (an app that cached
`JSON.stringify(doc)` through such a framework) is that object; and a `json` or `column` rule on
a .NET `IDistributedCache` hash (`data`, `absexp`, `sldexp`) reads its `data` payload. The
framework's own expiry in the value (Keyv `expires`, .NET `absexp`) is the projection's
[`Projected::expires_ms`]: the analysis takes a hit read past it for a miss.

The parts: [`Mapping`] and its [`Rule`]s (`rule.rs`), reading and writing the TOML (`file.rs`),
key patterns and matching (`pattern.rs`), projections of cached values and row images
(`projection.rs`, with `jsonfields.rs` for JSON documents), the tuple encoding of projections
(`tuple.rs`), and the [`ValueTable`] that interns them (`values.rs`).
*/

mod error;
mod file;
mod jsonfields;
mod pattern;
mod projection;
mod rule;
pub(crate) mod tuple;
mod values;

pub use error::MappingError;
pub use pattern::{KeyPart, parse_key_pattern};
pub use projection::Projected;
pub use rule::{Rule, ValueShape};
pub use values::{ValueId, ValueTable};

/// A parsed mapping: rules in file order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping {
    /// The rules; the first that matches a key wins.
    pub rules: Vec<Rule>,
}

impl Mapping {
    /// Index of the first rule matching `key` of `node`/`db`, with the placeholder values.
    pub fn find<'k>(
        &self,
        node: &str,
        db: u32,
        key: &'k [u8],
        holes: &mut Vec<&'k [u8]>,
    ) -> Option<usize> {
        self.rules.iter().position(|r| {
            r.node.as_deref().is_none_or(|n| n == node)
                && r.redis_db.is_none_or(|d| d == db)
                && r.match_key(key, holes)
        })
    }
}
