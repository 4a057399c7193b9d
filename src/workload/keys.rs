//! Keys: which object a request is about (a user, an account, a product). A model names key
//! spaces (`keyspaces`); an endpoint with `"key": "<space>"` draws its request's key from one,
//! and the calls it makes carry that key on. Caches, shards and replicas see only these keys,
//! so hit ratios and shard loads emerge from the traffic instead of being typed in.
//!
//! A key is a `u64`: the space's index in the top 16 bits, the key within it below, so keys
//! of two spaces never collide in a shared cache. Every draw is O(1) and every space O(1) in
//! memory: Zipf by rejection-inversion (Hörmann and Derflinger 1996, `rand_distr::Zipf`, 24
//! bytes), hot sets and uniform by one or two uniform draws, sequential by a counter.

use crate::ids::KeySpaceId;
use crate::kernel::RequestRng;
use rand::RngExt;
use rand_distr::Distribution;

/// Most keys one space holds: what fits below the space index in a key.
pub const MAX_KEYS: u64 = 1 << 48;
/// Most key spaces a model names.
pub const MAX_KEY_SPACES: usize = 1 << 16;

/// How a key space's keys are drawn.
#[derive(Debug, Clone)]
pub enum KeyDist {
    /// Every key equally likely.
    Uniform,
    /// The key of popularity rank r (1 = most popular) has probability proportional to
    /// 1 / r^s.
    Zipf {
        /// The exponent.
        s: f64,
        /// Its sampler (rejection-inversion; no table).
        sampler: rand_distr::Zipf<f64>,
    },
    /// A share of the requests goes to a few keys, uniformly; the rest to the others.
    HotSet {
        /// How many keys are hot (at least 1, fewer than the space).
        hot: u64,
        /// The share of requests that go to a hot key.
        share: f64,
    },
    /// Each draw is the next key, wrapping at the end (new users, order ids: the newest keys
    /// are the busiest, which makes a hot spot of the last range shard).
    Sequential,
}

/// A named key space.
#[derive(Debug, Clone)]
pub struct KeySpaceSpec {
    /// Its name in the model.
    pub name: String,
    /// How many keys it has (1 to [`MAX_KEYS`]).
    pub n: u64,
    /// How they are drawn.
    pub dist: KeyDist,
    /// Spreads popularity ranks over the key range, so the popular keys of a Zipf or hot-set
    /// space are not also the lowest-numbered ones (which range sharding would see as one hot
    /// range: real popular objects are scattered).
    scatter: Scatter,
}

impl KeySpaceSpec {
    /// A space of `n` keys drawn by `dist`.
    pub fn new(name: String, n: u64, dist: KeyDist) -> KeySpaceSpec {
        KeySpaceSpec {
            name,
            n,
            dist,
            scatter: Scatter::new(n),
        }
    }

    /// A key of this space (`id`), drawn with `rng`; `next` is the space's counter for
    /// sequential keys.
    #[inline]
    pub fn draw(&self, id: KeySpaceId, rng: &mut RequestRng, next: &mut u64) -> u64 {
        let within = match &self.dist {
            KeyDist::Uniform => rng.random_range(0..self.n),
            KeyDist::Zipf { sampler, .. } => {
                // Ranks come back as floats 1..=n.
                let rank = sampler.sample(rng) as u64;
                self.scatter.apply(rank.clamp(1, self.n) - 1)
            }
            KeyDist::HotSet { hot, share } => {
                let rank = if rng.random::<f64>() < *share {
                    rng.random_range(0..*hot)
                } else {
                    rng.random_range(*hot..self.n)
                };
                self.scatter.apply(rank)
            }
            KeyDist::Sequential => {
                let k = *next;
                *next = if k + 1 >= self.n { 0 } else { k + 1 };
                k
            }
        };
        encode(id, within)
    }

    /// The key of popularity rank `rank` (0 = the most popular; for uniform and sequential
    /// spaces, where none is more popular, the `rank`-th key): what warming a cache loads.
    pub fn ranked(&self, id: KeySpaceId, rank: u64) -> u64 {
        let within = match self.dist {
            KeyDist::Uniform | KeyDist::Sequential => rank,
            KeyDist::Zipf { .. } | KeyDist::HotSet { .. } => self.scatter.apply(rank),
        };
        encode(id, within)
    }
}

/// The key `within` of space `id`.
#[inline]
pub fn encode(id: KeySpaceId, within: u64) -> u64 {
    (u64::from(id.0) << 48) | within
}

/// The space and the key within it.
#[inline]
pub fn decode(key: u64) -> (KeySpaceId, u64) {
    (KeySpaceId((key >> 48) as u32), key & (MAX_KEYS - 1))
}

/// A bijection of 0..n: r -> (a r + b) mod n with a coprime to n.
#[derive(Debug, Clone, Copy)]
struct Scatter {
    a: u64,
    b: u64,
    n: u64,
}

impl Scatter {
    fn new(n: u64) -> Scatter {
        let n = n.max(1);
        // Near the golden ratio of n, so consecutive ranks land far apart.
        let mut a = ((n as f64 * 0.618_033_988_75) as u64).max(1);
        while gcd(a, n) != 1 {
            a += 1;
        }
        Scatter { a, b: n / 3, n }
    }

    #[inline]
    fn apply(&self, r: u64) -> u64 {
        ((u128::from(self.a) * u128::from(r) + u128::from(self.b)) % u128::from(self.n)) as u64
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(n: u64, dist: KeyDist) -> KeySpaceSpec {
        KeySpaceSpec::new("users".into(), n, dist)
    }

    fn draws(sp: &KeySpaceSpec, count: u64) -> Vec<u64> {
        let mut next = 0;
        (0..count)
            .map(|i| {
                let mut rng = RequestRng::new(crate::kernel::keyed_seed(7, i));
                decode(sp.draw(KeySpaceId(3), &mut rng, &mut next)).1
            })
            .collect()
    }

    #[test]
    fn keys_carry_their_space_and_stay_in_range() {
        let k = encode(KeySpaceId(5), MAX_KEYS - 1);
        assert_eq!(decode(k), (KeySpaceId(5), MAX_KEYS - 1));
        let sp = space(1000, KeyDist::Uniform);
        assert!(draws(&sp, 10_000).iter().all(|&k| k < 1000));
    }

    #[test]
    fn scatter_is_a_permutation() {
        for n in [1, 2, 7, 10, 64, 97, 1000] {
            let s = Scatter::new(n);
            let mut seen: Vec<u64> = (0..n).map(|r| s.apply(r)).collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "n = {n}");
        }
    }

    /// Zipf(s) over N: the most popular key's frequency is 1 / H(N, s), with H the
    /// generalised harmonic number. Binomial standard error over 200,000 draws.
    #[test]
    fn zipf_top_key_frequency_matches_one_over_the_harmonic_number() {
        let (n, s) = (100u64, 1.0);
        let sp = space(
            n,
            KeyDist::Zipf {
                s,
                sampler: rand_distr::Zipf::new(n as f64, s).unwrap(),
            },
        );
        let total = 200_000;
        let top = sp.ranked(KeySpaceId(3), 0) & (MAX_KEYS - 1);
        let second = sp.ranked(KeySpaceId(3), 1) & (MAX_KEYS - 1);
        let d = draws(&sp, total);
        let h: f64 = (1..=n).map(|r| 1.0 / (r as f64).powf(s)).sum();
        for (key, p) in [(top, 1.0 / h), (second, 0.5 / h)] {
            let f = d.iter().filter(|&&k| k == key).count() as f64 / total as f64;
            let se = (p * (1.0 - p) / total as f64).sqrt();
            assert!(
                (f - p).abs() < 4.0 * se,
                "freq {f} vs {p} (4 se = {})",
                4.0 * se
            );
        }
    }

    /// Hot set: `share` of the draws land on the `hot` keys (binomial standard error).
    #[test]
    fn hot_set_share_goes_to_the_hot_keys() {
        let sp = space(
            10_000,
            KeyDist::HotSet {
                hot: 100,
                share: 0.8,
            },
        );
        let hot: std::collections::BTreeSet<u64> = (0..100)
            .map(|r| sp.ranked(KeySpaceId(3), r) & (MAX_KEYS - 1))
            .collect();
        let total = 100_000;
        let f = draws(&sp, total).iter().filter(|k| hot.contains(k)).count() as f64 / total as f64;
        let se = (0.8f64 * 0.2 / total as f64).sqrt();
        assert!((f - 0.8).abs() < 4.0 * se, "{f}");
    }

    #[test]
    fn sequential_counts_up_and_wraps() {
        let sp = space(3, KeyDist::Sequential);
        assert_eq!(draws(&sp, 7), vec![0, 1, 2, 0, 1, 2, 0]);
    }
}
