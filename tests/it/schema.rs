//! The JSON Schemas of experiment and model files (`surge schema`, `schema/*.schema.json`):
//!
//! - the committed files are what the library generates today;
//! - every bundled experiment and model validates, and names its schema in `$schema`;
//! - the schema is not vacuously permissive: a table of broken files (unknown fields, wrong
//!   kinds, malformed durations, ...) fails both the schema and the loader;
//! - `surge schema` prints the same text, and refuses an unknown format with exit code 2.

use crate::support::{repo, surge, write_experiment};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use surge::config::schema::{SchemaKind, schema, schema_text};

/// The command that rewrites both committed schemas.
const REGENERATE: &str = "cargo run -- schema experiment > schema/experiment.schema.json && \
                          cargo run -- schema model > schema/model.schema.json";

fn validator(kind: SchemaKind) -> jsonschema::Validator {
    jsonschema::draft202012::new(&schema(kind)).expect("the generated schema compiles")
}

/// The schema's complaints about `doc`, one line each (empty when it validates).
fn complaints(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc)
        .map(|e| format!("at `{}`: {e}", e.instance_path()))
        .collect()
}

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no files in {dir}");
    files
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_committed_schemas_are_current() {
    for kind in SchemaKind::ALL {
        let file = repo().join(kind.file());
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == schema_text(kind),
            "{} is not what the code generates (the raw types in src/config changed?). \
             Regenerate the schemas from the repository's root with:\n\n    {REGENERATE}\n",
            kind.file()
        );
    }
}

#[test]
fn every_bundled_file_validates_and_names_its_schema() {
    let mut failures = Vec::new();
    for (dir, kind, up) in [
        ("experiments", SchemaKind::Experiment, "../"),
        ("experiments/seeds", SchemaKind::Experiment, "../../"),
        ("models", SchemaKind::Model, "../"),
    ] {
        let v = validator(kind);
        let own = format!("{up}{}", kind.file());
        for path in json_files(dir) {
            let doc = read_json(&path);
            for c in complaints(&v, &doc) {
                failures.push(format!("{}: {c}", path.display()));
            }
            if doc["$schema"] != own.as_str() {
                failures.push(format!(
                    "{}: expected \"$schema\": \"{own}\" for editors",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_bundled_model_validates_inline_in_an_experiment() {
    // As `surge sweep` sees an experiment: its model file inlined under `model`.
    let v = validator(SchemaKind::Experiment);
    let mut failures = Vec::new();
    for path in json_files("experiments")
        .into_iter()
        .chain(json_files("experiments/seeds"))
    {
        let mut doc = read_json(&path);
        if let Some(model) = doc["model"].as_str() {
            doc["model"] = read_json(&path.parent().unwrap().join(model));
        }
        for c in complaints(&v, &doc) {
            failures.push(format!("{} (model inlined): {c}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A small experiment that touches most of the format: an inline model with an HPA, memory, a
/// distribution, an open and a closed client, an SLO, a variant and a sweep.
fn base() -> Value {
    json!({
        "$schema": "../schema/experiment.schema.json",
        "model": {
            "services": {
                "api": {
                    "replicas": 2,
                    "instance": { "cores": 2, "memory": { "base": "200MiB", "per_request": "1MiB", "limit": "1GiB" } },
                    "balancer": { "kind": "least_connections" },
                    "endpoints": { "get": { "steps": [
                        { "cpu": { "kind": "exponential", "mean": "5ms" } },
                        { "io": "20ms" }
                    ] } },
                    "lifecycle": { "startup": "30s" },
                    "autoscaler": {
                        "kind": "hpa", "max_replicas": 6,
                        "metrics": [ { "type": "Resource", "name": "cpu",
                                       "target": { "type": "Utilization", "average_utilization": 60 } } ],
                        "behavior": { "scale_down": { "stabilization_window_s": 60 } },
                        "controller": { "tolerance": { "scale_up": 0.05 } }
                    }
                }
            }
        },
        "workload": [
            { "kind": "open", "rate": { "kind": "constant", "rps": 100 },
              "mix": [ { "service": "api", "endpoint": "get" } ] },
            { "name": "users", "kind": "closed", "connections": 5, "think": "1s",
              "mix": [ { "service": "api", "endpoint": "get" } ] }
        ],
        "duration": "1m",
        "slo": { "latency": "200ms" },
        "variants": { "base": {}, "three": { "services": { "api": { "replicas": 3 } } } },
        "sweep": { "parameters": [ { "path": "workload[0].rate.rps", "values": [50, 100] } ] }
    })
}

/// The first step's CPU distribution in [`base`].
const CPU: &str = "/model/services/api/endpoints/get/steps/0/cpu";

/// A mixture distribution of these components.
fn mixture(components: Value) -> Value {
    json!({ "kind": "mixture", "components": components })
}

/// A hyperexponential: 10 ms with probability 0.9, 110 ms otherwise (mean 20 ms).
fn h2() -> Value {
    mixture(json!([
        { "weight": 0.9, "dist": { "kind": "exponential", "mean": "10ms" } },
        { "weight": 0.1, "dist": { "kind": "exponential", "mean": "110ms" } }
    ]))
}

/// Sets `value` at the JSON pointer `at`, adding the last key if it is new.
fn set(doc: &mut Value, at: &str, value: Value) {
    let (parent, key) = at.rsplit_once('/').unwrap();
    match doc
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent}"))
    {
        Value::Object(o) => {
            o.insert(key.to_string(), value);
        }
        Value::Array(a) => a[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{parent} is not a container"),
    }
}

/// Removes the key at the JSON pointer `at`.
fn remove(doc: &mut Value, at: &str) {
    let (parent, key) = at.rsplit_once('/').unwrap();
    let o = doc.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    assert!(o.shift_remove(key).is_some(), "no {at}");
}

/// Whether Surge refuses `doc`: `surge validate`'s check, and `surge sweep`'s for the sweep.
fn surge_refuses(tag: &str, doc: &Value) -> bool {
    let path = write_experiment(tag, &doc.to_string());
    surge::config::load_experiment(&path).is_err() || surge::sweep::load_sweep(&path).is_err()
}

#[test]
fn the_base_case_is_valid_for_both() {
    let doc = base();
    let v = validator(SchemaKind::Experiment);
    assert_eq!(complaints(&v, &doc), Vec::<String>::new());
    assert!(!surge_refuses("schema-base", &doc));
}

/// One way to break [`base`].
enum Edit {
    /// Set the value at a JSON pointer (adding the key if new).
    Set(&'static str, Value),
    /// Remove the key at a JSON pointer.
    Remove(&'static str),
}

#[test]
fn broken_files_fail_the_schema_as_they_fail_surge() {
    use Edit::{Remove, Set};
    let cases = [
        ("unknown top-level field", Set("/colour", json!("blue"))),
        (
            "misspelt field in a service",
            Set("/model/services/api/replica", json!(3)),
        ),
        (
            "field of another kind in a tagged object",
            Set("/model/services/api/balancer/max_length", json!(3)),
        ),
        (
            "unknown balancer kind",
            Set("/model/services/api/balancer/kind", json!("least_conn")),
        ),
        (
            "unknown autoscaler kind",
            Set("/model/services/api/autoscaler/kind", json!("vpa")),
        ),
        (
            "unknown rate kind",
            Set("/workload/0/rate/kind", json!("poisson")),
        ),
        (
            "unknown distribution kind",
            Set(
                "/model/services/api/endpoints/get/steps/0/cpu/kind",
                json!("expo"),
            ),
        ),
        (
            "unknown step",
            Set(
                "/model/services/api/endpoints/get/steps/1",
                json!({ "gpu": "5ms" }),
            ),
        ),
        (
            "malformed duration",
            Set("/duration", json!("10 fortnights")),
        ),
        ("duration without a unit", Set("/duration", json!("600"))),
        ("duration as a bare number", Set("/duration", json!(600))),
        (
            "malformed step duration",
            Set(
                "/model/services/api/endpoints/get/steps/1/io",
                json!("20 ms s"),
            ),
        ),
        ("negative duration", Set("/slo/latency", json!("-200ms"))),
        (
            "malformed size",
            Set("/model/services/api/instance/memory/base", json!("lots")),
        ),
        (
            "wrong type",
            Set("/model/services/api/replicas", json!("two")),
        ),
        ("missing required field", Remove("/duration")),
        ("open client without a rate", Remove("/workload/0/rate")),
        (
            "open client with both a rate and an interarrival",
            Set("/workload/0/interarrival", json!("10ms")),
        ),
        (
            "interarrival on a closed client",
            Set("/workload/1/interarrival", json!("10ms")),
        ),
        (
            "mixture without components",
            Set(CPU, json!({ "kind": "mixture", "components": [] })),
        ),
        (
            "mixture weight of zero",
            Set(CPU, mixture(json!([{ "weight": 0, "dist": "5ms" }]))),
        ),
        (
            "negative mixture weight",
            Set(CPU, mixture(json!([{ "weight": -1, "dist": "5ms" }]))),
        ),
        (
            "mixture component without a weight",
            Set(CPU, mixture(json!([{ "dist": "5ms" }]))),
        ),
        (
            "unknown field in a mixture component",
            Set(
                CPU,
                mixture(json!([{ "weight": 1, "dist": "5ms", "share": 1 }])),
            ),
        ),
        (
            "mixture component of an unknown kind",
            Set(
                CPU,
                mixture(json!([{ "weight": 1, "dist": { "kind": "expo", "mean": "5ms" } }])),
            ),
        ),
        (
            "closed-loop field on an open client",
            Set("/workload/0/connections", json!(5)),
        ),
        (
            "closed client without connections",
            Remove("/workload/1/connections"),
        ),
        (
            "client name with a space",
            Set("/workload/1/name", json!("the users")),
        ),
        (
            "unknown HPA metric type",
            Set(
                "/model/services/api/autoscaler/metrics/0/type",
                json!("Resources"),
            ),
        ),
        (
            "unknown HPA behavior field",
            Set(
                "/model/services/api/autoscaler/behavior/scale_down/window",
                json!(60),
            ),
        ),
        (
            "HPA tolerance of an unknown direction",
            Set(
                "/model/services/api/autoscaler/controller/tolerance/both",
                json!(0.1),
            ),
        ),
        ("unknown sweep mode", Set("/sweep/mode", json!("cross"))),
        (
            "sweep parameter without values",
            Remove("/sweep/parameters/0/values"),
        ),
        (
            "variant that is not an object",
            Set("/variants/three", json!(3)),
        ),
    ];
    let v = validator(SchemaKind::Experiment);
    let mut failures = Vec::new();
    for (k, (name, edit)) in cases.into_iter().enumerate() {
        let mut doc = base();
        match edit {
            Set(at, value) => set(&mut doc, at, value),
            Remove(at) => remove(&mut doc, at),
        }
        if complaints(&v, &doc).is_empty() {
            failures.push(format!("{name}: the schema accepts it"));
        }
        if !surge_refuses(&format!("schema-case-{k}"), &doc) {
            failures.push(format!("{name}: Surge accepts it (the case is not broken)"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn variations_of_the_base_case_are_valid_for_both() {
    use Edit::{Remove, Set};
    let cases: [(&str, &[Edit]); 4] = [
        (
            "renewal client with hyperexponential gaps, swept by a weight",
            &[
                Remove("/workload/0/rate"),
                Set("/workload/0/interarrival", h2()),
                Set(
                    "/sweep/parameters/0",
                    json!({ "path": "workload[0].interarrival.components[0].weight", "values": [0.8, 0.9] }),
                ),
            ],
        ),
        (
            "renewal client with constant gaps",
            &[
                Remove("/workload/0/rate"),
                Set("/workload/0/interarrival", json!("10ms")),
                Set(
                    "/sweep/parameters/0",
                    json!({ "path": "workload[0].interarrival", "values": ["10ms", "20ms"] }),
                ),
            ],
        ),
        (
            "mixture service time with a shorthand component",
            &[Set(
                CPU,
                mixture(json!([
                    { "weight": 0.9, "dist": { "kind": "exponential", "mean": "4ms" } },
                    { "weight": 0.1, "dist": "20ms" }
                ])),
            )],
        ),
        (
            "mixture of mixtures as think time",
            &[Set(
                "/workload/1/think",
                mixture(json!([{ "weight": 1, "dist": h2() }, { "weight": 2, "dist": "1s" }])),
            )],
        ),
    ];
    let v = validator(SchemaKind::Experiment);
    let mut failures = Vec::new();
    for (k, (name, edits)) in cases.into_iter().enumerate() {
        let mut doc = base();
        for edit in edits {
            match edit {
                Set(at, value) => set(&mut doc, at, value.clone()),
                Remove(at) => remove(&mut doc, at),
            }
        }
        for c in complaints(&v, &doc) {
            failures.push(format!("{name}: the schema refuses it: {c}"));
        }
        if surge_refuses(&format!("schema-good-{k}"), &doc) {
            failures.push(format!("{name}: Surge refuses it"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_model_file_is_checked_by_the_model_schema() {
    let v = validator(SchemaKind::Model);
    let mut model = base()["model"].clone();
    assert_eq!(complaints(&v, &model), Vec::<String>::new());
    set(&mut model, "/services/api/instance/cpus", json!(2));
    let c = complaints(&v, &model);
    assert!(
        c.iter().any(|c| c.contains("/services/api/instance")),
        "{c:?}"
    );
}

#[test]
fn schema_is_ignored_by_the_loader_and_left_out_of_the_report() {
    let path = write_experiment("schema-ignored", &base().to_string());
    let exp = surge::config::load_experiment(&path).unwrap();
    assert!(exp.config.get("$schema").is_none());
    assert!(exp.config["model"].get("$schema").is_none());
}

#[test]
fn the_command_prints_the_schemas() {
    let o = surge(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        schema_text(SchemaKind::Experiment)
    );
    for kind in SchemaKind::ALL {
        let o = surge(&["schema", kind.name()]);
        assert_eq!(o.status.code(), Some(0), "{kind:?}");
        assert_eq!(String::from_utf8(o.stdout).unwrap(), schema_text(kind));
    }
}

#[test]
fn an_unknown_format_exits_2_and_lists_the_choices() {
    let o = surge(&["schema", "bogus"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(o.stdout.is_empty());
    assert!(
        stderr.contains("bogus") && stderr.contains("[possible values: experiment, model]"),
        "{stderr}"
    );
}
