/*!
Key shapes: a written key split into its family's prefix and the segment that names the row.

The row's segment is the last one, after the last `:` or `/`: `order:42` → `order:` + `42`. That
one rule covers the key shapes real frameworks produce, each of which the key pattern language
expresses as the prefix followed by one placeholder (a placeholder holds neither `:` nor the
literal that follows it):

| framework | key | pattern |
|---|---|---|
| Django `RedisCache`, django-redis (version prefix, empty first segment) | `:1:order:50` | `:1:order:{id}` |
| Flask-Caching / cachelib | `flask_cache_order:50` | `flask_cache_order:{id}` |
| Keyv / cache-manager | `keyv:order:50` | `keyv:order:{id}` |
| Rails `ActiveSupport::Cache` (with or without a namespace) | `order/50`, `shop:orders/50` | `order/{id}` |
| Laravel | `laravel_database_laravel_cache_:order:50` | `laravel_database_laravel_cache_:order:{id}` |
| Spring `RedisCacheManager` | `orders::50` | `orders::{id}` |
*/

/// The family's prefix (ending with its separator) and the row's segment of `key`, or `None`
/// when the key has no separator, or nothing before or after its last one. The analysis' key
/// families group keys the same way.
pub(crate) fn shape_of(key: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = key.iter().rposition(|&b| b == b':' || b == b'/')?;
    let (prefix, id) = (&key[..=at], &key[at + 1..]);
    (!id.is_empty() && !prefix.is_empty()).then_some((prefix, id))
}

/// A placeholder name for a key column (letters, digits and `_`).
pub(super) fn placeholder(column: &str) -> String {
    column
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() || ch == '_' { ch } else { '_' })
        .collect()
}
