//! `--fail-if` rules: thresholds on a candidate's metrics that make `surge compare` exit
//! non-zero, so a CI pipeline can guard a capacity plan.
//!
//! A rule is `METRIC OP VALUE`, e.g. `p99 > +10%`. The value's form says what is compared:
//! - a signed percentage (`+10%`, `-5%`): the change relative to the baseline's mean;
//! - a signed number (`+0.05`, `+20ms`): the absolute change from the baseline;
//! - an unsigned number or percentage (`0.25`, `250ms`, `1%`): the candidate's own mean.

use super::{InputError, MetricDifference, Subject, difference};
use crate::experiment::stats::{Test, estimate};
use crate::report::aliases;
use serde::Serialize;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>`
    Above,
    /// `>=`
    AtLeast,
    /// `<`
    Below,
    /// `<=`
    AtMost,
}

impl Op {
    fn holds(self, x: f64, bound: f64) -> bool {
        match self {
            Op::Above => x > bound,
            Op::AtLeast => x >= bound,
            Op::Below => x < bound,
            Op::AtMost => x <= bound,
        }
    }
}

/// What the bound applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// Change relative to the baseline, as a fraction (+10% is 0.1).
    Relative(f64),
    /// Change from the baseline, in the metric's unit.
    Change(f64),
    /// The candidate's own value, in the metric's unit.
    Level(f64),
}

/// A parsed `--fail-if` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// As written.
    pub text: String,
    /// The metric as written (an alias, a flat name or a `*` pattern).
    pub metric: String,
    /// Operator.
    pub op: Op,
    /// Bound.
    pub bound: Bound,
}

impl Rule {
    /// Parses `METRIC OP VALUE`.
    pub fn parse(text: &str) -> Result<Rule, InputError> {
        let bad = |why: &str| {
            InputError(format!(
                "--fail-if \"{text}\": {why}; expected METRIC OP VALUE, e.g. 'p99 > +10%' (relative to the baseline), 'cost > +2' (absolute change) or 'error_rate > 1%' (the candidate's own value), with OP one of > >= < <="
            ))
        };
        let (at, op, len) = ["<=", ">=", "<", ">"]
            .iter()
            .filter_map(|o| text.find(o).map(|i| (i, *o)))
            .min_by_key(|(i, o)| (*i, usize::MAX - o.len()))
            .map(|(i, o)| {
                let op = match o {
                    "<=" => Op::AtMost,
                    ">=" => Op::AtLeast,
                    "<" => Op::Below,
                    _ => Op::Above,
                };
                (i, op, o.len())
            })
            .ok_or_else(|| bad("no comparison operator"))?;
        let metric = text[..at].trim();
        let value = text[at + len..].trim();
        if metric.is_empty() {
            return Err(bad("no metric before the operator"));
        }
        if value.is_empty() {
            return Err(bad("no value after the operator"));
        }
        let signed = value.starts_with('+') || value.starts_with('-');
        let (number, scale, percent) = if let Some(n) = value.strip_suffix('%') {
            (n, 0.01, true)
        } else if let Some(n) = value.strip_suffix("ms") {
            (n, 1e-3, false)
        } else if let Some(n) = value.strip_suffix('s') {
            (n, 1.0, false)
        } else {
            (value, 1.0, false)
        };
        let x: f64 = number
            .trim()
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| bad(&format!("\"{value}\" is not a number")))?;
        let bound = match (signed, percent) {
            (true, true) => Bound::Relative(x * scale),
            (true, false) => Bound::Change(x * scale),
            (false, _) => Bound::Level(x * scale),
        };
        Ok(Rule {
            text: text.to_string(),
            metric: metric.to_string(),
            op,
            bound,
        })
    }

    /// The flat metric names this rule checks in these subjects.
    fn metrics(&self, subjects: &[Subject]) -> Result<Vec<String>, InputError> {
        let mut available: Vec<&str> = Vec::new();
        for k in subjects.iter().flat_map(|s| &s.runs).flat_map(|r| r.keys()) {
            if !available.contains(&k.as_str()) {
                available.push(k);
            }
        }
        let names = aliases::resolve(&self.metric, available);
        if names.is_empty() {
            return Err(InputError(format!(
                "--fail-if \"{}\": no metric \"{}\" in the reports; use a flat name from report.json (e.g. latency_s.p99, services.api.instance_hours) or one of {}",
                self.text,
                self.metric,
                aliases::names()
            )));
        }
        Ok(names)
    }
}

/// What a rule compares with its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compared {
    /// The change relative to the baseline.
    RelativeChange,
    /// The change from the baseline.
    Change,
    /// The candidate's own mean.
    Level,
}

/// One rule checked against one candidate on one metric.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The rule as written.
    pub rule: String,
    /// The candidate's label.
    pub candidate: String,
    /// The flat metric.
    pub metric: String,
    /// What was compared with the bound.
    pub compared: Compared,
    /// Its value: the relative change (a fraction), the change or the level.
    pub observed: f64,
    /// Whether the rule is broken.
    pub breached: bool,
    /// Whether the difference from the baseline is statistically significant (absent for
    /// level rules and when it cannot be tested).
    pub significant: Option<bool>,
}

/// Checks every rule against every candidate (subjects after the baseline). With
/// `significant_only`, a change breaks a rule only when it is statistically significant.
pub fn check(
    rules: &[Rule],
    subjects: &[Subject],
    tests: &[Test],
    alpha: f64,
    significant_only: bool,
) -> Result<Vec<Check>, InputError> {
    let mut out = Vec::new();
    for rule in rules {
        for metric in rule.metrics(subjects)? {
            let Some(base) = subjects[0].values(&metric) else {
                continue;
            };
            for (cand, test) in subjects[1..].iter().zip(tests) {
                let Some(values) = cand.values(&metric) else {
                    continue;
                };
                let d: MetricDifference = difference(&base, &values, *test, alpha);
                let (compared, observed, bound) = match rule.bound {
                    Bound::Relative(r) => match d.relative {
                        Some(rel) => (Compared::RelativeChange, rel, r),
                        // A zero baseline: any rise is infinitely relative.
                        None => (
                            Compared::RelativeChange,
                            d.difference.mean.signum() * f64::INFINITY,
                            r,
                        ),
                    },
                    Bound::Change(c) => (Compared::Change, d.difference.mean, c),
                    Bound::Level(l) => (Compared::Level, estimate(&values).mean, l),
                };
                let change = compared != Compared::Level;
                let observed = if observed.is_nan() { 0.0 } else { observed };
                let significant = change.then_some(d.significant);
                let breached = rule.op.holds(observed, bound)
                    && (!significant_only || !change || d.significant);
                out.push(Check {
                    rule: rule.text.clone(),
                    candidate: cand.label.clone(),
                    metric: metric.clone(),
                    compared,
                    observed,
                    breached,
                    significant: if d.difference.p_value.is_some() {
                        significant
                    } else {
                        None
                    },
                });
            }
        }
    }
    Ok(out)
}

/// The test each candidate uses, for [`check`].
pub fn tests_of(comparison: &super::Comparison) -> Vec<Test> {
    comparison.tests.iter().map(|t| t.test).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_by_the_form_of_their_value() {
        let r = Rule::parse("p99 > +10%").unwrap();
        assert_eq!((r.metric.as_str(), r.op), ("p99", Op::Above));
        assert_eq!(r.bound, Bound::Relative(0.1));
        assert_eq!(Rule::parse("cost>=+2").unwrap().bound, Bound::Change(2.0));
        let r = Rule::parse("p50 <= 250ms").unwrap();
        assert_eq!(r.op, Op::AtMost);
        assert!(matches!(r.bound, Bound::Level(x) if (x - 0.25).abs() < 1e-12));
        assert!(matches!(
            Rule::parse("error_rate > 1%").unwrap().bound,
            Bound::Level(x) if (x - 0.01).abs() < 1e-12
        ));
        assert_eq!(
            Rule::parse("throughput < -5%").unwrap().bound,
            Bound::Relative(-0.05)
        );
    }

    #[test]
    fn malformed_rules_say_what_is_expected() {
        for bad in ["p99", "> 3", "p99 >", "p99 > ten%", "p99 > +inf"] {
            let e = Rule::parse(bad).unwrap_err().0;
            assert!(e.contains("expected METRIC OP VALUE"), "{bad}: {e}");
        }
    }
}
