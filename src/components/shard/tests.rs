//! Determinism, edge cases and validation messages of shard maps.

use super::*;
use crate::ids::KeySpaceId;
use crate::workload::keys::encode;

fn spec(shards: u32, placement: Placement) -> ShardMapSpec {
    ShardMapSpec { shards, placement }
}

fn ring(vnodes: u32, seed: u64) -> Placement {
    Placement::Consistent { vnodes, seed }
}

fn all_kinds() -> Vec<Placement> {
    vec![
        Placement::Hash,
        Placement::Range { bounds: None },
        ring(16, 7),
        Placement::Directory {
            default: Box::new(Placement::Hash),
            overrides: vec![],
        },
    ]
}

fn placements(m: &ShardMap, keys: u64) -> Vec<u32> {
    (0..keys).map(|k| m.shard_of(k).0).collect()
}

#[test]
fn same_spec_same_map() {
    for p in all_kinds() {
        let s = spec(7, p);
        let (a, b) = (ShardMap::new(&s, 10_000), ShardMap::new(&s, 10_000));
        assert_eq!(a, b);
        assert_eq!(placements(&a, 10_000), placements(&b, 10_000));
    }
}

/// Pinned placements: a change here moves every simulated key (and every report).
#[test]
fn placements_are_pinned() {
    let hash = ShardMap::new(&spec(10, Placement::Hash), 1000);
    let cons = ShardMap::new(&spec(10, ring(4, 0)), 1000);
    let h: Vec<u32> = (0..8).map(|k| hash.shard_of(k).0).collect();
    let c: Vec<u32> = (0..8).map(|k| cons.shard_of(k).0).collect();
    assert_eq!(h, vec![5, 5, 0, 3, 8, 8, 2, 7]);
    assert_eq!(c, vec![1, 9, 9, 8, 9, 5, 8, 5]);
}

#[test]
fn one_shard_holds_everything() {
    for p in all_kinds() {
        let m = ShardMap::new(&spec(1, p), 100);
        assert_eq!(m.shards(), 1);
        assert!(placements(&m, 1000).iter().all(|&s| s == 0));
    }
}

#[test]
fn every_shard_is_in_range_and_used() {
    for p in all_kinds() {
        let m = ShardMap::new(&spec(13, p.clone()), 5000);
        let got = placements(&m, 5000);
        assert!(got.iter().all(|&s| s < 13), "{p:?}");
        assert!((0..13).all(|s| got.contains(&s)), "{p:?}");
    }
}

#[test]
fn the_space_id_is_ignored() {
    for p in all_kinds() {
        let m = ShardMap::new(&spec(9, p), 1000);
        for k in [0, 1, 517, 999] {
            assert_eq!(m.shard_of(k), m.shard_of(encode(KeySpaceId(42), k)));
        }
    }
}

#[test]
fn keys_beyond_the_last_bound_go_to_the_last_range() {
    let m = ShardMap::new(
        &spec(
            3,
            Placement::Range {
                bounds: Some(vec![10, 20]),
            },
        ),
        30,
    );
    for k in [20, 29, 30, 1_000_000, (1 << 48) - 1] {
        assert_eq!(m.shard_of(k), ShardIdx(2), "key {k}");
    }
    assert_eq!(m.shard_of(0), ShardIdx(0));
    assert_eq!(m.shard_of(10), ShardIdx(1));
}

#[test]
fn moves_names_both_shards() {
    let a = ShardMap::new(&spec(2, Placement::Range { bounds: None }), 100);
    let b = ShardMap::new(
        &spec(
            2,
            Placement::Range {
                bounds: Some(vec![40]),
            },
        ),
        100,
    );
    assert_eq!(a.moves(&b, 10), None);
    assert_eq!(a.moves(&b, 45), Some((ShardIdx(0), ShardIdx(1))));
    assert_eq!(a.moves(&b, 60), None);
    let m = a.moved_fraction(&b);
    assert_eq!((m.moved, m.of, m.basis), (10, 100, Basis::Bounds));
    assert_eq!(a.moved_fraction(&a).moved, 0);
}

#[test]
fn memory_follows_the_table() {
    let keys = 1 << 20;
    assert_eq!(
        ShardMap::new(&spec(64, Placement::Hash), keys).memory_bytes(),
        0
    );
    let r = ShardMap::new(&spec(64, Placement::Range { bounds: None }), keys);
    assert_eq!(r.memory_bytes(), 63 * 8);
    let c = ShardMap::new(&spec(64, ring(100, 1)), keys);
    // 6,400 tokens of 12 bytes, and 8,192 slice starts of 4.
    assert_eq!(c.memory_bytes(), 6400 * 12 + 8192 * 4);
}

fn err(s: &ShardMapSpec, keys: u64) -> String {
    validate(s, keys).unwrap_err()
}

fn dir(default: Placement, overrides: &[(u64, u32)]) -> Placement {
    Placement::Directory {
        default: Box::new(default),
        overrides: overrides
            .iter()
            .map(|&(key, s)| Override {
                key,
                shard: ShardIdx(s),
            })
            .collect(),
    }
}

/// Each bad spec, and the message's gist.
#[test]
fn validate_says_what_is_wrong() {
    let range = |b: &[u64]| Placement::Range {
        bounds: Some(b.to_vec()),
    };
    let cases: Vec<(ShardMapSpec, u64, &str)> = vec![
        (spec(0, Placement::Hash), 10, "`count` is 0"),
        (spec(MAX_SHARDS + 1, Placement::Hash), 10, "at most 65536"),
        (spec(2, Placement::Hash), 0, "has 0 keys"),
        (
            spec(8, Placement::Range { bounds: None }),
            5,
            "cannot fill 8 shards",
        ),
        (
            spec(3, range(&[5])),
            10,
            "has 1 split points: 3 shards need 2",
        ),
        (
            spec(3, range(&[5, 5])),
            10,
            "`bounds[1]` is 5, not above `bounds[0]` = 5",
        ),
        (spec(3, range(&[6, 4])), 10, "strictly ascending"),
        (
            spec(2, range(&[0])),
            10,
            "`bounds[0]` is 0: split points lie in 1..10",
        ),
        (spec(2, range(&[10])), 10, "`bounds[0]` is 10"),
        (spec(4, ring(0, 0)), 10, "`vnodes` is 0: expected 1 to 4096"),
        (spec(4, ring(4097, 0)), 10, "`vnodes` is 4097"),
        (
            spec(MAX_SHARDS, ring(4096, 0)),
            10,
            "ring tokens: at most 4194304",
        ),
        (
            spec(4, dir(Placement::Hash, &[(3, 4)])),
            10,
            "`overrides[0]` sends key 3 to shard 4: shards are 0..4",
        ),
        (
            spec(4, dir(Placement::Hash, &[(10, 1)])),
            10,
            "names key 10: the space's keys are 0..10",
        ),
        (
            spec(4, dir(Placement::Hash, &[(1, 0), (7, 1), (1, 2)])),
            10,
            "`overrides[0]` and `overrides[2]` both place key 1",
        ),
        (
            spec(4, dir(ring(0, 0), &[])),
            10,
            "`fallback`: `vnodes` is 0",
        ),
        (
            spec(4, dir(dir(Placement::Hash, &[]), &[])),
            10,
            "cannot be another directory",
        ),
    ];
    for (s, keys, want) in &cases {
        let e = err(s, *keys);
        assert!(e.contains(want), "{s:?}: got {e:?}, want {want:?}");
    }
    for p in all_kinds() {
        assert_eq!(validate(&spec(4, p), 10), Ok(()));
    }
    assert_eq!(validate(&spec(3, range(&[1, 9])), 10), Ok(()));
}

/// The sliced lookup finds what a binary search over the sorted tokens finds: the owner of
/// the first token at or after the hash, wrapping, for rings of 1 to 1,000 nodes and for
/// hashes at and around every token.
#[test]
fn a_ring_lookup_by_slices_matches_the_binary_search() {
    use super::ring::Ring;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for nodes in [1u32, 2, 3, 7, 64, 1000] {
        let mut r = Ring::default();
        r.rebuild((0..nodes).map(|n| (n, n)), 16, 5);
        let (positions, owners) = r.tokens();
        let search = |h: u64| {
            let i = positions.partition_point(|&p| p < h);
            owners[if i == positions.len() { 0 } else { i }]
        };
        let mut hashes: Vec<u64> = positions
            .iter()
            .flat_map(|&p| [p.wrapping_sub(1), p, p.wrapping_add(1)])
            .chain([0, u64::MAX])
            .collect();
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            hashes.push(x);
        }
        for h in hashes {
            assert_eq!(r.shard_of(h), search(h), "{nodes} nodes, hash {h}");
        }
    }
}
