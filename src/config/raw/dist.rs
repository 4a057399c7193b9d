//! Distributions as the file gives them: a quantity's shorthand for a constant, or an object
//! with a `kind` (mixtures of them included).

use crate::config::quantity::Quantity;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// A distribution: a string shorthand for a constant ("20ms") or an object with a `kind`.
#[derive(Debug)]
pub enum RawDist<Q> {
    /// A constant written as a plain quantity.
    Shorthand(Q),
    /// A full specification.
    Spec(DistSpec<Q>),
}

/// The shorthand (whatever `Q` accepts) or a distribution object, as deserialized below.
impl<Q: JsonSchema> JsonSchema for RawDist<Q> {
    fn schema_name() -> Cow<'static, str> {
        format!("Dist_of_{}", Q::schema_name()).into()
    }

    fn schema_id() -> Cow<'static, str> {
        format!("{}::RawDist<{}>", module_path!(), Q::schema_id()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A constant written as a plain value (\"20ms\"), or a distribution object with a `kind`, e.g. {\"kind\": \"exponential\", \"mean\": \"20ms\"}.",
            "anyOf": [
                generator.subschema_for::<Q>(),
                generator.subschema_for::<DistSpec<Q>>()
            ]
        })
    }
}

impl<'de, Q: Quantity> Deserialize<'de> for RawDist<Q> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<Q>(PhantomData<Q>);
        impl<'de, Q: Quantity> Visitor<'de> for V<Q> {
            type Value = RawDist<Q>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a constant like \"20ms\", or a distribution object such as {\"kind\": \"exponential\", \"mean\": \"20ms\"}",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDist<Q>, E> {
                Q::parse_str(v).map(RawDist::Shorthand).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDist<Q>, E> {
                Q::deserialize(de::value::U64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDist<Q>, E> {
                Q::deserialize(de::value::I64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDist<Q>, E> {
                Q::deserialize(de::value::F64Deserializer::<E>::new(v)).map(RawDist::Shorthand)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDist<Q>, A::Error> {
                DistSpec::deserialize(de::value::MapAccessDeserializer::new(map)).map(RawDist::Spec)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The distribution kinds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    bound = "Q: Quantity"
)]
pub enum DistSpec<Q> {
    /// Always `value`.
    Constant {
        /// The value.
        value: Q,
    },
    /// Exponential with the given mean.
    Exponential {
        /// The mean.
        mean: Q,
    },
    /// Uniform between `min` and `max`.
    Uniform {
        /// The smallest value.
        min: Q,
        /// The largest value.
        max: Q,
    },
    /// Normal truncated at zero.
    Normal {
        /// The mean (before truncation).
        mean: Q,
        /// The standard deviation (before truncation).
        std_dev: Q,
    },
    /// Log-normal by `mean` and `p99`, or by `mu` and `sigma` of ln(x in base units).
    Lognormal {
        /// The mean (with `p99`).
        mean: Option<Q>,
        /// The 99th percentile (with `mean`).
        p99: Option<Q>,
        /// Mean of the natural log of the value in seconds or bytes (with `sigma`).
        mu: Option<f64>,
        /// Standard deviation of the natural log of the value (with `mu`).
        sigma: Option<f64>,
    },
    /// Gamma by `shape` and either `scale` or `mean`.
    Gamma {
        /// The shape parameter k.
        shape: f64,
        /// The scale parameter theta (or give `mean`).
        scale: Option<Q>,
        /// The mean, k theta (or give `scale`).
        mean: Option<Q>,
    },
    /// Pareto by minimum `scale` and tail index `shape`.
    Pareto {
        /// The minimum value.
        scale: Q,
        /// The tail index alpha (the mean is finite above 1).
        shape: f64,
    },
    /// One of `values`, with optional `weights`.
    Empirical {
        /// The values to draw from.
        values: Vec<Q>,
        /// Relative weights, one per value (default: all equal).
        weights: Option<Vec<f64>>,
    },
    /// A weighted mixture: each draw picks a component by weight, then draws from its
    /// distribution (a mixture of exponentials is a hyperexponential).
    Mixture {
        /// 1 to 1000 components; mixtures nest at most 4 deep.
        #[schemars(length(min = 1, max = crate::distribution::MAX_MIXTURE_COMPONENTS))]
        components: Vec<RawMixtureComponent<Q>>,
    },
}

/// One component of a mixture.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, bound = "Q: Quantity")]
pub struct RawMixtureComponent<Q> {
    /// Relative weight, more than zero (the weights are normalised to sum to one).
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub weight: f64,
    /// The component's distribution: any kind, or the shorthand for a constant.
    pub dist: RawDist<Q>,
}
