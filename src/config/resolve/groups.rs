//! A service's instance groups and balancing weights from their file form.

use super::instance::instance_shape;
use super::{At, MAX_INSTANCES, check_name, int_in};
use crate::components::instance::InstanceSpec;
use crate::components::service::InstanceGroup;
use crate::config::ConfigError;
use crate::config::raw::RawService;

/// The largest balancing weight (nginx allows any; a thousand to one is past any real fleet's
/// spread and keeps weighted picks exact).
pub(super) const MAX_WEIGHT: i64 = 1000;

/// A weight at `rel`, or 1.
pub(super) fn weight(at: At, rel: &str, w: Option<i64>) -> Result<u32, ConfigError> {
    match w {
        None => Ok(1),
        Some(w) => int_in(at, rel, w, 1, MAX_WEIGHT, "a balancing weight"),
    }
}

/// The service's groups, in file order: unique names, at least one instance each, a shape
/// (the service's unless given) and a weight.
pub(super) fn groups(
    s: &RawService,
    default_shape: &InstanceSpec,
    at: At,
    rel: &str,
) -> Result<Vec<InstanceGroup>, ConfigError> {
    let mut out: Vec<InstanceGroup> = Vec::new();
    for (k, g) in s.groups.iter().flatten().enumerate() {
        let grel = format!("{rel}.groups[{k}]");
        check_name(at, &format!("{grel}.name"), &g.name, "an instance group")?;
        if g.name == crate::simulation::REST_GROUP {
            return Err(at.err(
                &format!("{grel}.name"),
                format!("`{}` names the instances in no group in reports; call the group something else", g.name),
            ));
        }
        if out.iter().any(|o| o.name == g.name) {
            return Err(at.err(
                &format!("{grel}.name"),
                format!("two instance groups are called `{}`", g.name),
            ));
        }
        let instances = int_in(
            at,
            &format!("{grel}.instances"),
            g.instances,
            1,
            MAX_INSTANCES,
            "instances",
        )?;
        let shape = match &g.instance {
            Some(i) => instance_shape(i, at, &format!("{grel}.instance"))?,
            None => default_shape.clone(),
        };
        if shape.runtime != default_shape.runtime {
            return Err(at.err(
                &format!("{grel}.instance.runtime"),
                "a group runs the service's runtime (one program, one way of running it); give it other cores or limits",
            ));
        }
        out.push(InstanceGroup {
            name: g.name.clone(),
            instances,
            shape,
            weight: weight(at, &format!("{grel}.weight"), g.weight)?,
        });
    }
    if !out.is_empty() {
        if let Some(k) = s.schedule.iter().flatten().position(|a| a.resize.is_some()) {
            return Err(at.err(
                &format!("{rel}.schedule[{k}].resize"),
                "a resize restarts the service's instances in one new shape, which its instance groups do not have; resize a service without groups",
            ));
        }
    }
    Ok(out)
}
