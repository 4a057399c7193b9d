//! Arrival-rate profiles as the file gives them, in requests per second.

use crate::config::quantity::Duration;
use schemars::JsonSchema;
use serde::Deserialize;

/// Arrival-rate profiles, in requests per second.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RawRate {
    /// A fixed rate.
    Constant {
        /// Requests per second.
        rps: f64,
    },
    /// `from_rps` until `start`, linear to `to_rps` over `over`, then `to_rps`.
    Ramp {
        /// Requests per second before the ramp.
        from_rps: f64,
        /// Requests per second after the ramp.
        to_rps: f64,
        /// When the ramp begins (default "0s").
        start: Option<Duration>,
        /// How long the ramp takes.
        over: Duration,
    },
    /// `from_rps` before `at`, `to_rps` from then on.
    Step {
        /// Requests per second before `at`.
        from_rps: f64,
        /// Requests per second from `at` on.
        to_rps: f64,
        /// When the rate jumps.
        at: Duration,
    },
    /// Baseline, linear rise to the peak, plateau, linear decay back to baseline.
    Spike {
        /// Requests per second outside the spike.
        baseline_rps: f64,
        /// Requests per second on the plateau.
        peak_rps: f64,
        /// When the rise begins.
        start: Duration,
        /// From the baseline to the peak.
        rise: Duration,
        /// Time at the peak.
        plateau: Duration,
        /// From the peak back to the baseline.
        decay: Duration,
    },
    /// mean * (1 + amplitude * cos(2 pi (t - peak_at) / period)).
    Diurnal {
        /// Mean requests per second over a period.
        mean_rps: f64,
        /// Swing as a fraction of the mean, 0 to 1.
        amplitude: f64,
        /// Length of one cycle (default "1d").
        period: Option<Duration>,
        /// Time of the daily peak (default: half a period).
        peak_at: Option<Duration>,
    },
    /// Rates at given times, joined linearly (default) or held until the next point.
    Points {
        /// The points, in time order (at least one; before the first and after the last the
        /// rate is the nearest point's).
        points: Vec<RawPoint>,
        /// Between points: "linear" (default) or "step" (hold until the next point).
        interpolation: Option<RawInterpolation>,
    },
    /// A CSV trace with `t_seconds,requests` rows, replayed from `from` to `to`.
    Trace {
        /// The CSV file, relative to the file that names it.
        file: String,
        /// Trace time that becomes simulated time zero (default: the trace's start).
        from: Option<Duration>,
        /// Trace time where the replay ends (default: the trace's end); no arrivals after it.
        to: Option<Duration>,
        /// Scale so the busiest bin of the window has this rate (or give `factor`).
        peak_rps: Option<f64>,
        /// Multiply every rate by this (or give `peak_rps`).
        factor: Option<f64>,
        /// Within and between bins: "step" (default: each bin's mean rate) or "linear".
        interpolation: Option<RawInterpolation>,
    },
    /// The sum of several profiles.
    Sum {
        /// The profiles to add (at least one).
        of: Vec<RawRate>,
    },
    /// The product of several profiles (a baseline times a multiplier).
    Product {
        /// The profiles to multiply (at least one).
        of: Vec<RawRate>,
    },
    /// Black Friday: a diurnal baseline; from `event_start - ramp` a pre-event rise to
    /// `pre_event_multiplier`; at `event_start` the surge to `peak_multiplier` x baseline over
    /// `surge` (minutes); the peak held for `peak`; a long tail back to 1x over `tail`.
    BlackFriday {
        /// Mean requests per second of the diurnal baseline.
        baseline_mean_rps: f64,
        /// Day/night swing of the baseline, fraction of its mean (default 0.5).
        amplitude: Option<f64>,
        /// Time of the baseline's daily peak (default "20h").
        baseline_peak_at: Option<Duration>,
        /// When the event (the surge) begins.
        event_start: Duration,
        /// Multiplier of the peak (default 10).
        peak_multiplier: Option<f64>,
        /// Multiplier reached just before the event (default 2).
        pre_event_multiplier: Option<f64>,
        /// Pre-event rise (default "2h").
        ramp: Option<Duration>,
        /// From the event's start to the peak (default "5m").
        surge: Option<Duration>,
        /// Time at the peak (default "1h").
        peak: Option<Duration>,
        /// Decay back to the baseline (default "4h").
        tail: Option<Duration>,
    },
    /// A flash sale: `multiplier` x a constant baseline within seconds, briefly.
    FlashSale {
        /// Requests per second outside the sale.
        baseline_rps: f64,
        /// When the rise begins.
        start: Duration,
        /// Multiplier (default 10).
        multiplier: Option<f64>,
        /// Rise time (default "10s").
        rise: Option<Duration>,
        /// Time at the peak (default "15m").
        duration: Option<Duration>,
        /// Fall back to the baseline (default "1m").
        fall: Option<Duration>,
    },
    /// A product launch: `multiplier` x a constant baseline for hours.
    ProductLaunch {
        /// Requests per second before the launch.
        baseline_rps: f64,
        /// When the rise begins.
        start: Duration,
        /// Multiplier (default 10).
        multiplier: Option<f64>,
        /// Rise time (default "10m").
        rise: Option<Duration>,
        /// Time at the peak (default "3h").
        duration: Option<Duration>,
        /// Decay back to the baseline (default "30m").
        decay: Option<Duration>,
    },
}

/// A point of a `points` profile.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPoint {
    /// When, from the start of the run.
    pub at: Duration,
    /// Requests per second at that time.
    pub rps: f64,
}

/// How a profile goes between points.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawInterpolation {
    /// Straight lines between points.
    Linear,
    /// Hold each point's rate until the next point.
    Step,
}
