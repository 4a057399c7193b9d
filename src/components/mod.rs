//! The parts a modelled system is built from: services, their instances and their life cycle,
//! the balancer in front of them, and the endpoints they serve.

pub mod balancer;
pub mod cache;
pub mod cost;
pub mod database;
pub mod endpoint;
pub mod health;
pub mod instance;
pub mod lifecycle;
pub mod pool;
pub mod program;
pub mod protection;
pub mod service;
pub mod session;
pub mod shard;
