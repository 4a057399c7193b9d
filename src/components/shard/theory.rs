//! Shard balance and resharding against closed forms. Keys are the indices 0..m (their hashes
//! stand in for uniform draws); rings are sampled over seeds. Tolerances are K standard
//! errors of the estimate, from the formula's own variance where it has one, else measured.

use super::*;

/// Standard errors allowed for sampling noise.
const K: f64 = 5.0;

fn map(shards: u32, placement: Placement, keys: u64) -> ShardMap {
    ShardMap::new(&ShardMapSpec { shards, placement }, keys)
}

fn ring_shares(n: u32, vnodes: u32, seed: u64) -> Vec<f64> {
    ring::Ring::new(n, vnodes, seed).shares(n)
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let r = x.len() as f64;
    let mean = x.iter().sum::<f64>() / r;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (r - 1.0);
    (mean, var.sqrt())
}

/// Balls into bins: m keys hashed into n shards give counts whose chi-square statistic
/// X = sum (c - m/n)^2 / (m/n) has n - 1 degrees of freedom: mean n - 1, sd sqrt(2 (n - 1)).
/// The fullest shard holds about m/n + sqrt(2 (m/n) ln n) (Raab and Steger 1998, m >> n ln n);
/// checked loosely, below 1.5 times the excess.
#[test]
fn hash_counts_are_balls_into_bins() {
    let m = 400_000u64;
    for n in [10u32, 64, 1000] {
        let h = map(n, Placement::Hash, m);
        let mut counts = vec![0u64; n as usize];
        for k in 0..m {
            counts[h.shard_of(k).index()] += 1;
        }
        let e = m as f64 / f64::from(n);
        let x: f64 = counts.iter().map(|&c| (c as f64 - e).powi(2) / e).sum();
        let (df, sd) = (f64::from(n) - 1.0, (2.0 * (f64::from(n) - 1.0)).sqrt());
        let max = *counts.iter().max().unwrap() as f64;
        let excess = (2.0 * e * f64::from(n).ln()).sqrt();
        eprintln!(
            "hash n={n}: chi2 {x:.1} (df {df}, z {:.2}); max load {max} = m/n + {:.2} x sqrt(2 (m/n) ln n)",
            (x - df) / sd,
            (max - e) / excess
        );
        assert!((x - df).abs() < K * sd, "chi2 {x} vs {df} +- {}", K * sd);
        assert!(max > e && max < e + 1.5 * excess, "max {max}, m/n {e}");
    }
}

/// One token per node: the n arcs are the spacings of n uniform points on a circle, so one
/// node's share is Beta(1, n - 1): mean 1/n, variance (n - 1) / (n^2 (n + 1)),
/// P(share > x) = (1 - x)^(n - 1); and E[max share] = H_n / n. Over R ring seeds; the sample
/// variance's sd is sigma^2 sqrt(2/(R-1) + kappa/R), kappa the Beta's excess kurtosis.
#[test]
fn one_token_shares_are_beta_and_the_max_is_harmonic() {
    let (n, r) = (10u32, 4000u64);
    let nf = f64::from(n);
    let (mut first, mut maxes) = (Vec::new(), Vec::new());
    for seed in 0..r {
        let s = ring_shares(n, 1, seed);
        first.push(s[0]);
        maxes.push(s.iter().copied().fold(0.0, f64::max));
    }
    let rf = r as f64;
    let (mean, sd) = mean_sd(&first);
    let var_th = (nf - 1.0) / (nf * nf * (nf + 1.0));
    let (a, b) = (1.0, nf - 1.0);
    let kappa = 6.0 * ((a - b).powi(2) * (a + b + 1.0) - a * b * (a + b + 2.0))
        / (a * b * (a + b + 2.0) * (a + b + 3.0));
    let var_se = var_th * (2.0 / (rf - 1.0) + kappa / rf).sqrt();
    let x = 1.0 / nf;
    let p_th = (1.0 - x).powf(nf - 1.0);
    let p = first.iter().filter(|&&s| s > x).count() as f64 / rf;
    let h_n: f64 = (1..=n).map(|k| 1.0 / f64::from(k)).sum();
    let (max_mean, max_sd) = mean_sd(&maxes);
    eprintln!(
        "ring n={n} 1 token, {r} seeds: mean share {mean:.5} (1/n {:.5}); var {:.3e} (th {var_th:.3e}); \
         P(share > 1/n) {p:.4} (th {p_th:.4}); E[max] {max_mean:.4} (H_n/n {:.4}) = {:.2}/n",
        1.0 / nf,
        sd * sd,
        h_n / nf,
        max_mean * nf
    );
    assert!((mean - 1.0 / nf).abs() < K * var_th.sqrt() / rf.sqrt());
    assert!((sd * sd - var_th).abs() < K * var_se);
    assert!((p - p_th).abs() < K * (p_th * (1.0 - p_th) / rf).sqrt());
    assert!((max_mean - h_n / nf).abs() < K * max_sd / rf.sqrt());
}

/// Keys land where the arcs say: a shard's fraction of m hashed keys is binomial around its
/// arc share a, sd sqrt(a (1 - a) / m). This checks the lookup's direction, not the ring.
#[test]
fn keys_follow_the_arcs() {
    let (n, m) = (10u32, 1u64 << 20);
    let c = map(n, Placement::Consistent { vnodes: 1, seed: 0 }, m);
    let shares = ring_shares(n, 1, 0);
    let mut counts = vec![0u64; n as usize];
    for k in 0..m {
        counts[c.shard_of(k).index()] += 1;
    }
    for (s, &a) in shares.iter().enumerate() {
        let f = counts[s] as f64 / m as f64;
        assert!(
            (f - a).abs() < K * (a * (1.0 - a) / m as f64).sqrt(),
            "shard {s}: {f} vs {a}"
        );
    }
}

/// Virtual nodes: a node's share is a sum of v spacings, relative sd about 1/sqrt(v); with
/// v = 256 the fullest of n = 8..32 nodes stays below 1.5/n (measured: see the output).
#[test]
fn virtual_nodes_bound_the_max_share() {
    let mut worst: f64 = 0.0;
    for n in 8u32..=32 {
        for seed in 0..4 {
            let s = ring_shares(n, 256, seed);
            let max = s.iter().copied().fold(0.0, f64::max) * f64::from(n);
            worst = worst.max(max);
            assert!(max < 1.5, "n={n} seed={seed}: max share {max}/n");
        }
    }
    eprintln!("ring 256 vnodes, n=8..32, 4 seeds: worst max share {worst:.3}/n");
}

/// hash mod N -> mod N + 1: a key stays iff h mod N = h mod (N + 1), i.e. h mod N(N + 1) is
/// one of N residues, so N/(N + 1) of keys move. Binomial sd over the keys examined.
#[test]
fn hash_resharding_moves_n_over_n_plus_one() {
    for (n, keys) in [(4u32, 1u64 << 20), (10, 1 << 20), (31, 1 << 40)] {
        let a = map(n, Placement::Hash, keys);
        let m = a.moved_fraction(&map(n + 1, Placement::Hash, keys));
        let p = f64::from(n) / f64::from(n + 1);
        let se = (p * (1.0 - p) / m.of as f64).sqrt();
        eprintln!(
            "hash {n} -> {}: moved {:.4} (th {p:.4}) over {} keys, {:?}",
            n + 1,
            m.fraction(),
            m.of,
            m.basis
        );
        assert!((m.fraction() - p).abs() < K * se);
    }
}

/// Consistent N -> N + 1: old tokens stay, so only keys the new node takes move, all to it;
/// by symmetry the new node's share averages 1/(N + 1). Per ring, the moved fraction is
/// binomial around the new node's arc share; over seeds, its mean is checked with the
/// measured sd.
#[test]
fn consistent_resharding_moves_one_over_n_plus_one() {
    let (n, v, keys, seeds) = (8u32, 64, 100_000u64, 40u64);
    let mut fractions = Vec::new();
    for seed in 0..seeds {
        // The same placement (vnodes, seed) over one more shard.
        let p = Placement::Consistent { vnodes: v, seed };
        let (a, b) = (map(n, p.clone(), keys), map(n + 1, p, keys));
        let m = a.moved_fraction(&b);
        let arc = ring_shares(n + 1, v, seed)[n as usize];
        let se = (arc * (1.0 - arc) / keys as f64).sqrt();
        assert!(
            (m.fraction() - arc).abs() < K * se,
            "seed {seed}: {} vs arc {arc}",
            m.fraction()
        );
        if seed == 0 {
            assert!((0..keys).all(|k| a.moves(&b, k).is_none_or(|(_, to)| to == ShardIdx(n))));
        }
        fractions.push(m.fraction());
    }
    let (mean, sd) = mean_sd(&fractions);
    let th = 1.0 / f64::from(n + 1);
    eprintln!(
        "consistent {n} -> {} ({v} vnodes, {seeds} seeds): moved {mean:.4} +- {sd:.4} (th {th:.4})",
        n + 1
    );
    assert!((mean - th).abs() < K * sd / (seeds as f64).sqrt());
}

/// Even ranges, exactly (key count divisible by every range size). N -> 2N: new range i
/// overlaps old range i only for i = 0, over K/(2N) keys, so 1 - 1/(2N) move (7/8 for
/// 4 -> 8: shards are numbered by position, and halving renumbers all but the first).
/// N -> N + 1: old and new range i overlap over K ((i + 1)/(N + 1) - i/N), which sums to
/// K/2, so exactly half move.
#[test]
fn even_range_resharding_is_exact() {
    let even = Placement::Range { bounds: None };
    for keys in [8_000u64, 1 << 48] {
        let m = map(4, even.clone(), keys).moved_fraction(&map(8, even.clone(), keys));
        eprintln!(
            "range 4 -> 8 over {keys} keys: moved {} = {}",
            m.moved,
            m.fraction()
        );
        assert_eq!(
            (m.moved, m.of, m.basis),
            (keys / 8 * 7, keys, Basis::Bounds)
        );
    }
    for n in 1u64..=12 {
        let keys = n * (n + 1) * 1000;
        let a = map(n as u32, even.clone(), keys);
        let m = a.moved_fraction(&map(n as u32 + 1, even.clone(), keys));
        assert_eq!(m.moved * 2, keys, "{n} -> {}", n + 1);
    }
}

/// A directory sends its keys where it says and every other key where its default does, so
/// against the default alone exactly the overrides that differ from it move.
#[test]
fn directory_overrides_and_falls_back() {
    let (n, keys) = (8u32, 10_000u64);
    let plain = map(n, Placement::Hash, keys);
    let hot = [
        (1234u64, ShardIdx(7)),
        (42, ShardIdx(0)),
        (9999, ShardIdx(3)),
    ];
    let overrides = hot
        .iter()
        .map(|&(key, shard)| Override { key, shard })
        .collect();
    let d = map(
        n,
        Placement::Directory {
            default: Box::new(Placement::Hash),
            overrides,
        },
        keys,
    );
    for k in 0..keys {
        let want = hot
            .iter()
            .find(|h| h.0 == k)
            .map_or(plain.shard_of(k), |h| h.1);
        assert_eq!(d.shard_of(k), want, "key {k}");
    }
    let differ = hot.iter().filter(|h| plain.shard_of(h.0) != h.1).count() as u64;
    let m = plain.moved_fraction(&d);
    eprintln!(
        "directory: {} of {} keys move ({} of 3 overrides differ from the hash)",
        m.moved, m.of, differ
    );
    assert_eq!((m.moved, m.basis), (differ, Basis::AllKeys));
}
