//! A model: a system's topology and capacities, with no traffic and no duration.

pub mod graph;

use crate::components::program::{Code, Edge};
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
    /// Every endpoint's compiled program.
    pub code: Code,
    /// The call graph's edges, in the order the programs first name them.
    pub edges: Vec<Edge>,
}

impl Model {
    /// A model of `services`, their endpoints compiled.
    pub fn new(name: String, description: Option<String>, services: Vec<ServiceSpec>) -> Model {
        let (code, edges) = crate::components::program::compile_all(&services);
        Model {
            name,
            description,
            services,
            code,
            edges,
        }
    }

    /// Index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }
}
