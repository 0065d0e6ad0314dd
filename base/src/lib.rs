/*!
cachetape-base: the small pieces several cachetape crates need, written once.

- [`FxHasher`] and its maps: a fixed, unseeded hasher, so nothing depends on a per-process seed;
- [`InlineKey`]: a key's bytes, inline when short;
- [`prefetch`]: a cache-line hint for code bound by cache misses;
- [`Rng`]: the seeded generator (SplitMix64) every deterministic choice draws from.

Nothing here reads a clock, draws entropy or does I/O.
*/
#![deny(missing_docs)]

mod fxhash;
mod inline_key;
mod prefetch;
mod rng;

pub use fxhash::{FxBuild, FxHashMap, FxHashSet, FxHasher};
pub use inline_key::{INLINE, InlineKey, half, word};
pub use prefetch::prefetch;
pub use rng::{Rng, mix64};
