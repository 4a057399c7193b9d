//! What each instance group (and each zone) of a service carried: its share of the routed
//! requests next to its share of the weight, and how busy its instances were.

use super::observe::InstanceSummary;
use crate::components::service::ServiceSpec;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// The key of the instances in no group.
pub const REST: &str = "rest";

/// One instance group's figures over the measured window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GroupSummary {
    /// Instances of the group that existed during the run.
    pub instances_started: u32,
    /// Cores per instance.
    pub cores_per_instance: u32,
    /// Balancing weight per instance.
    pub weight: u32,
    /// Requests routed to its instances.
    pub routed: u64,
    /// Its share of the service's routed requests.
    pub routed_fraction: f64,
    /// Mean CPU utilisation of its instances.
    pub cpu_utilisation: f64,
}

/// Per group in file order, then [`REST`] if any instance is in none; empty without groups.
pub fn summarise(
    spec: &ServiceSpec,
    per_instance: &[InstanceSummary],
) -> IndexMap<String, GroupSummary> {
    let mut out = IndexMap::new();
    if spec.groups.is_empty() {
        return out;
    }
    let total: u64 = per_instance.iter().map(|p| p.routed).sum();
    let rows = spec
        .groups
        .iter()
        .map(|g| (Some(g.name.as_str()), g.shape.cores, g.weight))
        .chain(std::iter::once((None, spec.instance.cores, spec.weight)));
    for (name, cores, weight) in rows {
        let members: Vec<&InstanceSummary> = per_instance
            .iter()
            .filter(|p| p.group.as_deref() == name)
            .collect();
        if name.is_none() && members.is_empty() {
            continue;
        }
        let routed: u64 = members.iter().map(|p| p.routed).sum();
        let utilisation = if members.is_empty() {
            0.0
        } else {
            members.iter().map(|p| p.cpu_utilisation).sum::<f64>() / members.len() as f64
        };
        out.insert(
            name.unwrap_or(REST).to_string(),
            GroupSummary {
                instances_started: members.len() as u32,
                cores_per_instance: cores,
                weight,
                routed,
                routed_fraction: if total == 0 {
                    0.0
                } else {
                    routed as f64 / total as f64
                },
                cpu_utilisation: utilisation,
            },
        );
    }
    out
}

/// One zone's figures over the measured window.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ZoneSummary {
    /// Instances of the zone that existed during the run.
    pub instances_started: u32,
    /// Requests routed to its instances, and their share of the service's.
    pub routed: u64,
    pub routed_fraction: f64,
    /// Mean CPU utilisation of its instances.
    pub cpu_utilisation: f64,
}

/// Per zone in file order; empty without zones.
pub fn by_zone(
    spec: &ServiceSpec,
    per_instance: &[InstanceSummary],
) -> IndexMap<String, ZoneSummary> {
    let total: u64 = per_instance.iter().map(|p| p.routed).sum();
    spec.zones
        .iter()
        .map(|z| {
            let members: Vec<&InstanceSummary> = per_instance
                .iter()
                .filter(|p| p.zone.as_deref() == Some(z.as_str()))
                .collect();
            let routed: u64 = members.iter().map(|p| p.routed).sum();
            let summary = ZoneSummary {
                instances_started: members.len() as u32,
                routed,
                routed_fraction: if total == 0 {
                    0.0
                } else {
                    routed as f64 / total as f64
                },
                cpu_utilisation: if members.is_empty() {
                    0.0
                } else {
                    members.iter().map(|p| p.cpu_utilisation).sum::<f64>() / members.len() as f64
                },
            };
            (z.clone(), summary)
        })
        .collect()
}
