//! Random streams. Every (seed, replication, component, purpose) gets its own generator, derived
//! by hashing the names, so adding a component or changing a policy shifts no other stream:
//! two variants of one experiment see identical arrivals (common random numbers).
//!
//! Generators are fixed algorithms (xoshiro256++ and SplitMix64), never `StdRng`/`SmallRng`,
//! whose algorithms may change between rand releases.

use core::convert::Infallible;
use rand::{SeedableRng, TryRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A long-lived generator owned by one component for one purpose.
pub type Stream = Xoshiro256PlusPlus;

/// FNV-1a over the parts, each followed by a separator byte, then the SplitMix64 finaliser for
/// avalanche. Stable by construction: it depends on nothing but these bytes.
pub fn stream_seed(seed: u64, replication: u32, component: &str, purpose: &str) -> u64 {
    const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h = FNV_OFFSET;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(FNV_PRIME);
        }
        h ^= 0xff;
        h = h.wrapping_mul(FNV_PRIME);
    };
    eat(&seed.to_le_bytes());
    eat(&replication.to_le_bytes());
    eat(component.as_bytes());
    eat(purpose.as_bytes());
    splitmix64_mix(h)
}

/// The generator for one (seed, replication, component, purpose).
pub fn stream(seed: u64, replication: u32, component: &str, purpose: &str) -> Stream {
    Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, replication, component, purpose))
}

#[inline]
fn splitmix64_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of one keyed draw, or of a child span: a hash of the owner's seed and a key that
/// names what draws (an op of an endpoint's program, a branch of a fan-out). Keys are fixed
/// by the model's names, so editing one op moves no other op's draws.
#[inline]
pub fn keyed_seed(seed: u64, key: u64) -> u64 {
    // Keys are hashes already (or a hash plus a small index), so one mix suffices.
    splitmix64_mix(seed ^ key)
}

/// A tiny generator (SplitMix64, 8 bytes) carried by each request, seeded at arrival from the
/// client's stream. Step durations are drawn from it, so request n gets the same service times
/// in every variant, whatever order the instances serve requests in.
#[derive(Clone, Copy, Debug)]
pub struct RequestRng(u64);

impl RequestRng {
    /// A generator started at `seed`.
    pub fn new(seed: u64) -> Self {
        RequestRng(seed)
    }
}

impl TryRng for RequestRng {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.try_next_u64().map(|x| (x >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        Ok(splitmix64_mix(self.0))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let x = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
        Ok(())
    }
}

/// SplitMix64's finaliser, for the fixed hasher.
#[inline]
pub(super) fn mix(z: u64) -> u64 {
    splitmix64_mix(z)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    /// Pins the first draws of one stream: if this changes, every published seed changes
    /// meaning, so it must only change deliberately (and with a note in the changelog).
    #[test]
    fn first_draws_of_a_stream_are_pinned() {
        let mut s = stream(42, 0, "shoppers", "arrivals");
        let draws: Vec<u64> = (0..3).map(|_| s.next_u64()).collect();
        assert_eq!(stream_seed(42, 0, "shoppers", "arrivals"), PINNED_SEED);
        assert_eq!(draws, PINNED_DRAWS);
    }

    const PINNED_SEED: u64 = 8065855625785808213;
    // Cross-checked against an independent Python implementation of FNV-1a, SplitMix64 and
    // xoshiro256++ (Blackman and Vigna).
    const PINNED_DRAWS: [u64; 3] = [
        2098269261138625681,
        11859668194627633679,
        6697414225043219132,
    ];

    #[test]
    fn streams_differ_by_every_part() {
        let base = stream_seed(1, 0, "a", "x");
        assert_ne!(base, stream_seed(2, 0, "a", "x"));
        assert_ne!(base, stream_seed(1, 1, "a", "x"));
        assert_ne!(base, stream_seed(1, 0, "b", "x"));
        assert_ne!(base, stream_seed(1, 0, "a", "y"));
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(stream_seed(1, 0, "ab", "c"), stream_seed(1, 0, "a", "bc"));
    }

    #[test]
    fn request_rng_is_splitmix64() {
        // Reference values of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
        let mut r = RequestRng::new(1234567);
        assert_eq!(r.next_u64(), 6457827717110365317);
        assert_eq!(r.next_u64(), 3203168211198807973);
    }
}
