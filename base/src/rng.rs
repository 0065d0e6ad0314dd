/*!
The seeded generator: SplitMix64. Every random choice in cachetape (the perturbation engine's
sampling, the demo's traffic, test and benchmark workloads) draws from one of these, so a seed
always makes the same choices.
*/

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: every bit of the result depends on every bit of `z`.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = z.wrapping_add(GOLDEN);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A SplitMix64 generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng(u64);

impl Rng {
    /// The generator whose state starts at `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Stream `stream` under `seed`: independent streams for tasks that must make the same
    /// choices whatever their interleaving.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let z = self.0;
        self.0 = z.wrapping_add(GOLDEN);
        mix64(z)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by a multiply and shift rather than a division.
    #[inline]
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    #[inline]
    pub fn below_usize(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True with probability `p` (never when `p` is 0 or less, always when it is 1 or more).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

#[cfg(test)]
mod tests {
    use super::{Rng, mix64};

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let draw = |mut r: Rng| (0..4).map(|_| r.next_u64()).collect::<Vec<_>>();
        assert_eq!(draw(Rng::stream(7, 1)), draw(Rng::stream(7, 1)));
        assert_ne!(draw(Rng::stream(7, 1)), draw(Rng::stream(7, 2)));
        assert_ne!(draw(Rng::new(1)), draw(Rng::new(2)));
    }

    #[test]
    fn bounds_hold() {
        let mut r = Rng::new(1);
        assert!((0..1000).all(|_| r.below(10) < 10));
        assert_eq!(r.below(0), 0);
        assert!((0..1000).all(|_| !r.chance(0.0)));
        assert!((0..1000).all(|_| r.chance(1.0)));
        let hits = (0..10_000).filter(|_| r.chance(0.25)).count();
        assert!((2_000..3_000).contains(&hits), "{hits}");
    }

    #[test]
    fn the_generator_is_splitmix64() {
        // next_u64 of state s equals mix64(s): the published SplitMix64 (state += golden; finalize).
        let mut r = Rng::new(41);
        assert_eq!(r.next_u64(), mix64(41));
        // The first output for seed 0, from the reference implementation (Vigna, splitmix64.c).
        assert_eq!(Rng::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }
}
