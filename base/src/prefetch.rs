/*!
Software prefetch. Replay and analysis are bound by cache misses on data spread over every key
and row, and often know a step or a few ahead which lines they will read; telling the CPU early
lets those misses overlap instead of queueing one after another.
*/

/// Starts loading the cache line holding `*p`: a hint, with no effect on what the program
/// computes (any address will do: a prefetch never faults).
#[inline(always)]
pub fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the cache: it never faults, whatever the address, and
    // changes nothing the program can observe. `sse` is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}
