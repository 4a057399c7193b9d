//! What instances cost: an on-demand or spot price per instance-hour by type, and a reserved
//! baseline paid whether used or not, as cloud bills work. Spot capacity comes with its
//! interruptions (the simulation takes interrupted instances away with their requests), so a
//! spot price never appears without its risk.

/// A priced instance type.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceType {
    /// Name, e.g. `m5.large`.
    pub name: String,
    /// vCPUs, for reference.
    pub vcpus: u32,
    /// Memory in GiB, for reference.
    pub memory_gib: f64,
    /// On-demand price, USD per hour.
    pub on_demand_per_hour: f64,
    /// Effective hourly price of a one-year reservation, USD.
    pub reserved_per_hour: f64,
}

/// The bundled catalogue: Linux prices in USD per hour, rounded, in the shape of AWS us-east-1
/// list prices (on-demand; one-year no-upfront reserved). Good enough to compare
/// strategies; put your own in the model's `instance_types` for a real bill.
pub fn catalogue() -> Vec<InstanceType> {
    let t = |name: &str, vcpus, memory_gib, on_demand_per_hour, reserved_per_hour| InstanceType {
        name: name.to_string(),
        vcpus,
        memory_gib,
        on_demand_per_hour,
        reserved_per_hour,
    };
    vec![
        t("t3.medium", 2, 4.0, 0.0416, 0.0260),
        t("m5.large", 2, 8.0, 0.0960, 0.0600),
        t("m5.xlarge", 4, 16.0, 0.1920, 0.1200),
        t("m5.2xlarge", 8, 32.0, 0.3840, 0.2400),
        t("c5.large", 2, 4.0, 0.0850, 0.0540),
        t("r5.large", 2, 16.0, 0.1260, 0.0790),
    ]
}

/// How a service is billed.
#[derive(Debug, Clone, PartialEq)]
pub struct CostSpec {
    /// The instance type's name, for reports.
    pub instance_type: String,
    /// USD per on-demand instance-hour.
    pub on_demand_per_hour: f64,
    /// Instances reserved: paid for the whole run at `reserved_per_hour`, used first.
    pub reserved: u32,
    /// USD per reserved instance-hour.
    pub reserved_per_hour: f64,
    /// Instances launched beyond the reservation run on spot capacity.
    pub spot: Option<SpotSpec>,
}

/// Spot capacity: cheaper, and taken back by the cloud at random.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpotSpec {
    /// USD per spot instance-hour.
    pub price_per_hour: f64,
    /// Interruptions per instance-hour (an exponential lifetime; 0.05 is one in twenty hours).
    pub interruptions_per_hour: f64,
    /// Warning before the interruption (AWS gives 2 minutes). With a warning the instance is
    /// drained and replaced at once, as a node termination handler does; without one it is
    /// lost with its requests and replaced when it is gone.
    pub notice: crate::kernel::SimDuration,
}

/// Spot price when the file gives none: a third of on-demand, in the range of typical
/// discounts for general-purpose types.
pub const DEFAULT_SPOT_FRACTION: f64 = 0.35;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_the_shapes_the_docs_name() {
        let names: Vec<String> = catalogue().into_iter().map(|t| t.name).collect();
        for n in ["t3.medium", "m5.large", "m5.xlarge", "r5.large"] {
            assert!(names.iter().any(|x| x == n), "{n}");
        }
    }
}
