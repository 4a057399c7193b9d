//! Traffic: who sends requests, when, and to which endpoints.

pub mod client;
pub mod keys;
pub mod rate;
pub mod renewal;
pub mod trace;

pub use client::{ClientKind, ClientSpec, MixEntry};
pub use rate::{Arrivals, Interpolation, RateProfile};
pub use renewal::Renewal;
