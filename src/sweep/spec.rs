//! A sweep as written in an experiment file, and its expansion into points.
//!
//! ```json
//! "sweep": {
//!   "mode": "grid",
//!   "parameters": [
//!     { "path": "model.services.api.replicas", "values": [2, 3, 4] },
//!     { "path": "workload[0].rate.rps", "range": { "from": 100, "to": 1000, "steps": 4, "scale": "log" } }
//!   ]
//! }
//! ```
//!
//! A path names a value of the experiment file (with a model file inlined under `model`),
//! dotted with `[k]` for array elements, or as a JSON pointer (`/model/services/api/replicas`).
//! `grid` crosses every parameter's values (cartesian product, the last parameter varying
//! fastest); `zip` takes the k-th value of each (all lists must be as long).

use crate::config::ConfigError;
use schemars::JsonSchema;
use serde_json::Value;
use std::path::Path;

/// How parameters combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(rename = "SweepMode", rename_all = "snake_case")]
pub enum Mode {
    /// Every combination (cartesian product), the last parameter varying fastest.
    Grid,
    /// The k-th value of every parameter together (all need as many values).
    Zip,
}

/// One swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// The path as written (the parameter's name in outputs).
    pub name: String,
    /// The path's segments: object keys, or array indices.
    pub segments: Vec<Segment>,
    /// Its values, in order.
    pub values: Vec<Value>,
}

/// A step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// An object key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A sweep as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// Grid or zip.
    pub mode: Mode,
    /// The parameters, in file order.
    pub parameters: Vec<Parameter>,
}

/// Most points a sweep may expand to. Every point is validated and held as a whole experiment
/// before anything runs, so this bounds memory (10,000 points of a large experiment is a few
/// hundred MB); more is a typo (a range with a million steps) or a job for shards of
/// several sweeps.
pub const MAX_POINTS: usize = 10_000;
/// Most values one parameter may take (a list or a range's steps).
pub const MAX_VALUES: usize = 10_000;
/// Most runs (points x variants x replications) a sweep may have: each run's scalar metrics
/// are kept until the sweep is written.
pub const MAX_RUNS: usize = 100_000;

// The schema of `sweep`, for the experiment file's JSON Schema. Schema only: nothing
// deserializes into these types, because `SweepSpec::parse` reads the JSON by hand to say
// exactly what is wrong where (and `surge run` ignores the sweep). The unit test
// `the_schema_agrees_with_the_parser` holds the two together, and lists what only the parser
// can check.

/// A sweep: {"mode": "grid", "parameters": [{"path": "model.services.api.replicas",
/// "values": [2, 3, 4]}]}. Run with `surge sweep`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Sweep")]
#[allow(dead_code)]
pub struct SweepSchema {
    /// "grid" (default): every combination of the parameters' values; "zip": the k-th value
    /// of each together.
    mode: Option<Mode>,
    /// The swept parameters, at least one, each a path into the experiment with its values.
    #[schemars(length(min = 1))]
    parameters: Vec<ParameterSchema>,
}

/// A swept parameter: a path with its `values`, or with a `range`.
#[derive(JsonSchema)]
#[serde(untagged, deny_unknown_fields)]
#[schemars(rename = "SweepParameter")]
#[allow(dead_code)]
enum ParameterSchema {
    /// Values listed.
    Values {
        /// Where in the experiment: dotted with [k] for list items
        /// ("model.services.api.replicas", "workload[0].rate.rps") or a JSON pointer
        /// ("/workload/0/rate/rps"); a model file is inlined under `model`.
        path: String,
        /// The values, in order (at least one): any JSON the field takes.
        #[schemars(length(min = 1))]
        values: Vec<Value>,
    },
    /// Evenly spaced numbers.
    Range {
        /// Where in the experiment: dotted with [k] for list items
        /// ("model.services.api.replicas", "workload[0].rate.rps") or a JSON pointer
        /// ("/workload/0/rate/rps"); a model file is inlined under `model`.
        path: String,
        /// `steps` numbers from `from` to `to`.
        range: RangeSchema,
    },
}

/// `steps` evenly spaced numbers from `from` to `to`: `{"from": 1, "to": 10, "steps": 10,
/// "scale": "linear"}`. Whole numbers come out as JSON integers, so they fit integer fields
/// such as `replicas`.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SweepRange", transform = log_needs_positive_ends)]
#[allow(dead_code)]
struct RangeSchema {
    /// The first value.
    from: f64,
    /// The last value.
    to: f64,
    /// How many values, 1 to 10000.
    #[schemars(range(min = 1, max = MAX_VALUES))]
    steps: u64,
    /// "linear" (default) or "log" (evenly spaced ratios; both ends above zero).
    scale: Option<ScaleSchema>,
}

/// How a range spaces its values.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "SweepScale")]
#[allow(dead_code)]
enum ScaleSchema {
    /// Equal differences.
    Linear,
    /// Equal ratios.
    Log,
}

/// A log range's ends must be above zero (as `range` refuses otherwise).
fn log_needs_positive_ends(schema: &mut schemars::Schema) {
    schema.insert(
        "if".into(),
        serde_json::json!({ "properties": { "scale": { "const": "log" } }, "required": ["scale"] }),
    );
    schema.insert(
        "then".into(),
        serde_json::json!({ "properties": {
            "from": { "exclusiveMinimum": 0 },
            "to": { "exclusiveMinimum": 0 }
        } }),
    );
}

impl SweepSpec {
    /// Parses the `sweep` object of `file`.
    pub fn parse(value: &Value, file: &Path) -> Result<SweepSpec, ConfigError> {
        let err = |path: &str, msg: String| ConfigError::invalid(file, path, msg);
        let Value::Object(obj) = value else {
            return Err(err(
                "sweep",
                "a sweep is an object with `mode` and `parameters`".into(),
            ));
        };
        for key in obj.keys() {
            if !["mode", "parameters"].contains(&key.as_str()) {
                return Err(err(
                    &format!("sweep.{key}"),
                    format!("unknown field `{key}`, expected `mode` or `parameters`"),
                ));
            }
        }
        let mode = match obj.get("mode") {
            None | Some(Value::Null) => Mode::Grid,
            Some(Value::String(m)) if m == "grid" => Mode::Grid,
            Some(Value::String(m)) if m == "zip" => Mode::Zip,
            Some(Value::String(other)) => {
                return Err(err(
                    "sweep.mode",
                    format!("unknown mode `{other}`, expected `grid` or `zip`"),
                ));
            }
            // Not a string: once taken as `grid` without a word.
            Some(other) => {
                return Err(err(
                    "sweep.mode",
                    format!("expected `grid` or `zip`, found {other}"),
                ));
            }
        };
        let Some(Value::Array(list)) = obj.get("parameters") else {
            return Err(err(
                "sweep.parameters",
                "expected a list of parameters, each `{\"path\": ..., \"values\": [...]}` or `{\"path\": ..., \"range\": {...}}`".into(),
            ));
        };
        if list.is_empty() {
            return Err(err(
                "sweep.parameters",
                "a sweep needs at least one parameter".into(),
            ));
        }
        let mut parameters: Vec<Parameter> = Vec::new();
        // A grid's size is checked as it grows, so sixty parameters of many values each are
        // refused before they are all expanded.
        let mut grid_points = 1usize;
        for (k, p) in list.iter().enumerate() {
            let rel = format!("sweep.parameters[{k}]");
            let p = parameter(p, &rel, file)?;
            grid_points = grid_points.saturating_mul(p.values.len());
            if mode == Mode::Grid && grid_points > MAX_POINTS {
                return Err(err(
                    "sweep.parameters",
                    format!(
                        "the grid of the first {} parameters already has more than {MAX_POINTS} points (each point is a whole experiment held in memory); sweep fewer values, or split the sweep into several files",
                        k + 1
                    ),
                ));
            }
            parameters.push(p);
        }
        for (i, a) in parameters.iter().enumerate() {
            if parameters[..i].iter().any(|b| b.segments == a.segments) {
                return Err(err(
                    &format!("sweep.parameters[{i}].path"),
                    format!("`{}` is swept twice", a.name),
                ));
            }
        }
        let spec = SweepSpec { mode, parameters };
        if mode == Mode::Zip {
            let n = spec.parameters[0].values.len();
            if let Some((i, p)) = spec
                .parameters
                .iter()
                .enumerate()
                .find(|(_, p)| p.values.len() != n)
            {
                return Err(err(
                    &format!("sweep.parameters[{i}]"),
                    format!(
                        "in `zip` mode every parameter needs as many values as the first ({n}); `{}` has {}",
                        p.name,
                        p.values.len()
                    ),
                ));
            }
        }
        let count = spec.count();
        if count > MAX_POINTS {
            return Err(err(
                "sweep.parameters",
                format!(
                    "the sweep expands to {count} points, more than {MAX_POINTS} (each point is a whole experiment held in memory); sweep fewer values, or split the sweep into several files"
                ),
            ));
        }
        Ok(spec)
    }

    /// Points the sweep expands to (saturating).
    pub fn count(&self) -> usize {
        match self.mode {
            Mode::Zip => self.parameters[0].values.len(),
            Mode::Grid => self
                .parameters
                .iter()
                .fold(1usize, |n, p| n.saturating_mul(p.values.len())),
        }
    }

    /// The values of point `k`, one per parameter (grid: the last parameter varies fastest).
    pub fn point(&self, k: usize) -> Vec<&Value> {
        match self.mode {
            Mode::Zip => self.parameters.iter().map(|p| &p.values[k]).collect(),
            Mode::Grid => {
                let mut rest = k;
                let mut out = vec![&Value::Null; self.parameters.len()];
                for (i, p) in self.parameters.iter().enumerate().rev() {
                    let n = p.values.len();
                    out[i] = &p.values[rest % n];
                    rest /= n;
                }
                out
            }
        }
    }
}

fn parameter(p: &Value, rel: &str, file: &Path) -> Result<Parameter, ConfigError> {
    let err = |path: String, msg: String| ConfigError::invalid(file, path, msg);
    let Value::Object(obj) = p else {
        return Err(err(
            rel.into(),
            "a parameter is `{\"path\": ..., \"values\": [...]}` or `{\"path\": ..., \"range\": {...}}`".into(),
        ));
    };
    for key in obj.keys() {
        if !["path", "values", "range"].contains(&key.as_str()) {
            return Err(err(
                format!("{rel}.{key}"),
                format!("unknown field `{key}`, expected `path`, `values` or `range`"),
            ));
        }
    }
    let Some(name) = obj.get("path").and_then(Value::as_str) else {
        return Err(err(
            format!("{rel}.path"),
            "expected a path such as \"model.services.api.replicas\" or \"/workload/0/rate/rps\""
                .into(),
        ));
    };
    let segments = parse_path(name).map_err(|m| err(format!("{rel}.path"), m))?;
    let values = match (obj.get("values"), obj.get("range")) {
        (Some(Value::Array(v)), None) if v.len() > MAX_VALUES => {
            return Err(err(
                format!("{rel}.values"),
                format!(
                    "{} values, more than the {MAX_VALUES} a parameter may take",
                    v.len()
                ),
            ));
        }
        (Some(Value::Array(v)), None) if !v.is_empty() => v.clone(),
        (Some(_), None) => {
            return Err(err(
                format!("{rel}.values"),
                "expected a non-empty list of values".into(),
            ));
        }
        (None, Some(r)) => range(r, &format!("{rel}.range"), file)?,
        _ => {
            return Err(err(
                rel.into(),
                "give a parameter either `values` or `range`".into(),
            ));
        }
    };
    Ok(Parameter {
        name: name.to_string(),
        segments,
        values,
    })
}

/// `{"from": a, "to": b, "steps": n, "scale": "linear" | "log"}`: n values from a to b.
/// Whole numbers come out as JSON integers, so they fit integer fields such as `replicas`.
fn range(r: &Value, rel: &str, file: &Path) -> Result<Vec<Value>, ConfigError> {
    let err = |path: String, msg: String| ConfigError::invalid(file, path, msg);
    let Value::Object(obj) = r else {
        return Err(err(
            rel.into(),
            "a range is `{\"from\": 1, \"to\": 10, \"steps\": 10, \"scale\": \"linear\"}`".into(),
        ));
    };
    for key in obj.keys() {
        if !["from", "to", "steps", "scale"].contains(&key.as_str()) {
            return Err(err(
                format!("{rel}.{key}"),
                format!("unknown field `{key}`, expected `from`, `to`, `steps` or `scale`"),
            ));
        }
    }
    let num = |key: &str| -> Result<f64, ConfigError> {
        obj.get(key)
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite())
            .ok_or_else(|| err(format!("{rel}.{key}"), "expected a number".into()))
    };
    let (from, to) = (num("from")?, num("to")?);
    let steps = match obj.get("steps").and_then(Value::as_u64) {
        Some(n) if (1..=MAX_VALUES as u64).contains(&n) => n as usize,
        _ => {
            return Err(err(
                format!("{rel}.steps"),
                format!("expected a whole number of values from 1 to {MAX_VALUES}"),
            ));
        }
    };
    let log = match obj.get("scale") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "linear" => false,
        Some(Value::String(s)) if s == "log" => true,
        Some(Value::String(other)) => {
            return Err(err(
                format!("{rel}.scale"),
                format!("unknown scale `{other}`, expected `linear` or `log`"),
            ));
        }
        // Not a string: once taken as `linear` without a word.
        Some(other) => {
            return Err(err(
                format!("{rel}.scale"),
                format!("expected `linear` or `log`, found {other}"),
            ));
        }
    };
    if log && (from <= 0.0 || to <= 0.0) {
        return Err(err(
            rel.into(),
            format!("a log range needs positive ends, got {from} to {to}"),
        ));
    }
    Ok((0..steps)
        .map(|k| {
            let f = if steps == 1 {
                0.0
            } else {
                k as f64 / (steps - 1) as f64
            };
            let v = if log {
                from * (to / from).powf(f)
            } else {
                from + (to - from) * f
            };
            // Ends exactly as written, whatever the rounding of the steps in between.
            let v = if k + 1 == steps && steps > 1 { to } else { v };
            number(v)
        })
        .collect())
}

/// A JSON number: an integer when `v` is whole (within 1e-9), else a float.
fn number(v: f64) -> Value {
    let r = v.round();
    if (v - r).abs() < 1e-9 && r.abs() < 9.0e15 {
        Value::from(r as i64)
    } else {
        Value::from(v)
    }
}

/// Parses `a.b[2].c` or `/a/b/2/c` into segments.
pub fn parse_path(text: &str) -> Result<Vec<Segment>, String> {
    let bad = || format!("cannot read the path \"{text}\": expected `a.b[0].c` or `/a/b/0/c`");
    let mut out = Vec::new();
    if let Some(pointer) = text.strip_prefix('/') {
        for raw in pointer.split('/') {
            let key = raw.replace("~1", "/").replace("~0", "~");
            out.push(match key.parse::<usize>() {
                Ok(i) if !key.starts_with('+') => Segment::Index(i),
                _ => Segment::Key(key),
            });
        }
    } else {
        for part in text.split('.') {
            let (key, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            if key.is_empty() && out.is_empty() && rest.is_empty() {
                return Err(bad());
            }
            if !key.is_empty() {
                out.push(Segment::Key(key.to_string()));
            }
            while let Some(inner) = rest.strip_prefix('[') {
                let close = inner.find(']').ok_or_else(bad)?;
                let index = inner[..close].parse::<usize>().map_err(|_| bad())?;
                out.push(Segment::Index(index));
                rest = &inner[close + 1..];
            }
            if !rest.is_empty() {
                return Err(bad());
            }
        }
    }
    if out.is_empty() {
        return Err(bad());
    }
    Ok(out)
}

/// Sets `value` at `segments` in `doc`. Everything but the last step must exist (a sweep
/// that names nothing would silently sweep nothing); the last may be a new object key.
pub fn set(doc: &mut Value, segments: &[Segment], value: Value) -> Result<(), String> {
    let (last, parents) = segments.split_last().expect("paths are never empty");
    let mut at = doc;
    let mut walked = String::new();
    for s in parents {
        at = match (s, at) {
            (Segment::Key(k), Value::Object(o)) => {
                walked.push_str(&format!(".{k}"));
                o.get_mut(k)
                    .ok_or_else(|| format!("`{}` does not exist", &walked[1..]))?
            }
            (Segment::Index(i), Value::Array(a)) => {
                walked.push_str(&format!("[{i}]"));
                let n = a.len();
                a.get_mut(*i)
                    .ok_or_else(|| format!("`{}` is past the end of a list of {n}", &walked[1..]))?
            }
            (s, _) => {
                return Err(format!(
                    "cannot step into `{s:?}` at `{}`",
                    walked.trim_start_matches('.')
                ));
            }
        };
    }
    match (last, at) {
        (Segment::Key(k), Value::Object(o)) => {
            o.insert(k.clone(), value);
            Ok(())
        }
        (Segment::Index(i), Value::Array(a)) if *i < a.len() => {
            a[*i] = value;
            Ok(())
        }
        (s, _) => Err(format!(
            "cannot set `{s:?}` under `{}`",
            walked.trim_start_matches('.')
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(v: Value) -> Result<SweepSpec, String> {
        SweepSpec::parse(&v, Path::new("e.json")).map_err(|e| e.to_string())
    }

    #[test]
    fn grid_crosses_with_the_last_parameter_fastest() {
        let s = spec(json!({"mode": "grid", "parameters": [
            {"path": "a", "values": [1, 2]},
            {"path": "b", "values": ["x", "y", "z"]}]}))
        .unwrap();
        assert_eq!(s.count(), 6);
        let all: Vec<Vec<Value>> = (0..6)
            .map(|k| s.point(k).into_iter().cloned().collect())
            .collect();
        assert_eq!(all[0], vec![json!(1), json!("x")]);
        assert_eq!(all[2], vec![json!(1), json!("z")]);
        assert_eq!(all[3], vec![json!(2), json!("x")]);
        assert_eq!(all[5], vec![json!(2), json!("z")]);
    }

    #[test]
    fn zip_matches_values_and_needs_equal_lengths() {
        let s = spec(json!({"mode": "zip", "parameters": [
            {"path": "a", "values": [1, 2, 3]},
            {"path": "b", "values": [10, 20, 30]}]}))
        .unwrap();
        assert_eq!(s.count(), 3);
        assert_eq!(s.point(1), vec![&json!(2), &json!(20)]);
        let e = spec(json!({"mode": "zip", "parameters": [
            {"path": "a", "values": [1, 2, 3]},
            {"path": "b", "values": [10]}]}))
        .unwrap_err();
        assert!(
            e.contains("sweep.parameters[1]") && e.contains("as many values"),
            "{e}"
        );
    }

    #[test]
    fn ranges_are_linear_or_log_and_whole_numbers_stay_integers() {
        let s = spec(json!({"parameters": [
            {"path": "a", "range": {"from": 2, "to": 10, "steps": 5}}]}))
        .unwrap();
        assert_eq!(
            s.parameters[0].values,
            vec![json!(2), json!(4), json!(6), json!(8), json!(10)]
        );
        let s = spec(json!({"parameters": [
            {"path": "a", "range": {"from": 1, "to": 1000, "steps": 4, "scale": "log"}}]}))
        .unwrap();
        assert_eq!(
            s.parameters[0].values,
            vec![json!(1), json!(10), json!(100), json!(1000)]
        );
        let s = spec(json!({"parameters": [
            {"path": "a", "range": {"from": 0.1, "to": 0.2, "steps": 3}}]}))
        .unwrap();
        assert_eq!(
            s.parameters[0].values[1].as_f64().unwrap(),
            0.15000000000000002
        );
        assert!(spec(json!({"parameters": [{"path": "a", "range": {"from": 0, "to": 1, "steps": 3, "scale": "log"}}]})).is_err());
    }

    #[test]
    fn paths_are_dotted_or_pointers() {
        use Segment::*;
        let want = vec![
            Key("workload".into()),
            Index(0),
            Key("rate".into()),
            Key("rps".into()),
        ];
        assert_eq!(parse_path("workload[0].rate.rps").unwrap(), want);
        assert_eq!(parse_path("/workload/0/rate/rps").unwrap(), want);
        assert!(parse_path("a[x]").is_err());
        assert!(parse_path("").is_err());
    }

    #[test]
    fn setting_needs_the_parents_to_exist() {
        let mut doc =
            json!({"model": {"services": {"api": {"replicas": 3}}}, "workload": [{"rate": {}}]});
        set(
            &mut doc,
            &parse_path("model.services.api.replicas").unwrap(),
            json!(5),
        )
        .unwrap();
        set(
            &mut doc,
            &parse_path("workload[0].rate.rps").unwrap(),
            json!(100),
        )
        .unwrap();
        assert_eq!(doc["model"]["services"]["api"]["replicas"], json!(5));
        assert_eq!(doc["workload"][0]["rate"]["rps"], json!(100));
        let e = set(
            &mut doc,
            &parse_path("model.services.apii.replicas").unwrap(),
            json!(1),
        )
        .unwrap_err();
        assert!(e.contains("model.services.apii"), "{e}");
        assert!(set(&mut doc, &parse_path("workload[3].rate").unwrap(), json!(1)).is_err());
    }

    #[test]
    fn the_schema_agrees_with_the_parser() {
        let schema = serde_json::to_value(schemars::schema_for!(SweepSchema)).unwrap();
        let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
        let p = |extra: Value| {
            let mut v = json!({"path": "a"});
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({ "parameters": [v] })
        };
        let both_accept = [
            p(json!({"values": [1, "x", null]})),
            json!({"mode": "grid", "parameters": [{"path": "a", "values": [1]}, {"path": "b", "values": [2, 3]}]}),
            json!({"mode": "zip", "parameters": [{"path": "/a/0", "values": [1, 2]}]}),
            json!({"mode": null, "parameters": [{"path": "a", "values": [1]}]}),
            p(json!({"range": {"from": 1, "to": 10, "steps": 10}})),
            p(json!({"range": {"from": 1, "to": 1000, "steps": 4, "scale": "log"}})),
            p(json!({"range": {"from": -1, "to": 1, "steps": 3, "scale": "linear"}})),
        ];
        let both_refuse = [
            json!([]),
            json!({}),
            json!({"parameters": []}),
            json!({"parameters": [{"path": "a", "values": [1]}], "extra": 1}),
            json!({"mode": "cross", "parameters": [{"path": "a", "values": [1]}]}),
            json!({"mode": 5, "parameters": [{"path": "a", "values": [1]}]}),
            json!({"parameters": {"path": "a", "values": [1]}}),
            json!({"parameters": ["a"]}),
            p(json!({})),
            p(json!({"values": []})),
            p(json!({"values": 5})),
            p(json!({"values": [1], "range": {"from": 1, "to": 2, "steps": 2}})),
            p(json!({"values": [1], "extra": 1})),
            json!({"parameters": [{"values": [1]}]}),
            json!({"parameters": [{"path": 5, "values": [1]}]}),
            p(json!({"range": {"from": 1, "to": 2}})),
            p(json!({"range": {"from": "1", "to": 2, "steps": 2}})),
            p(json!({"range": {"from": 1, "to": 2, "steps": 0}})),
            p(json!({"range": {"from": 1, "to": 2, "steps": 1_000_001}})),
            p(json!({"range": {"from": 1, "to": 2, "steps": -1}})),
            p(json!({"range": {"from": 1, "to": 2, "steps": 2.5}})),
            p(json!({"range": {"from": 1, "to": 2, "steps": 2, "scale": "ln"}})),
            p(json!({"range": {"from": 1, "to": 2, "steps": 2, "scale": 1}})),
            p(json!({"range": {"from": 0, "to": 2, "steps": 2, "scale": "log"}})),
            p(json!({"range": {"from": 1, "to": -2, "steps": 2, "scale": "log"}})),
            p(json!({"range": {"from": 1, "to": 2, "steps": 2, "by": 1}})),
        ];
        // What only the parser can check: a path's syntax, duplicate paths, equal lengths in
        // zip mode, the number of points, and (JSON Schema's `integer` taking 2.0) whole
        // steps written with a fraction.
        let only_the_parser_refuses = [
            json!({"parameters": [{"path": "a[x]", "values": [1]}]}),
            json!({"parameters": [{"path": "a", "values": [1]}, {"path": "a", "values": [2]}]}),
            json!({"mode": "zip", "parameters": [{"path": "a", "values": [1]}, {"path": "b", "values": [1, 2]}]}),
            json!({"parameters": [
                {"path": "a", "range": {"from": 1, "to": 2, "steps": 1000}},
                {"path": "b", "range": {"from": 1, "to": 2, "steps": 1001}}]}),
            p(json!({"range": {"from": 1, "to": 2, "steps": 2.0}})),
        ];
        for v in both_accept {
            assert!(spec(v.clone()).is_ok(), "the parser refuses {v}");
            assert!(validator.is_valid(&v), "the schema refuses {v}");
        }
        for v in both_refuse {
            assert!(spec(v.clone()).is_err(), "the parser accepts {v}");
            assert!(!validator.is_valid(&v), "the schema accepts {v}");
        }
        for v in only_the_parser_refuses {
            assert!(spec(v.clone()).is_err(), "the parser accepts {v}");
            assert!(validator.is_valid(&v), "the schema refuses {v}");
        }
    }

    #[test]
    fn a_mode_or_scale_that_is_no_string_is_refused() {
        let e = spec(json!({"mode": 5, "parameters": [{"path": "a", "values": [1]}]})).unwrap_err();
        assert!(
            e.contains("at `sweep.mode`") && e.contains("found 5"),
            "{e}"
        );
        let e = spec(json!({"parameters": [{"path": "a", "range": {"from": 1, "to": 2, "steps": 2, "scale": true}}]}))
            .unwrap_err();
        assert!(
            e.contains("at `sweep.parameters[0].range.scale`") && e.contains("found true"),
            "{e}"
        );
    }

    #[test]
    fn bad_sweeps_name_their_json_path() {
        for (v, path) in [
            (
                json!({"mode": "cross", "parameters": [{"path": "a", "values": [1]}]}),
                "sweep.mode",
            ),
            (json!({"parameters": []}), "sweep.parameters"),
            (
                json!({"parameters": [{"path": "a"}]}),
                "sweep.parameters[0]",
            ),
            (
                json!({"parameters": [{"path": "a", "values": [1], "range": {}}]}),
                "sweep.parameters[0]",
            ),
            (
                json!({"parameters": [{"path": "a", "range": {"from": 1, "to": 2, "steps": 0}}]}),
                "sweep.parameters[0].range.steps",
            ),
            (
                json!({"parameters": [{"path": "a", "values": [1]}, {"path": "a", "values": [2]}]}),
                "sweep.parameters[1].path",
            ),
            (
                json!({"parameters": [{"path": "a", "values": [1], "extra": 1}]}),
                "sweep.parameters[0].extra",
            ),
        ] {
            let e = spec(v).unwrap_err();
            assert!(e.contains(&format!("at `{path}`")), "{path}: {e}");
        }
    }
}
