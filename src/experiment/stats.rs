//! Statistics over replications: means with Student-t 95% confidence intervals.

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
    let mean = if n == 0 {
        0.0
    } else {
        values.iter().sum::<f64>() / n as f64
    };
    if n < 2 {
        return Estimate {
            mean,
            ci95_half_width: None,
            ci95_low: None,
            ci95_high: None,
            n: n as u32,
        };
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
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
}
