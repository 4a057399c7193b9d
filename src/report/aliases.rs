//! Short names for the metrics people ask about most (`p99`, `cpu`, `errors`, `cost`, ...),
//! one table for every place a metric is named: `surge compare --metric` and `--fail-if`,
//! `surge plot --metric` and the sweep summary's columns.
//!
//! A name is an alias (`p99` is `latency_s.p99`), an alias scoped to a service or an endpoint
//! (`services.api.cpu` is `services.api.cpu_utilisation`, `endpoints.api.get.p99` is
//! `endpoints.api.get.latency_s.p99`, and `*` may stand for the name: `endpoints.*.p99`), or a
//! flat metric name or `*` pattern as [`report::flatten`](super::flatten) names them.

/// What an alias stands for, and so where it can be scoped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A figure of the whole run, such as its cost: no narrower form.
    Run,
    /// A figure of requests: of the whole run, or under `endpoints.<service>.<endpoint>.`.
    Requests,
    /// A figure of each service: the pattern is `services.*.<metric>`, and
    /// `services.<name>.<alias>` names one service's.
    Service,
}

/// A short name and the flat metric (or `*` pattern) it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alias {
    /// What the user types.
    pub name: &'static str,
    /// The flat name or pattern it stands for, at run level.
    pub pattern: &'static str,
    /// Where else it applies.
    pub scope: Scope,
}

const fn alias(name: &'static str, pattern: &'static str, scope: Scope) -> Alias {
    Alias {
        name,
        pattern,
        scope,
    }
}

/// Every alias, in the order the README lists them.
pub const ALIASES: [Alias; 19] = [
    alias("p50", "latency_s.p50", Scope::Requests),
    alias("p90", "latency_s.p90", Scope::Requests),
    alias("p95", "latency_s.p95", Scope::Requests),
    alias("p99", "latency_s.p99", Scope::Requests),
    alias("p999", "latency_s.p999", Scope::Requests),
    alias("max", "latency_s.max", Scope::Requests),
    alias("mean", "latency_s.mean", Scope::Requests),
    alias("errors", "error_rate", Scope::Requests),
    alias("error_rate", "error_rate", Scope::Requests),
    alias("throughput", "throughput_rps", Scope::Requests),
    alias("slo_minutes", "slo.violation_minutes", Scope::Run),
    alias("cost", "cost_usd", Scope::Run),
    alias("cost_per_million", "cost_per_million_ok_usd", Scope::Run),
    alias("instances", "services.*.instances", Scope::Service),
    alias(
        "peak_instances",
        "services.*.peak_instances",
        Scope::Service,
    ),
    alias(
        "instance_hours",
        "services.*.instance_hours",
        Scope::Service,
    ),
    alias(
        "scaling_actions",
        "services.*.scaling_actions",
        Scope::Service,
    ),
    alias("cpu", "services.*.cpu_utilisation", Scope::Service),
    alias("oom_kills", "services.*.oom_kills", Scope::Service),
];

/// The alias names, comma-separated, for error messages.
pub fn names() -> String {
    ALIASES.map(|a| a.name).join(", ")
}

/// The flat names or `*` patterns that `name` stands for: an alias's pattern; otherwise
/// `name` itself and, when its last segment is an alias under a service or an endpoint, the
/// scoped alias (both, because `endpoints.*.latency_s.p99` is a flat pattern already while
/// `endpoints.*.p99` is an alias: whichever matches counts).
pub fn patterns(name: &str) -> Vec<String> {
    if let Some(a) = ALIASES.iter().find(|a| a.name == name) {
        return vec![a.pattern.to_string()];
    }
    // The last segment is the alias, what comes before it the scope (names may hold dots, so
    // only the last one splits).
    let scoped = name.rsplit_once('.').and_then(|(scope, last)| {
        let a = ALIASES.iter().find(|a| a.name == last)?;
        match a.scope {
            Scope::Requests if scope.starts_with("endpoints.") => {
                Some(format!("{scope}.{}", a.pattern))
            }
            Scope::Service if scope.starts_with("services.") => {
                let metric = a.pattern.trim_start_matches("services.*.");
                Some(format!("{scope}.{metric}"))
            }
            _ => None,
        }
    });
    let mut out = vec![name.to_string()];
    out.extend(scoped.filter(|s| s != name));
    out
}

/// The flat metrics among `available` that `name` stands for, in `available`'s order.
pub fn resolve<'a>(name: &str, available: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let patterns = patterns(name);
    available
        .into_iter()
        .filter(|m| patterns.iter().any(|p| glob(p, m)))
        .map(str::to_string)
        .collect()
}

/// Each of `names` replaced by the flat metrics among `available` it stands for, in order and
/// each once; a name that stands for none is kept as it is, for the caller to refuse with the
/// list of what there is.
pub fn expand(names: &[String], available: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let found = resolve(name, available.iter().map(String::as_str));
        let found = if found.is_empty() {
            vec![name.clone()]
        } else {
            found
        };
        for m in found {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters (dots too).
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_wildcards() {
        assert!(glob("services.*.instances", "services.api.instances"));
        assert!(!glob("services.*.instances", "services.api.peak_instances"));
        assert!(glob("*", "anything"));
        assert!(glob("error_rates.*", "error_rates.timed_out"));
        assert!(glob("latency_s.p99", "latency_s.p99"));
        assert!(!glob("latency_s.p99", "latency_s.p999"));
        assert!(glob("a*b*c", "a-b-c"));
        assert!(!glob("a*b*c", "a-c-b"));
        assert!(!glob("ab*ba", "aba"));
    }

    #[test]
    fn names_resolve_to_aliases_scoped_aliases_or_themselves() {
        let cases: [(&str, &[&str]); 13] = [
            ("p99", &["latency_s.p99"]),
            ("cpu", &["services.*.cpu_utilisation"]),
            ("errors", &["error_rate"]),
            (
                "services.api.cpu",
                &["services.api.cpu", "services.api.cpu_utilisation"],
            ),
            (
                "services.api.v2.cpu",
                &["services.api.v2.cpu", "services.api.v2.cpu_utilisation"],
            ),
            (
                "endpoints.api.get.p99",
                &["endpoints.api.get.p99", "endpoints.api.get.latency_s.p99"],
            ),
            (
                "endpoints.*.errors",
                &["endpoints.*.errors", "endpoints.*.error_rate"],
            ),
            (
                "endpoints.api.get.throughput",
                &[
                    "endpoints.api.get.throughput",
                    "endpoints.api.get.throughput_rps",
                ],
            ),
            // Not scopable: the run's cost has no per-endpoint form, nor latency a per-service.
            ("endpoints.api.get.cost", &["endpoints.api.get.cost"]),
            ("services.api.p99", &["services.api.p99"]),
            // Flat names and patterns stand for themselves.
            ("latency_s.*", &["latency_s.*"]),
            (
                "services.api.instance_hours",
                &["services.api.instance_hours"],
            ),
            (
                "endpoints.*.latency_s.p99",
                &[
                    "endpoints.*.latency_s.p99",
                    "endpoints.*.latency_s.latency_s.p99",
                ],
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(patterns(name), expected, "{name}");
        }
        // Whichever form matches counts: a flat pattern ending in an alias's name still works.
        let available = ["endpoints.api.get.latency_s.p99", "latency_s.p99"];
        for name in [
            "endpoints.*.latency_s.p99",
            "endpoints.*.p99",
            "endpoints.api.get.p99",
        ] {
            assert_eq!(
                resolve(name, available),
                ["endpoints.api.get.latency_s.p99"],
                "{name}"
            );
        }
    }

    #[test]
    fn resolve_keeps_the_order_of_the_available_metrics() {
        let available = [
            "services.web.cpu_utilisation",
            "latency_s.p99",
            "services.api.cpu_utilisation",
        ];
        assert_eq!(
            resolve("cpu", available),
            [
                "services.web.cpu_utilisation",
                "services.api.cpu_utilisation"
            ]
        );
        assert!(resolve("p50", available).is_empty());
        let names = ["p99", "cpu", "latency_s.p99", "nope"].map(String::from);
        assert_eq!(
            expand(&names, &available.map(String::from)),
            [
                "latency_s.p99",
                "services.web.cpu_utilisation",
                "services.api.cpu_utilisation",
                "nope"
            ]
        );
    }
}
