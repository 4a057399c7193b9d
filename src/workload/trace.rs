//! Replay of request-count traces: CSV files with a `t_seconds,requests` header and one row per
//! bin (see ../shared/data/traces/README.md). A bin's count becomes a rate of count / bin width,
//! held over the bin or joined linearly between bin centres, and arrivals are Poisson at that
//! rate: the within-bin shape is an assumption, not data.

use super::rate::{Interpolation, RateProfile};

/// A trace as read from its file.
#[derive(Debug, Clone)]
pub struct Trace {
    /// Bin start times, seconds from the start of the trace.
    pub starts: Vec<f64>,
    /// Requests in each bin.
    pub counts: Vec<f64>,
    /// Bin width in seconds.
    pub bin: f64,
}

/// How to cut and scale a trace for replay.
#[derive(Debug, Clone, Copy)]
pub struct Replay {
    /// Trace time that becomes simulated time zero.
    pub from: f64,
    /// Trace time where replay ends (exclusive).
    pub to: Option<f64>,
    /// Scale so the busiest bin of the window has this rate.
    pub peak_rps: Option<f64>,
    /// Or multiply every rate by this.
    pub factor: Option<f64>,
    /// Shape within and between bins.
    pub interpolation: Interpolation,
}

impl Trace {
    /// Parses CSV text. Errors name the line.
    pub fn parse(text: &str) -> Result<Trace, String> {
        /// Most requests in one bin: beyond any real trace, far from overflowing a sum.
        const MAX_COUNT: f64 = 1e15;
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines
            .next()
            .ok_or("the file is empty; expected a `t_seconds,requests` header")?;
        let cols: Vec<&str> = header.split(',').map(str::trim).collect();
        // Nothing read from the file is echoed: a wrong path must not print what it reached.
        if cols != ["t_seconds", "requests"] {
            return Err(format!(
                "line 1: expected the header `t_seconds,requests`, found a line of {} column(s) that is not it (is this a trace CSV?)",
                cols.len()
            ));
        }
        let mut starts = Vec::new();
        let mut counts = Vec::new();
        for (i, line) in lines {
            let lineno = i + 1;
            let mut parts = line.split(',').map(str::trim);
            let (Some(t), Some(n), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(format!(
                    "line {lineno}: expected two columns `t_seconds,requests`, found {}",
                    line.split(',').count()
                ));
            };
            // `parse` accepts "NaN" and "inf": a time or count must be an ordinary number.
            let t: f64 = t
                .parse()
                .ok()
                .filter(|t: &f64| t.is_finite())
                .ok_or_else(|| {
                    format!("line {lineno}: t_seconds is not a finite number of seconds")
                })?;
            let n: f64 = n
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite() && (0.0..=MAX_COUNT).contains(n))
                .ok_or_else(|| {
                    format!("line {lineno}: requests is not a count from 0 to {MAX_COUNT:e}")
                })?;
            if let Some(&prev) = starts.last() {
                if t <= prev {
                    return Err(format!(
                        "line {lineno}: t_seconds {t} does not increase (previous row {prev})"
                    ));
                }
            }
            starts.push(t);
            counts.push(n);
        }
        if starts.len() < 2 {
            return Err("a trace needs at least two rows to know its bin width".into());
        }
        let bin = starts[1] - starts[0];
        for (k, w) in starts.windows(2).enumerate() {
            if ((w[1] - w[0]) - bin).abs() > 1e-9 * bin.max(1.0) {
                return Err(format!(
                    "rows {} and {}: bins must be contiguous and equal ({bin} s), found a step of {} s",
                    k + 2,
                    k + 3,
                    w[1] - w[0]
                ));
            }
        }
        Ok(Trace {
            starts,
            counts,
            bin,
        })
    }

    /// Trace time just past the last bin.
    pub fn end(&self) -> f64 {
        self.starts.last().map_or(0.0, |s| s + self.bin)
    }

    /// The rate profile for a replay window, with simulated time zero at `replay.from`.
    pub fn profile(&self, replay: &Replay) -> Result<RateProfile, String> {
        let to = replay.to.unwrap_or_else(|| self.end());
        if replay.from < self.starts[0] || replay.from >= self.end() {
            return Err(format!(
                "`from` ({} s) is outside the trace, which covers {} s to {} s",
                replay.from,
                self.starts[0],
                self.end()
            ));
        }
        if to <= replay.from {
            return Err(format!(
                "`to` ({to} s) must be after `from` ({} s)",
                replay.from
            ));
        }
        let first = self
            .starts
            .partition_point(|&s| s + self.bin <= replay.from);
        let last = self.starts.partition_point(|&s| s < to);
        let window = &self.counts[first..last];
        let peak = window.iter().cloned().fold(0.0, f64::max) / self.bin;
        let factor = match (replay.peak_rps, replay.factor) {
            (Some(_), Some(_)) => return Err("give `peak_rps` or `factor`, not both".into()),
            (Some(p), None) => {
                if peak <= 0.0 {
                    return Err(
                        "the window has no requests, so it cannot be scaled to a peak".into(),
                    );
                }
                p / peak
            }
            (None, Some(f)) => f,
            (None, None) => 1.0,
        };
        let mut times = Vec::with_capacity(window.len() + 1);
        let mut rates = Vec::with_capacity(window.len() + 1);
        let offset = match replay.interpolation {
            Interpolation::Step => 0.0,
            Interpolation::Linear => self.bin / 2.0,
        };
        for (k, c) in window.iter().enumerate() {
            times.push((self.starts[first + k] + offset - replay.from).max(0.0));
            rates.push(c / self.bin * factor);
        }
        // Past the window the trace is over: no more arrivals.
        times.push(to - replay.from);
        rates.push(0.0);
        dedup_times(&mut times, &mut rates);
        Ok(RateProfile::Piecewise {
            times,
            rates,
            interpolation: replay.interpolation,
        })
    }
}

/// Clamping the first bin to zero can repeat time 0; keep the later point.
fn dedup_times(times: &mut Vec<f64>, rates: &mut Vec<f64>) {
    let mut k = 0;
    while k + 1 < times.len() {
        if times[k + 1] <= times[k] {
            times.remove(k);
            rates.remove(k);
        } else {
            k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "t_seconds,requests\n0,60\n60,120\n120,600\n180,0\n";

    fn replay(from: f64, to: Option<f64>) -> Replay {
        Replay {
            from,
            to,
            peak_rps: None,
            factor: None,
            interpolation: Interpolation::Step,
        }
    }

    #[test]
    fn counts_become_rates_per_bin() {
        let t = Trace::parse(CSV).unwrap();
        assert_eq!(t.bin, 60.0);
        let p = t.profile(&replay(0.0, None)).unwrap();
        assert_eq!(p.rate_at(30.0), 1.0);
        assert_eq!(p.rate_at(90.0), 2.0);
        assert_eq!(p.rate_at(150.0), 10.0);
        assert_eq!(p.rate_at(500.0), 0.0);
        assert!((p.expected_arrivals(240.0) - 780.0).abs() < 1e-9);
    }

    #[test]
    fn windows_shift_time_and_scale_to_a_peak() {
        let t = Trace::parse(CSV).unwrap();
        let mut r = replay(60.0, Some(180.0));
        r.peak_rps = Some(100.0);
        let p = t.profile(&r).unwrap();
        assert_eq!(p.rate_at(0.0), 20.0);
        assert_eq!(p.rate_at(60.0), 100.0);
        assert_eq!(p.rate_at(120.0), 0.0);
    }

    #[test]
    fn malformed_traces_name_the_line() {
        assert!(
            Trace::parse("time,count\n0,1\n")
                .unwrap_err()
                .contains("header")
        );
        assert!(
            Trace::parse("t_seconds,requests\n0,1\n60,x\n")
                .unwrap_err()
                .contains("line 3")
        );
        assert!(
            Trace::parse("t_seconds,requests\n0,1\n60,1\n180,1\n")
                .unwrap_err()
                .contains("contiguous")
        );
        assert!(
            Trace::parse("t_seconds,requests\n0,1\n60,-1\n")
                .unwrap_err()
                .contains("not a count from 0")
        );
        // `f64::from_str` takes these; a trace must not.
        for bad in ["NaN", "inf", "-inf", "1e400"] {
            let e = Trace::parse(&format!("t_seconds,requests\n0,1\n{bad},1\n")).unwrap_err();
            assert!(
                e.contains("line 3: t_seconds is not a finite number"),
                "{bad}: {e}"
            );
            let e = Trace::parse(&format!("t_seconds,requests\n0,1\n60,{bad}\n")).unwrap_err();
            assert!(e.contains("line 3: requests is not a count"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_bundled_worldcup_semifinal_window_parses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/experiments/traces/worldcup98-semifinal.csv"
        );
        let t = Trace::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(t.bin, 60.0);
        assert_eq!(t.counts.len(), 540);
        // The trace README: the peak is 229,426 requests in the minute at 21:41 GMT.
        let (i, peak) = t
            .counts
            .iter()
            .enumerate()
            .fold((0, 0.0), |b, (i, &c)| if c > b.1 { (i, c) } else { b });
        assert_eq!(peak, 229_426.0);
        assert_eq!(t.starts[i], (21.0 * 60.0 + 41.0 - 15.0 * 60.0) * 60.0);
    }
}
