//! A model: a system's topology and capacities, with no traffic and no duration.

use crate::components::service::ServiceSpec;

/// A validated model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Display name.
    pub name: String,
    /// What is modelled.
    pub description: Option<String>,
    /// Services, in file order.
    pub services: Vec<ServiceSpec>,
}

impl Model {
    /// Index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }
}
