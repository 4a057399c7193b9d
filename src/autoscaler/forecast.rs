//! Load forecasters for predictive scaling: given the request rate measured in each evaluation
//! period so far, what will the rate be some periods ahead (the time a new instance takes to
//! become ready)?
//!
//! This module owns the forecasting arithmetic and nothing else: no simulation types, no I/O, no
//! wall clock, no randomness. A forecaster only ever receives past observations, one per period
//! and in time order, so a forecast made after `n` observations is a function of those `n`
//! values alone: it cannot peek at the future even by accident. The tests pin that property.
//!
//! Two forecasters:
//!
//! - [`ForecasterSpec::HoltWinters`]: additive Holt-Winters (level, trend, season), for traffic
//!   with a daily or weekly shape.
//! - [`ForecasterSpec::LinearTrend`]: a least-squares line through a sliding window, for traffic
//!   that ramps without a repeating shape.
//!
//! Both keep memory bounded by their configuration (`2 * season_periods` or `window_periods`
//! values), not by the length of the run, and allocate nothing per observation once warmed up.

use std::collections::VecDeque;

/// Which forecaster, as configured.
///
/// Valid ranges (checked where the configuration is validated, not here): `alpha`, `beta`,
/// `gamma` in `[0, 1]`; `season_periods >= 1`; `window_periods >= 2`. Out-of-range values do not
/// make [`Forecaster`] panic: `season_periods = 0` is treated as 1 and `window_periods < 2` as 2,
/// since a season needs a slot and a line needs two points.
#[derive(Debug, Clone, PartialEq)]
pub enum ForecasterSpec {
    /// Additive Holt-Winters (level, trend, seasonal) triple exponential smoothing.
    HoltWinters {
        /// Level smoothing, in `[0, 1]`; higher follows recent observations more closely.
        alpha: f64,
        /// Trend smoothing (β* in Hyndman & Athanasopoulos), in `[0, 1]`.
        beta: f64,
        /// Seasonal smoothing, in `[0, 1]`.
        gamma: f64,
        /// Periods per season (e.g. 1440 for a daily shape observed every minute), `>= 1`.
        season_periods: u32,
    },
    /// Least-squares straight line through the last `window_periods` observations, extrapolated.
    LinearTrend {
        /// Observations the line is fitted to, `>= 2`.
        window_periods: u32,
    },
}

/// A load forecaster: the state built from the observations so far.
///
/// Cloning it forks the history: the clone and the original evolve independently.
#[derive(Debug, Clone)]
pub struct Forecaster {
    model: Model,
    observations: u64,
}

#[derive(Debug, Clone)]
enum Model {
    HoltWinters(HoltWinters),
    LinearTrend(LinearTrend),
}

/// Up to this many slots are reserved up front. Larger windows grow (amortised) while warming
/// up, so that an absurd but valid configuration does not reserve gigabytes before the first
/// observation; once warm, nothing grows any more.
const MAX_RESERVE: usize = 4096;

impl Forecaster {
    /// A forecaster with no history.
    pub fn new(spec: &ForecasterSpec) -> Self {
        let model = match *spec {
            ForecasterSpec::HoltWinters {
                alpha,
                beta,
                gamma,
                season_periods,
            } => Model::HoltWinters(HoltWinters::new(
                Smoothing { alpha, beta, gamma },
                season_periods,
            )),
            ForecasterSpec::LinearTrend { window_periods } => {
                Model::LinearTrend(LinearTrend::new(window_periods))
            }
        };
        Forecaster {
            model,
            observations: 0,
        }
    }

    /// Takes the next observation (one per period, in time order). Non-finite values are ignored.
    ///
    /// An ignored value is not counted in [`observations`](Self::observations) and does not
    /// advance the seasonal phase, so the caller should pass one finite value per period (a
    /// measured rate always is) to keep Holt-Winters in phase with the season.
    ///
    /// O(1), without allocation once warmed up (Holt-Winters does its O(m) initialisation once,
    /// on the observation that completes its second season).
    pub fn observe(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.observations += 1;
        match &mut self.model {
            Model::HoltWinters(hw) => hw.observe(value),
            Model::LinearTrend(lt) => lt.observe(value),
        }
    }

    /// The forecast `steps_ahead` periods after the last observation (steps_ahead may be fractional, >= 0; 0 = the smoothed current value). None until it has enough history.
    ///
    /// Enough history is two full seasons (`2 * season_periods` observations) for Holt-Winters
    /// and two observations for the linear trend. A fractional `steps_ahead` gives the linear
    /// interpolation between the forecasts at its floor and its floor + 1. The result is
    /// clamped at 0, since a rate cannot be negative. Also `None` when `steps_ahead` is negative
    /// or not finite, or when the result is not finite (only possible with observations near
    /// `f64::MAX`).
    ///
    /// O(1) for Holt-Winters, O(window) for the linear trend.
    pub fn forecast(&self, steps_ahead: f64) -> Option<f64> {
        if !(steps_ahead.is_finite() && steps_ahead >= 0.0) {
            return None;
        }
        let value = match &self.model {
            Model::HoltWinters(hw) => hw.forecast(steps_ahead)?,
            Model::LinearTrend(lt) => lt.forecast(steps_ahead)?,
        };
        value.is_finite().then_some(value.max(0.0))
    }

    /// Observations taken so far.
    pub fn observations(&self) -> u64 {
        self.observations
    }

    /// Short name for reasons and reports: "holt_winters" or "linear_trend".
    pub fn name(&self) -> &'static str {
        match self.model {
            Model::HoltWinters(_) => "holt_winters",
            Model::LinearTrend(_) => "linear_trend",
        }
    }
}

/// The three smoothing parameters of Holt-Winters.
#[derive(Debug, Clone, Copy)]
struct Smoothing {
    alpha: f64,
    beta: f64,
    gamma: f64,
}

/// Additive Holt-Winters, in the component form of Hyndman & Athanasopoulos, "Forecasting:
/// Principles and Practice" (3rd ed., section 8.3):
///
/// ```text
/// l_t = α (y_t − s_{t−m}) + (1 − α)(l_{t−1} + b_{t−1})
/// b_t = β (l_t − l_{t−1}) + (1 − β) b_{t−1}
/// s_t = γ (y_t − l_{t−1} − b_{t−1}) + (1 − γ) s_{t−m}
/// ŷ_{t+h|t} = l_t + h b_t + s_{t+h−m(k+1)},  k = ⌊(h − 1)/m⌋
/// ```
#[derive(Debug, Clone)]
struct HoltWinters {
    smoothing: Smoothing,
    /// Periods per season, `>= 1`.
    m: usize,
    phase: HwPhase,
}

#[derive(Debug, Clone)]
enum HwPhase {
    /// Collecting the first two seasons (at most `2m` values) to initialise from.
    Warming(Vec<f64>),
    /// Smoothing; the buffer is gone.
    Running(HwState),
}

#[derive(Debug, Clone)]
struct HwState {
    /// l_t.
    level: f64,
    /// b_t.
    trend: f64,
    /// A ring of the last `m` seasonal terms: `seasonal[next_slot]` is s_{t+1−m}, the term of
    /// the same phase one season ago, which the next observation updates in place.
    seasonal: Vec<f64>,
    next_slot: usize,
}

impl HoltWinters {
    fn new(smoothing: Smoothing, season_periods: u32) -> Self {
        let m = (season_periods as usize).max(1);
        HoltWinters {
            smoothing,
            m,
            phase: HwPhase::Warming(Vec::with_capacity(m.saturating_mul(2).min(MAX_RESERVE))),
        }
    }

    fn observe(&mut self, y: f64) {
        match &mut self.phase {
            HwPhase::Running(state) => state.update(y, self.smoothing),
            HwPhase::Warming(buffer) => {
                buffer.push(y);
                if buffer.len() == 2 * self.m {
                    let buffer = std::mem::take(buffer);
                    self.phase =
                        HwPhase::Running(HwState::initialise(&buffer, self.m, self.smoothing));
                }
            }
        }
    }

    fn forecast(&self, h: f64) -> Option<f64> {
        match &self.phase {
            HwPhase::Warming(_) => None,
            HwPhase::Running(state) => Some(state.forecast(h, self.m)),
        }
    }
}

impl HwState {
    /// The classical initialisation from the first two seasons, then the recursions run over
    /// the second season, so that the state is current as of the last buffered observation.
    ///
    /// Level and trend come from the two season means: b0 = (mean₂ − mean₁) / m. The seasonal
    /// terms of the first season are its observations minus that trend line (not minus the bare
    /// mean₁): otherwise a ramp in the first season leaks into the seasonal terms as a fake
    /// saw-tooth that only decays at rate γ. Detrended, they still sum to zero.
    fn initialise(buffer: &[f64], m: usize, smoothing: Smoothing) -> Self {
        debug_assert_eq!(buffer.len(), 2 * m);
        let (first, second) = buffer.split_at(m);
        let mf = m as f64;
        let mean1 = first.iter().sum::<f64>() / mf;
        let mean2 = second.iter().sum::<f64>() / mf;
        let trend = (mean2 - mean1) / mf;
        // mean₁ is the trend line's value at the middle of the first season.
        let centre = (mf - 1.0) / 2.0;
        let seasonal = first
            .iter()
            .enumerate()
            .map(|(i, &y)| y - (mean1 + trend * (i as f64 - centre)))
            .collect();
        let mut state = HwState {
            // The line at the last observation of the first season, t = m − 1.
            level: mean1 + trend * centre,
            trend,
            seasonal,
            next_slot: 0,
        };
        for &y in second {
            state.update(y, smoothing);
        }
        state
    }

    /// One step of the recursions. O(1), no allocation.
    fn update(&mut self, y: f64, Smoothing { alpha, beta, gamma }: Smoothing) {
        let s_old = self.seasonal[self.next_slot];
        let (level_prev, trend_prev) = (self.level, self.trend);
        self.level = alpha * (y - s_old) + (1.0 - alpha) * (level_prev + trend_prev);
        self.trend = beta * (self.level - level_prev) + (1.0 - beta) * trend_prev;
        self.seasonal[self.next_slot] =
            gamma * (y - level_prev - trend_prev) + (1.0 - gamma) * s_old;
        self.next_slot = ring_add(self.next_slot, 1, self.seasonal.len());
    }

    /// l + h b + s(h), where s(h) is the seasonal term of the phase h periods after the last
    /// observation (h = 0: the last observation's own, so the forecast is the smoothed current
    /// value l_t + s_t). For fractional h the seasonal term is interpolated linearly between
    /// ⌊h⌋ and ⌊h⌋ + 1; as l + h b is linear too, the whole forecast is the interpolation of the
    /// integer-step forecasts on either side.
    fn forecast(&self, h: f64, m: usize) -> f64 {
        let whole = h.floor();
        let frac = h - whole;
        // The phase only matters modulo m; an integer-valued f64 remainder is exact, and the
        // result is below m, so the cast cannot truncate.
        let k = (whole % m as f64) as usize;
        // The last observation's slot is the one before next_slot.
        let current = ring_add(self.next_slot, m - 1, m);
        let at = ring_add(current, k, m);
        let mut season = self.seasonal[at];
        // Skipped at frac = 0 so that integer steps are exactly the textbook formula.
        if frac > 0.0 {
            let next = self.seasonal[ring_add(at, 1, m)];
            season += frac * (next - season);
        }
        self.level + h * self.trend + season
    }
}

/// (a + b) mod m for a < m, without overflowing even when m is near `usize::MAX`.
fn ring_add(a: usize, b: usize, m: usize) -> usize {
    debug_assert!(a < m);
    // b may equal m (a step of one in a ring of one slot).
    let b = b % m;
    if b >= m - a { b - (m - a) } else { a + b }
}

/// Ordinary least squares through the last `window` observations, at x = 0..n−1.
#[derive(Debug, Clone)]
struct LinearTrend {
    window: usize,
    recent: VecDeque<f64>,
}

impl LinearTrend {
    fn new(window_periods: u32) -> Self {
        let window = (window_periods as usize).max(2);
        LinearTrend {
            window,
            recent: VecDeque::with_capacity(window.min(MAX_RESERVE)),
        }
    }

    /// O(1): once the window is full the oldest value makes room, so the ring never grows.
    fn observe(&mut self, y: f64) {
        if self.recent.len() == self.window {
            self.recent.pop_front();
        }
        self.recent.push_back(y);
    }

    /// The fitted line at x = n − 1 + h. O(n): the sums are recomputed from the window rather
    /// than kept as running totals, which would accumulate rounding error over a long run; at
    /// one forecast per evaluation period the cost does not matter.
    fn forecast(&self, h: f64) -> Option<f64> {
        let n = self.recent.len();
        if n < 2 {
            return None;
        }
        let nf = n as f64;
        // Work with offsets from the oldest value: a constant window then gives exactly zero
        // offsets and returns that constant bit for bit, and large rates lose no precision.
        let origin = self.recent[0];
        let mean_offset = self.recent.iter().map(|&y| y - origin).sum::<f64>() / nf;
        // x̄ = (n − 1)/2 is a half-integer, so x − x̄ is exact and sums to exactly zero.
        let x_mean = (nf - 1.0) / 2.0;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for (i, &y) in self.recent.iter().enumerate() {
            let dx = i as f64 - x_mean;
            sxy += dx * (y - origin - mean_offset);
            sxx += dx * dx;
        }
        let slope = sxy / sxx;
        Some(origin + mean_offset + slope * (nf - 1.0 + h - x_mean))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::TAU;

    fn hw(alpha: f64, beta: f64, gamma: f64, m: u32) -> Forecaster {
        Forecaster::new(&ForecasterSpec::HoltWinters {
            alpha,
            beta,
            gamma,
            season_periods: m,
        })
    }

    fn linear(window: u32) -> Forecaster {
        Forecaster::new(&ForecasterSpec::LinearTrend {
            window_periods: window,
        })
    }

    fn fed(mut f: Forecaster, values: impl IntoIterator<Item = f64>) -> Forecaster {
        for v in values {
            f.observe(v);
        }
        f
    }

    fn assert_close(got: Option<f64>, want: f64, rel: f64) {
        let got = got.expect("a forecast");
        assert!(
            (got - want).abs() <= rel * want.abs().max(1.0),
            "got {got}, want {want} (relative tolerance {rel})"
        );
    }

    /// A daily-like shape: period 24, mean 100, swing ±40.
    fn sine(t: usize) -> f64 {
        100.0 + 40.0 * (TAU * t as f64 / 24.0).sin()
    }

    #[test]
    fn linear_extrapolates_an_exact_line() {
        let line = |t: f64| 12.5 + 3.25 * t;
        let f = fed(linear(8), (0..20).map(|t| line(t as f64)));
        // Last observation at t = 19.
        for h in [0.0, 1.0, 2.5, 10.0, 300.0] {
            assert_close(f.forecast(h), line(19.0 + h), 1e-9);
        }
        assert_eq!(f.observations(), 20);
        assert_eq!(f.name(), "linear_trend");
    }

    #[test]
    fn linear_constant_series_returns_the_constant() {
        // 0.1 is not representable; the offset form still returns it bit for bit.
        let f = fed(linear(10), std::iter::repeat_n(0.1, 25));
        for h in [0.0, 1.0, 7.5, 1e6] {
            assert_eq!(f.forecast(h), Some(0.1));
        }
    }

    #[test]
    fn linear_window_limits_history() {
        // Slope +5 for 50 periods, then slope −1 for 10: a 10-period window sees only the new
        // line; a window reaching back into the old slope does not.
        let series: Vec<f64> = (0..60)
            .map(|t| {
                if t < 50 {
                    5.0 * t as f64
                } else {
                    245.0 - (t - 49) as f64
                }
            })
            .collect();
        let last = *series.last().unwrap();
        let short = fed(linear(10), series.iter().copied());
        assert_close(short.forecast(5.0), last - 5.0, 1e-9);
        let long = fed(linear(30), series.iter().copied());
        let long_forecast = long.forecast(5.0).unwrap();
        assert!(
            long_forecast > last + 10.0,
            "the old slope should dominate a long window, got {long_forecast}"
        );
    }

    #[test]
    fn linear_needs_two_observations() {
        let mut f = linear(5);
        assert_eq!(f.forecast(1.0), None);
        f.observe(3.0);
        assert_eq!(f.forecast(1.0), None);
        f.observe(4.0);
        assert_close(f.forecast(1.0), 5.0, 1e-12);
    }

    #[test]
    fn linear_window_below_two_is_treated_as_two() {
        for window in [0, 1] {
            let f = fed(linear(window), [1.0, 2.0, 4.0]);
            assert_close(f.forecast(1.0), 6.0, 1e-12);
        }
    }

    #[test]
    fn forecasts_are_clamped_at_zero() {
        let falling = fed(linear(4), [30.0, 20.0, 10.0, 5.0]);
        assert_eq!(falling.forecast(10.0), Some(0.0));
        let falling = fed(hw(0.5, 0.5, 0.1, 2), [40.0, 30.0, 20.0, 10.0]);
        assert_eq!(falling.forecast(10.0), Some(0.0));
    }

    #[test]
    fn invalid_steps_and_values_are_refused() {
        let mut f = fed(linear(4), [1.0, 2.0, 3.0]);
        for h in [-0.5, f64::NAN, f64::INFINITY] {
            assert_eq!(f.forecast(h), None, "steps_ahead {h}");
        }
        let before = f.forecast(1.0);
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            f.observe(v);
        }
        assert_eq!(f.observations(), 3);
        assert_eq!(f.forecast(1.0), before);
    }

    #[test]
    fn holt_winters_needs_two_seasons() {
        let m = 24;
        let mut f = hw(0.3, 0.1, 0.2, m);
        assert_eq!(f.name(), "holt_winters");
        for t in 0..2 * m as usize - 1 {
            f.observe(sine(t));
            assert_eq!(f.forecast(1.0), None, "after {} observations", t + 1);
        }
        f.observe(sine(2 * m as usize - 1));
        assert!(f.forecast(1.0).is_some());
    }

    #[test]
    fn holt_winters_forecasts_a_seasonal_series() {
        let m = 24;
        let n = 5 * m as usize;
        let f = fed(hw(0.3, 0.1, 0.2, m), (0..n).map(sine));
        // Last observation at t = n − 1; h steps ahead is t = n − 1 + h.
        for h in 1..=m as usize {
            assert_close(f.forecast(h as f64), sine(n - 1 + h), 1e-6);
        }
        assert_close(f.forecast(0.0), sine(n - 1), 1e-6);
        // Fractional steps interpolate between the integer steps on either side.
        let (f1, f2) = (f.forecast(1.0).unwrap(), f.forecast(2.0).unwrap());
        assert_close(f.forecast(1.25), 0.75 * f1 + 0.25 * f2, 1e-12);
    }

    #[test]
    fn holt_winters_learns_a_changed_season() {
        // A square wave (busy half, quiet half) whose swing triples after the two seasons used
        // for initialisation: the initial seasonal terms are wrong, and only the recursions can
        // correct them.
        let m = 24usize;
        let wave = |t: usize, swing: f64| 200.0 + if t % m < m / 2 { swing } else { -swing };
        let series = (0..30 * m).map(|t| wave(t, if t < 2 * m { 20.0 } else { 60.0 }));
        let f = fed(hw(0.2, 0.05, 0.5, m as u32), series);
        let last = 30 * m - 1;
        for h in [1, m / 2, m] {
            assert_close(f.forecast(h as f64), wave(last + h, 60.0), 0.02);
        }
    }

    #[test]
    fn holt_winters_tracks_a_trend_without_season() {
        let line = |t: usize| 50.0 + 1.5 * t as f64;
        for m in [1u32, 4, 24] {
            let n = 10 * m as usize + 7;
            let f = fed(hw(0.5, 0.3, 0.1, m), (0..n).map(line));
            for h in [0usize, 1, 12, 60] {
                assert_close(f.forecast(h as f64), line(n - 1 + h), 1e-9);
            }
        }
    }

    #[test]
    fn holt_winters_memory_is_bounded() {
        let m = 24u32;
        let mut f = hw(0.3, 0.1, 0.2, m);
        let buffered = |f: &Forecaster| match &f.model {
            Model::HoltWinters(HoltWinters {
                phase: HwPhase::Warming(buffer),
                ..
            }) => (buffer.len(), 0),
            Model::HoltWinters(HoltWinters {
                phase: HwPhase::Running(state),
                ..
            }) => (0, state.seasonal.len()),
            Model::LinearTrend(_) => unreachable!(),
        };
        for t in 0..100_000 {
            f.observe(sine(t));
            let (buffer, seasonal) = buffered(&f);
            assert!(buffer < 2 * m as usize, "buffer {buffer} at t = {t}");
            assert!(
                seasonal <= m as usize,
                "seasonal ring {seasonal} at t = {t}"
            );
        }
        assert_eq!(buffered(&f), (0, m as usize));
        assert_eq!(f.observations(), 100_000);
    }

    #[test]
    fn linear_memory_is_bounded() {
        let mut f = linear(16);
        let ring = |f: &Forecaster| match &f.model {
            Model::LinearTrend(lt) => (lt.recent.len(), lt.recent.capacity()),
            Model::HoltWinters(_) => unreachable!(),
        };
        let (_, capacity) = ring(&f);
        for t in 0..100_000 {
            f.observe(sine(t));
            // Same capacity throughout: no reallocation, hence no allocation per observation.
            assert_eq!(ring(&f), ((t + 1).min(16), capacity));
        }
    }

    #[test]
    fn season_of_one_period_works() {
        let f = fed(hw(0.5, 0.5, 0.5, 1), [10.0, 12.0, 14.0, 16.0]);
        assert_close(f.forecast(2.0), 20.0, 1e-9);
        let f = fed(hw(0.5, 0.5, 0.5, 0), [10.0, 12.0, 14.0, 16.0]);
        assert_close(f.forecast(2.0), 20.0, 1e-9);
        // Boundary parameters are valid and must not break anything.
        for (a, b, g) in [(0.0, 0.0, 0.0), (1.0, 1.0, 1.0)] {
            let f = fed(hw(a, b, g, 3), (0..50).map(|t| t as f64));
            assert!(f.forecast(4.5).unwrap().is_finite());
        }
    }

    /// The property the predictive autoscaler relies on: a forecast made after n observations
    /// is a function of those n, whatever comes next, and a spike that has not happened yet is
    /// not anticipated.
    #[test]
    fn forecasts_do_not_peek() {
        let m = 24;
        let history: Vec<f64> = (0..6 * m as usize).map(sine).collect();
        let spike = 10_000.0;
        let steps = [0.0, 1.0, 2.5, 12.0];
        for spec in [
            ForecasterSpec::HoltWinters {
                alpha: 0.3,
                beta: 0.1,
                gamma: 0.2,
                season_periods: m,
            },
            ForecasterSpec::LinearTrend { window_periods: 10 },
        ] {
            // A: only the history.
            let a = fed(Forecaster::new(&spec), history.iter().copied());
            let at_end = |f: &Forecaster| steps.map(|h| f.forecast(h));
            let a_forecasts = at_end(&a);
            // B: the same history then a spike; its forecasts are recorded when the history
            // ends, before it sees the spike.
            let mut b = Forecaster::new(&spec);
            let mut b_forecasts = None;
            for (i, &v) in history.iter().chain([spike; 3].iter()).enumerate() {
                b.observe(v);
                if i + 1 == history.len() {
                    b_forecasts = Some(at_end(&b));
                }
            }
            assert_eq!(b_forecasts, Some(a_forecasts), "{}", spec_name(&spec));
            // A clone forks the history: feeding the spike to the clone leaves A as it was.
            let mut fork = a.clone();
            fork.observe(spike);
            assert_eq!(at_end(&a), a_forecasts);
            assert_ne!(at_end(&fork), a_forecasts);
            // Not anticipated: the forecast for the spike's period is nowhere near it.
            let before = a.forecast(1.0).unwrap();
            assert!(before < 200.0, "{}: forecast {before}", spec_name(&spec));
            // ... and is seen once it has happened.
            assert!(b.forecast(1.0).unwrap() > before);
        }
    }

    fn spec_name(spec: &ForecasterSpec) -> &'static str {
        Forecaster::new(spec).name()
    }
}
