//! The parts a modelled system is built from: services, their instances, the balancer in
//! front of them, and the endpoints they serve.

pub mod balancer;
pub mod endpoint;
pub mod instance;
pub mod service;
