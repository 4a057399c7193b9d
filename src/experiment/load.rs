//! The CPU load a plan offers, before it runs: what `surge validate` prints so that an
//! overloaded plan shows before any simulation ([`describe`]).

use super::Experiment;
use crate::workload::ClientKind;

/// The mean CPU demand of the open clients on one service of one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceLoad {
    /// The service.
    pub service: String,
    /// Demand over the cores its instances can use (the initial fleet): 1.0 is saturation.
    pub utilisation: f64,
    /// Cores the initial fleet can keep busy (an event loop uses one per worker).
    pub usable_cores: u32,
    /// Cores the initial fleet has.
    pub cores: u32,
}

/// Per variant, in file order: the load on each service that open clients reach, over the
/// whole run (the mean rate of each client's profile, or one over its mean inter-arrival time,
/// times its mix, times the expected visits of each endpoint the request reaches through its
/// calls, times that endpoint's mean CPU time per visit). Closed clients are left out: their
/// load depends on the responses.
pub fn offered_cpu_load(exp: &Experiment) -> Vec<(String, Vec<ServiceLoad>)> {
    let horizon = exp.duration.as_secs_f64();
    exp.variants
        .iter()
        .map(|v| {
            let mut demand = vec![0.0; v.model.services.len()];
            let rates = crate::model::graph::CallRates::new(&v.model.services);
            for c in &v.workload {
                let ClientKind::Open { arrivals } = &c.kind else {
                    continue;
                };
                let mean_rate = arrivals.expected_arrivals(horizon) / horizon;
                for (i, e) in c.mix.entries().iter().enumerate() {
                    // Every endpoint the request visits, through its calls, at its expected
                    // number of visits per request.
                    let entry = crate::ids::EndpointRef {
                        service: e.service,
                        endpoint: e.endpoint,
                    };
                    for (s, per_endpoint) in rates.visits(entry).iter().enumerate() {
                        let svc = &v.model.services[s];
                        for (k, visits) in per_endpoint.iter().enumerate() {
                            if *visits == 0.0 {
                                continue;
                            }
                            if let Some(cpu) = svc.mean_cpu_s(k) {
                                demand[s] += mean_rate * c.mix.share(i) * visits * cpu;
                            }
                        }
                    }
                }
            }
            let loads = v
                .model
                .services
                .iter()
                .zip(&demand)
                .filter(|(_, d)| **d > 0.0)
                .map(|(s, d)| {
                    let usable = s.replicas * s.instance.usable_cores();
                    ServiceLoad {
                        service: s.name.clone(),
                        utilisation: d / f64::from(usable).max(1e-9),
                        usable_cores: usable,
                        cores: s.replicas * s.instance.cores,
                    }
                })
                .collect();
            (v.name.clone(), loads)
        })
        .collect()
}

/// One line on what will run, with the mean CPU load each open client offers each service
/// (see [`offered_cpu_load`]): `surge validate`'s description of an experiment.
pub fn describe(exp: &Experiment) -> String {
    let mut parts = vec![format!(
        "{} variant(s) x {} replication(s), {} simulated per run",
        exp.variants.len(),
        exp.replications,
        exp.duration
    )];
    for (variant, loads) in offered_cpu_load(exp) {
        let loads: Vec<String> = loads
            .iter()
            .map(|l| {
                let note = if l.usable_cores < l.cores {
                    format!(
                        " (the {} cores its event loops can use, of {})",
                        l.usable_cores, l.cores
                    )
                } else {
                    String::new()
                };
                format!(
                    "{} at {:.0}% of CPU capacity{note}",
                    l.service,
                    100.0 * l.utilisation
                )
            })
            .collect();
        if !loads.is_empty() {
            parts.push(format!("{variant}: {}", loads.join(", ")));
        }
    }
    parts.join("; ")
}
