//! Replication checked against queueing theory, on the pure structures (no run): a replica
//! is a single FIFO applier fed by the primary's commits.
//!
//! Tolerances are five standard errors. Reads drawn far apart (mean gap ten times the lag)
//! are nearly independent, so the binomial error applies; the lags of successive writes are
//! correlated through the apply queue, so their error comes from batch means.

use super::{ReplicaStream, WriteLog};
use crate::kernel::{RequestRng, SimDuration, SimTime};
use rand::RngExt;

fn exp(rng: &mut RequestRng, rate: f64) -> f64 {
    -(1.0 - rng.random::<f64>()).ln() / rate
}

/// Mean and standard error of `xs` by `batches` batch means.
fn batch_mean(xs: &[f64], batches: usize) -> (f64, f64) {
    let size = xs.len() / batches;
    let means: Vec<f64> = xs
        .chunks(size)
        .take(batches)
        .map(|c| c.iter().sum::<f64>() / c.len() as f64)
        .collect();
    let m = means.iter().sum::<f64>() / batches as f64;
    let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (batches - 1) as f64;
    (m, (var / batches as f64).sqrt())
}

/// A replica with constant lag L (network L, apply instantaneous) under Poisson writes of
/// rate w to one key: a read at a random time is stale iff a write fell in the last L, so
/// P(stale) = 1 - exp(-w L).
#[test]
fn stale_read_probability_with_constant_lag_is_one_minus_exp_minus_w_l() {
    let (w, lag, read_rate, reads) = (10.0, 0.05, 2.0, 100_000u32);
    let mut rng = RequestRng::new(11);
    let mut log = WriteLog::default();
    let mut replica = ReplicaStream::caught_up(0, SimTime::ZERO);
    let network = SimDuration::from_secs_f64(lag);
    let (mut next_write, mut next_read) = (exp(&mut rng, w), exp(&mut rng, read_rate));
    let (mut stale, mut done) = (0u32, 0u32);
    while done < reads {
        if next_write < next_read {
            let t = SimTime::from_secs_f64(next_write);
            let seq = log.commit(1, t);
            replica.receive(seq, t, network, SimDuration::ZERO);
            next_write += exp(&mut rng, w);
        } else {
            let t = SimTime::from_secs_f64(next_read);
            let applied = replica.advance(t);
            stale += u32::from(log.is_stale(1, applied));
            log.forget(applied, t);
            done += 1;
            next_read += exp(&mut rng, read_rate);
        }
    }
    let p = 1.0 - (-w * lag).exp();
    let measured = f64::from(stale) / f64::from(reads);
    let se = (p * (1.0 - p) / f64::from(reads)).sqrt();
    eprintln!("stale fraction {measured:.5}, 1 - exp(-wL) = {p:.5}, se {se:.5}");
    assert!((measured - p).abs() < 5.0 * se, "{measured} vs {p}");
    assert!(log.remembered() <= 1, "the log forgets applied writes");
}

/// Writes at rate lambda above the apply rate mu (no network): the applier is always busy,
/// write n is applied at n/mu and committed near n/lambda, so the lag of a write committed at
/// t is t (lambda/mu - 1), growing linearly.
#[test]
fn lag_grows_linearly_when_writes_exceed_the_apply_rate() {
    let (lambda, mu) = (2_000.0, 1_000.0);
    let mut rng = RequestRng::new(5);
    let mut replica = ReplicaStream::caught_up(0, SimTime::ZERO);
    let apply = SimDuration::from_secs_f64(1.0 / mu);
    let mut t = 0.0;
    let (mut checked, mut first) = (0, None);
    for seq in 1..=60_000u64 {
        t += exp(&mut rng, lambda);
        let first = *first.get_or_insert(t);
        let lag = replica
            .receive(seq, SimTime::from_secs_f64(t), SimDuration::ZERO, apply)
            .as_secs_f64();
        if seq % 10_000 == 0 {
            // Commit n's time has sd sqrt(n)/lambda, which is the lag's.
            let expected = t * (lambda / mu - 1.0);
            let sd = (seq as f64).sqrt() / lambda;
            eprintln!("t {t:.2} s: lag {lag:.4} s, t(lambda/mu - 1) = {expected:.4} s");
            // Busy since the first commit: the lag is c_1 + n/mu - t, and its error against
            // the line is the commit time's.
            assert!((lag - (first + seq as f64 / mu - t)).abs() < 1e-6);
            assert!(
                (lag - expected).abs() < 5.0 * sd * (lambda / mu),
                "{lag} vs {expected}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

/// Poisson writes below the apply rate with a deterministic apply time make each replica an
/// M/D/1 queue: mean lag = network + 1/mu + rho / (2 mu (1 - rho)) (Pollaczek-Khinchine).
#[test]
fn mean_lag_below_the_apply_rate_is_md1_sojourn_plus_network() {
    let (lambda, mu, network) = (800.0, 1_000.0, 0.002);
    let mut rng = RequestRng::new(9);
    let mut replica = ReplicaStream::caught_up(0, SimTime::ZERO);
    let apply = SimDuration::from_secs_f64(1.0 / mu);
    let net = SimDuration::from_secs_f64(network);
    let mut t = 0.0;
    let mut lags = Vec::with_capacity(400_000);
    for seq in 1..=400_000u64 {
        t += exp(&mut rng, lambda);
        let now = SimTime::from_secs_f64(t);
        lags.push(replica.receive(seq, now, net, apply).as_secs_f64());
        replica.advance(now);
    }
    let rho = lambda / mu;
    let expected = network + 1.0 / mu + rho / (2.0 * mu * (1.0 - rho));
    let (mean, se) = batch_mean(&lags, 40);
    eprintln!("mean lag {mean:.6} s (se {se:.6}), M/D/1 + network = {expected:.6} s");
    assert!((mean - expected).abs() < 5.0 * se, "{mean} vs {expected}");
    assert!(
        replica.backlog() < 100,
        "a stable replica keeps a short backlog"
    );
}
