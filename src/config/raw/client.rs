//! A client as the file gives it: open or closed loop, its arrivals or connections, and its
//! endpoint mix.

use super::{NAME_PATTERN, RawDist, RawRate};
use crate::config::quantity::Duration;
use schemars::{JsonSchema, Schema};
use serde::Deserialize;

/// A client: open-loop (arrivals from a rate profile or an inter-arrival distribution) or
/// closed-loop (connections).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = client_kind_fields)]
pub struct RawClient {
    /// Names the client's random streams and its rows in reports (default `client<k>`, k its
    /// index); unique, letters, digits, `-` and `_`.
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub name: Option<String>,
    /// "open" (arrivals from a `rate` or an `interarrival` distribution, whatever the
    /// responses) or "closed" (`connections` that each wait for a response before sending
    /// again).
    pub kind: RawClientKind,
    /// Open clients (this or `interarrival`): the arrival rate over time; arrivals are
    /// Poisson.
    pub rate: Option<RawRate>,
    /// Open clients (this or `rate`): the time between arrivals, drawn afresh for each gap (a
    /// renewal process): "10ms" is one every 10 ms, a gamma smoother than Poisson, a mixture
    /// of exponentials burstier. Its mean must be finite and at least 100us.
    pub interarrival: Option<RawDist<Duration>>,
    /// Closed clients (required there): connections, each with one request outstanding at a
    /// time.
    pub connections: Option<i64>,
    /// Closed clients: pause between a response and the next request (default: none).
    pub think: Option<RawDist<Duration>>,
    /// Closed clients: connections start evenly spread over this span (default: all at once).
    pub ramp_up: Option<Duration>,
    /// Closed clients: pause after an error before the connection sends again (default
    /// "1ms").
    pub error_pause: Option<Duration>,
    /// Which endpoints requests go to, with weights (at least one entry).
    pub mix: Vec<RawMixEntry>,
    /// The client gives up on a request after this long (default: never).
    pub timeout: Option<Duration>,
    /// A key space of the model whose keys are the client's users (a session, a client IP):
    /// a closed client's connection k is user k for the whole run (the space needs at least
    /// as many keys as connections); an open client's requests each draw their user. The
    /// request carries it to every endpoint without a key space of its own, and on to the
    /// calls it makes.
    pub key: Option<String>,
}

/// Open clients need exactly one of `rate` and `interarrival` and take none of the
/// closed-loop fields; closed clients need `connections` and take neither. The resolver refuses
/// the same (`resolve::client_arrivals`); the schema says it too, so editors flag it as it is
/// typed. (Where the resolver would take an explicit `null` for an absent field, the schema
/// refuses it.)
fn client_kind_fields(schema: &mut Schema) {
    let open_only = ["rate", "interarrival"];
    let closed_only = ["connections", "think", "ramp_up", "error_pause"];
    let forbid = |fields: &[&str]| -> serde_json::Map<String, serde_json::Value> {
        fields
            .iter()
            .map(|f| (f.to_string(), serde_json::Value::Bool(false)))
            .collect()
    };
    schema.insert(
        "allOf".into(),
        serde_json::json!([
            {
                "if": { "properties": { "kind": { "const": "open" } } },
                "then": {
                    "oneOf": [ { "required": ["rate"] }, { "required": ["interarrival"] } ],
                    "properties": forbid(&closed_only)
                }
            },
            {
                "if": { "properties": { "kind": { "const": "closed" } } },
                "then": { "required": ["connections"], "properties": forbid(&open_only) }
            }
        ]),
    );
}

/// Open or closed loop.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawClientKind {
    /// Arrivals do not wait for responses.
    Open,
    /// Each connection waits for its response before sending again.
    Closed,
}

/// One entry of a client's endpoint mix.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMixEntry {
    /// A service of the model.
    pub service: String,
    /// An endpoint of that service.
    pub endpoint: String,
    /// Relative weight, more than zero (default 1).
    pub weight: Option<f64>,
}
