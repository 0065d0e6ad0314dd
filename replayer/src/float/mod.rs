/*!
Redis's floating-point arithmetic, bit for bit: `strtod`/`strtold` parsing, x87 `long double`
addition, and the `%.17g` / `%.17Lf` renderings Redis replies with.

INCRBYFLOAT and HINCRBYFLOAT compute in the C `long double` of the server (on x86-64 Linux the
80-bit x87 format: 64-bit mantissa) and print the result with `%.17Lf` minus trailing zeros;
sorted-set scores are `double`s printed with `%.17g`. Rust has no 80-bit float, so this module
carries a small exact implementation: numbers are parsed into big integers (`big.rs`,
`strtod.rs`), rounded once (half to even) to the target precision (`soft.rs`), added exactly and
rounded once, and printed from the exact binary value (`long_double.rs`, `double.rs`) — which
is what glibc does. It is not on any hot path.
*/

mod big;
mod double;
mod long_double;
mod soft;
mod strtod;

pub use double::{format_double, parse_double, parse_double_lenient};
pub use long_double::LongDouble;

#[cfg(test)]
mod tests;
