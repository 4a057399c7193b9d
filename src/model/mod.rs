//! A model: a system's topology and capacities, with no traffic and no duration.

pub mod graph;

use crate::components::program::{Edge, Program};
use crate::components::service::ServiceSpec;
use crate::ids::EndpointRef;

/// A validated model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Display name.
    pub name: String,
    /// What is modelled.
    pub description: Option<String>,
    /// Services, in file order.
    pub services: Vec<ServiceSpec>,
    /// Each endpoint's compiled program, by service then endpoint.
    pub programs: Vec<Vec<Program>>,
    /// The call graph's edges, in the order the programs first name them.
    pub edges: Vec<Edge>,
}

impl Model {
    /// A model of `services`, their endpoints compiled.
    pub fn new(name: String, description: Option<String>, services: Vec<ServiceSpec>) -> Model {
        let (programs, edges) = crate::components::program::compile_all(&services);
        Model {
            name,
            description,
            services,
            programs,
            edges,
        }
    }

    /// Index of the service called `name`.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|s| s.name == name)
    }

    /// The program of `r`.
    #[inline]
    pub fn program(&self, r: EndpointRef) -> &Program {
        &self.programs[r.service as usize][r.endpoint as usize]
    }
}
