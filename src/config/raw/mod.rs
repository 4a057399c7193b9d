//! Serde types that mirror the JSON files field for field. Unknown fields are refused. Nothing
//! here is validated beyond types: [`super::resolve`] turns these into the typed specs the
//! simulation reads, rejecting impossible values with their JSON path.
//!
//! The files of an experiment and a model are here; their parts have one file each:
//! `service.rs` (with its cost, life cycle, schedule and balancer), `instance.rs`,
//! `endpoint.rs` (steps), `autoscaler.rs`, `client.rs`, `rate.rs` (arrival-rate profiles) and
//! `dist.rs` (distributions). Every type is re-exported here.

mod autoscaler;
mod client;
mod data;
mod dist;
mod endpoint;
mod instance;
mod rate;
mod service;
mod shard;

pub use autoscaler::*;
pub use client::*;
pub use data::*;
pub use dist::*;
pub use endpoint::*;
pub use instance::*;
pub use rate::*;
pub use service::*;
pub use shard::*;

use super::quantity::Duration;
use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A JSON object of user-chosen names, read in file order, refusing a name that appears twice
/// (serde_json alone would keep the last one silently).
#[derive(Debug)]
pub struct UniqueMap<V>(pub IndexMap<String, V>);

impl<V> Default for UniqueMap<V> {
    fn default() -> Self {
        UniqueMap(IndexMap::new())
    }
}

impl<V> std::ops::Deref for UniqueMap<V> {
    type Target = IndexMap<String, V>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a, V> IntoIterator for &'a UniqueMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter = indexmap::map::Iter<'a, String, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// An object whose values are `V`. (That a name appears once cannot be said in JSON Schema: a
/// validator sees the object after parsing, duplicates gone.)
impl<V: JsonSchema> JsonSchema for UniqueMap<V> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        format!("Map_of_{}", V::schema_name()).into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("{}::UniqueMap<{}>", module_path!(), V::schema_id()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": generator.subschema_for::<V>()
        })
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for UniqueMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Vis<V> {
            type Value = UniqueMap<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object keyed by name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UniqueMap<V>, A::Error> {
                let mut out = IndexMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.contains_key(&key) {
                        return Err(de::Error::custom(format!(
                            "`{key}` appears twice; a name may appear once, or the second would silently replace the first"
                        )));
                    }
                    let value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(UniqueMap(out))
            }
        }
        d.deserialize_map(Vis(PhantomData))
    }
}

/// An experiment file: a model, the traffic that reaches it, for how long, and the variants to
/// compare.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawExperiment {
    /// The JSON Schema editors check this file against, e.g. "../schema/experiment.schema.json"
    /// (relative to this file). Ignored by Surge.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// Names the experiment in reports and in the default output directory
    /// (`results/<name>/`); defaults to the file name without extension.
    pub name: Option<String>,
    /// What the experiment shows; printed above the summary table and kept in the report.
    pub description: Option<String>,
    /// The system to simulate: a path to a model file, relative to this file (e.g.
    /// "../models/web-api.json"), or the model written inline.
    pub model: ModelSource,
    /// The clients that send traffic (at least one); each names the endpoints it calls.
    pub workload: Vec<RawClient>,
    /// Simulated time of each run, e.g. "10m" or "24h".
    pub duration: Duration,
    /// Initial period left out of the summary metrics (default "0s"); shorter than `duration`.
    pub warmup: Option<Duration>,
    /// Master seed of every random stream (default 1): the same file and seed give a
    /// byte-identical report.
    pub seed: Option<u64>,
    /// Independent replications of each variant (default 1, at most 100000); summaries give
    /// means with 95% confidence intervals over them.
    pub replications: Option<u32>,
    /// Width of a time-series bucket in timeseries.csv and the plots (default "1s").
    pub resolution: Option<Duration>,
    /// Batch means: cut the measured period of a single long run into this many equal
    /// batches and take 95% intervals from their spread (2 to 100, usually 20 to 30; needs
    /// `replications` = 1).
    #[schemars(range(min = 2, max = 100))]
    pub batch_means: Option<u32>,
    /// Service-level objective: a latency quantile target and/or an error-rate ceiling, judged
    /// per window.
    pub slo: Option<RawSlo>,
    /// Variants to compare on identical traffic, run in this order: each a JSON merge patch
    /// (RFC 7396) over the model, e.g. {"services": {"api": {"replicas": 4}}}, or {} for the
    /// model as it is. A patch can change only what the model has. Absent: the model runs as
    /// one variant, `base`.
    #[serde(default)]
    #[schemars(schema_with = "variant_patches")]
    pub variants: UniqueMap<serde_json::Value>,
    /// Parameters to sweep, read by `surge sweep` (`surge run` runs the file as written):
    /// {"mode": "grid", "parameters": [{"path": "model.services.api.replicas", "values": [2, 3, 4]}]}.
    // Kept as JSON because `surge sweep` reads it by hand (see `crate::sweep::spec`); the
    // schema comes from the schema-only `SweepSchema` beside that parser.
    #[schemars(with = "Option<crate::sweep::spec::SweepSchema>")]
    pub sweep: Option<serde_json::Value>,
}

/// `variants`: objects keyed by variant name, each a merge patch. What a patch may hold is the
/// model's business (checked when it is applied), so the schema only says "an object".
fn variant_patches(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "description": "A JSON merge patch over the model: the fields to change (null removes one), e.g. {\"services\": {\"api\": {\"replicas\": 4}}}.",
            "type": "object"
        }
    })
}

/// Where the model comes from.
#[derive(Debug)]
pub enum ModelSource {
    /// A path relative to the file that names it.
    Path(String),
    /// The model written in place.
    Inline(Box<RawModel>),
}

/// A string (the path) or a model object, as the deserializer below takes them.
impl JsonSchema for ModelSource {
    fn schema_name() -> Cow<'static, str> {
        "ModelSource".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::ModelSource").into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                {
                    "description": "A path to a model file, relative to this file.",
                    "type": "string",
                    "examples": ["../models/web-api.json"]
                },
                generator.subschema_for::<RawModel>()
            ]
        })
    }
}

impl<'de> Deserialize<'de> for ModelSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ModelSource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a path to a model file (a string) or a model object")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ModelSource, E> {
                Ok(ModelSource::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ModelSource, A::Error> {
                RawModel::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|m| ModelSource::Inline(Box::new(m)))
            }
        }
        d.deserialize_any(V)
    }
}

/// A model file: the system's topology and capacities (services, their instances, balancers,
/// endpoints, autoscalers and prices); no traffic, no duration.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawModel {
    /// The JSON Schema editors check this file against, e.g. "../schema/model.schema.json"
    /// (relative to this file). Ignored by Surge.
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// Display name (default: the file's name without extension).
    pub name: Option<String>,
    /// What is modelled.
    pub description: Option<String>,
    /// Services by name (letters, digits, `-` and `_`; the name appears in report keys).
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub services: UniqueMap<RawService>,
    /// Instance types and prices of your own, added to (or replacing) the bundled catalogue,
    /// e.g. {"c7g.large": {"vcpus": 2, "memory": "4GiB", "on_demand_per_hour": 0.0725}}.
    #[serde(default)]
    pub instance_types: UniqueMap<RawInstanceType>,
    /// Key spaces by name: which object a request is about, e.g. {"accounts": {"kind":
    /// "zipf", "keys": 1000000, "s": 0.99}}. An endpoint draws from one with `"key"`.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub keyspaces: UniqueMap<RawKeySpace>,
    /// Caches by name, used by endpoints' `cache_get`, `cache_set` and `invalidate` steps.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub caches: UniqueMap<RawCache>,
    /// Connection pools by name, used by calls' `pool`: per instance of the caller (a
    /// client-side pool) or shared by every caller (pgbouncer).
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": NAME_PATTERN }))]
    pub pools: UniqueMap<RawPool>,
}

/// The names the resolver accepts for services, endpoints and clients: non-empty, letters,
/// digits, `-` and `_` (they appear in report keys such as `service.endpoint`).
pub const NAME_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// Service-level objective.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    /// The latency quantile the target applies to, between 0 and 1 (default 0.99).
    pub quantile: Option<f64>,
    /// Latency target at that quantile, e.g. "200ms".
    pub latency: Option<Duration>,
    /// Highest acceptable fraction of requests that end in error, e.g. 0.001.
    pub error_rate: Option<f64>,
    /// Window over which the SLO is judged; a violated window adds its minutes (default
    /// "1m").
    pub window: Option<Duration>,
}
