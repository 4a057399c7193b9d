//! Statistics over replications: means with Student-t 95% confidence intervals, and the
//! t-tests `surge compare` uses to say whether two configurations really differ.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// A mean over independent replications with its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Half-width of the 95% interval (absent with one replication).
    pub ci95_half_width: Option<f64>,
    /// Lower end of the interval.
    pub ci95_low: Option<f64>,
    /// Upper end of the interval.
    pub ci95_high: Option<f64>,
    /// Replications.
    pub n: u32,
}

/// Mean and Student-t 95% interval of `values` (independent replications).
pub fn estimate(values: &[f64]) -> Estimate {
    let n = values.len();
    let (mean, var, _) = moments(values);
    if n < 2 {
        return Estimate {
            mean,
            ci95_half_width: None,
            ci95_low: None,
            ci95_high: None,
            n: n as u32,
        };
    }
    let half = t_quantile(0.975, (n - 1) as f64) * (var / n as f64).sqrt();
    Estimate {
        mean,
        ci95_half_width: Some(half),
        ci95_low: Some(mean - half),
        ci95_high: Some(mean + half),
        n: n as u32,
    }
}

/// The `p` quantile of Student's t with `dof` degrees of freedom.
pub fn t_quantile(p: f64, dof: f64) -> f64 {
    StudentsT::new(0.0, 1.0, dof)
        .map(|t| t.inverse_cdf(p))
        .unwrap_or(f64::NAN)
}

/// Which t-test compared two samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// Paired t-test on per-replication differences: right when replication r of both sides
    /// shares its random numbers (same master seed), which cancels the noise they share.
    Paired,
    /// Welch's unequal-variance t-test: for independent samples.
    Welch,
}

impl Test {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Test::Paired => "paired t-test",
            Test::Welch => "Welch's t-test",
        }
    }
}

/// The difference `b - a` between two samples' means, with its 95% interval and the
/// two-sided p-value of "no difference".
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    /// How it was tested.
    pub test: Test,
    /// Mean of b minus mean of a.
    pub mean: f64,
    /// Lower end of the 95% interval of the difference (absent when it cannot be estimated).
    pub ci95_low: Option<f64>,
    /// Upper end.
    pub ci95_high: Option<f64>,
    /// The t statistic (absent when the standard error is zero or cannot be estimated).
    pub t: Option<f64>,
    /// Degrees of freedom (Welch-Satterthwaite for Welch's test).
    pub dof: Option<f64>,
    /// Two-sided p-value (absent with fewer than two replications a side). With a zero
    /// standard error it is 1 for no difference and 0 for a difference seen identically in
    /// every replication.
    pub p_value: Option<f64>,
}

/// Paired t-test of `b - a`, pairing `a[i]` with `b[i]`. Needs equal lengths.
pub fn paired(a: &[f64], b: &[f64]) -> Difference {
    assert_eq!(a.len(), b.len(), "paired samples have equal lengths");
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
    let (mean, var, n) = moments(&d);
    if d.len() < 2 {
        return untestable(Test::Paired, mean);
    }
    finish(Test::Paired, mean, (var / n).sqrt(), n - 1.0)
}

/// Welch's t-test of `mean(b) - mean(a)` for independent samples.
pub fn welch(a: &[f64], b: &[f64]) -> Difference {
    let (ma, va, na) = moments(a);
    let (mb, vb, nb) = moments(b);
    let mean = mb - ma;
    if a.len() < 2 || b.len() < 2 {
        return untestable(Test::Welch, mean);
    }
    let (sa, sb) = (va / na, vb / nb);
    let se2 = sa + sb;
    // Welch-Satterthwaite; with both variances zero the difference is exact anyway.
    let dof = if se2 > 0.0 {
        se2 * se2 / (sa * sa / (na - 1.0) + sb * sb / (nb - 1.0))
    } else {
        na + nb - 2.0
    };
    finish(Test::Welch, mean, se2.sqrt(), dof)
}

/// Mean, sample variance (0 below two values) and count, as f64.
fn moments(x: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n.max(1.0);
    let var = if x.len() < 2 {
        0.0
    } else {
        x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    };
    (mean, var, n)
}

fn untestable(test: Test, mean: f64) -> Difference {
    Difference {
        test,
        mean,
        ci95_low: None,
        ci95_high: None,
        t: None,
        dof: None,
        p_value: None,
    }
}

fn finish(test: Test, mean: f64, se: f64, dof: f64) -> Difference {
    if !mean.is_finite() || !se.is_finite() {
        return untestable(test, mean);
    }
    if se == 0.0 {
        // Every replication showed the same difference: it is certain (or certainly zero).
        return Difference {
            test,
            mean,
            ci95_low: Some(mean),
            ci95_high: Some(mean),
            t: None,
            dof: Some(dof),
            p_value: Some(if mean == 0.0 { 1.0 } else { 0.0 }),
        };
    }
    let t = mean / se;
    let half = t_quantile(0.975, dof) * se;
    Difference {
        test,
        mean,
        ci95_low: Some(mean - half),
        ci95_high: Some(mean + half),
        t: Some(t),
        dof: Some(dof),
        p_value: Some(two_sided_p(t, dof)),
    }
}

/// P(|T| >= |t|) for Student's t with `dof` degrees of freedom.
pub fn two_sided_p(t: f64, dof: f64) -> f64 {
    StudentsT::new(0.0, 1.0, dof)
        .map(|d| (2.0 * d.cdf(-t.abs())).min(1.0))
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_interval_matches_tables() {
        // t(0.975, 4) = 2.776 (any t table).
        assert!((t_quantile(0.975, 4.0) - 2.776445).abs() < 1e-5);
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.mean, 3.0);
        let half = 2.776445 * (2.5f64 / 5.0).sqrt();
        assert!((e.ci95_half_width.unwrap() - half).abs() < 1e-5);
        assert_eq!(estimate(&[7.0]).ci95_half_width, None);
    }

    #[test]
    fn p_values_match_t_tables() {
        // Two-sided tail areas from a t table: t = 2.228 at 10 dof and 2.086 at 20 dof are
        // the 0.05 critical values; t = 3.169 at 10 dof is the 0.01 one.
        assert!((two_sided_p(2.228, 10.0) - 0.05).abs() < 2e-4);
        assert!((two_sided_p(-2.086, 20.0) - 0.05).abs() < 2e-4);
        assert!((two_sided_p(3.169, 10.0) - 0.01).abs() < 1e-4);
        assert_eq!(two_sided_p(0.0, 5.0), 1.0);
    }

    #[test]
    fn welch_uses_the_satterthwaite_degrees_of_freedom() {
        // a: mean 2, variance 2.5 (n 5); b: mean 6, variance 10 (n 5).
        let a = [0.0, 1.0, 2.0, 3.0, 4.0];
        let b = [2.0, 4.0, 6.0, 8.0, 10.0];
        let d = welch(&a, &b);
        let (sa, sb) = (2.5 / 5.0, 10.0 / 5.0);
        let dof = (sa + sb) * (sa + sb) / (sa * sa / 4.0 + sb * sb / 4.0);
        assert_eq!(d.mean, 4.0);
        assert!((d.dof.unwrap() - dof).abs() < 1e-12);
        assert!((d.t.unwrap() - 4.0 / (sa + sb).sqrt()).abs() < 1e-12);
        assert_eq!(d.test, Test::Welch);
        assert!(d.p_value.unwrap() < 0.05);
    }

    #[test]
    fn pairing_removes_shared_noise() {
        // b is a plus 1 with a little jitter: independent samples cannot see the shift
        // through a's spread, pairs see it plainly.
        let a = [10.0, 20.0, 30.0, 40.0, 50.0];
        let b = [11.1, 20.9, 31.0, 41.05, 50.95];
        assert!(welch(&a, &b).p_value.unwrap() > 0.5);
        let p = paired(&a, &b);
        assert!(p.p_value.unwrap() < 1e-4);
        assert!(p.ci95_low.unwrap() > 0.8 && p.ci95_high.unwrap() < 1.2);
    }

    #[test]
    fn identical_samples_are_not_different_and_exact_shifts_are() {
        let a = [1.0, 2.0, 4.0];
        assert_eq!(paired(&a, &a).p_value, Some(1.0));
        assert_eq!(welch(&a, &a).p_value, Some(1.0));
        let b = [2.0, 3.0, 5.0];
        assert_eq!(paired(&a, &b).p_value, Some(0.0));
        assert_eq!(paired(&[1.0], &[2.0]).p_value, None);
        assert_eq!(welch(&[1.0, 1.0], &[1.0]).p_value, None);
    }
}
