//! JSON Schemas of the file formats, generated from the raw serde types that parse them (so the
//! schema cannot drift from the parser), for editors' completion and checking as files are
//! typed. `surge schema` prints them; `schema/*.schema.json` keep them in the repository.
//!
//! A schema says what the parser takes: fields, types, kinds, units. What only the resolver
//! checks (names that must exist in the model, bounds, orderings, files on disk) is in the
//! field descriptions at most; `surge validate` is the full check.

use super::raw::{RawExperiment, RawModel};
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

/// The file formats that have a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaKind {
    /// An experiment file (`experiments/*.json`).
    Experiment,
    /// A model file (`models/*.json`).
    Model,
}

impl SchemaKind {
    /// Every kind, in the order `surge schema` lists them.
    pub const ALL: [SchemaKind; 2] = [SchemaKind::Experiment, SchemaKind::Model];

    /// The name on the command line and in `schema/<name>.schema.json`.
    pub fn name(self) -> &'static str {
        match self {
            SchemaKind::Experiment => "experiment",
            SchemaKind::Model => "model",
        }
    }

    /// The committed file's path, relative to the repository's root.
    pub fn file(self) -> String {
        format!("schema/{}.schema.json", self.name())
    }
}

/// The schema of `kind` as a JSON value (draft 2020-12).
pub fn schema(kind: SchemaKind) -> serde_json::Value {
    match kind {
        SchemaKind::Experiment => root::<RawExperiment>("Surge experiment"),
        SchemaKind::Model => root::<RawModel>("Surge model"),
    }
}

/// The schema of `kind` as the text `surge schema` prints and `schema/` holds: pretty-printed
/// with a trailing newline. Deterministic: properties in field order, definitions in the
/// order they are first met.
pub fn schema_text(kind: SchemaKind) -> String {
    let mut text =
        serde_json::to_string_pretty(&schema(kind)).expect("a JSON value always serializes");
    text.push('\n');
    text
}

fn root<T: JsonSchema>(title: &str) -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema: Schema = generator.into_root_schema_for::<T>();
    let serde_json::Value::Object(mut body) = schema.to_value() else {
        unreachable!("a struct's schema is an object");
    };
    // What a reader looks for first, first; the root's title would be the Rust type's name.
    let mut out = serde_json::Map::new();
    out.insert("$schema".into(), body.shift_remove("$schema").into());
    body.shift_remove("title");
    out.insert("title".into(), title.into());
    out.insert(
        "description".into(),
        body.shift_remove("description").into(),
    );
    out.extend(body);
    let mut value = serde_json::Value::Object(out);
    unwrap_descriptions(&mut value);
    value
}

/// Doc comments arrive with their line breaks; editors show descriptions as Markdown, where a
/// single line break is a space, but some show it as is. Joins the lines of each paragraph.
fn unwrap_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    serde_json::Value::String(text) if key == "description" => {
                        *text = text
                            .split("\n\n")
                            .map(|paragraph| paragraph.replace('\n', " "))
                            .collect::<Vec<_>>()
                            .join("\n\n");
                    }
                    _ => unwrap_descriptions(v),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_draft_2020_12_and_close_their_objects() {
        for kind in SchemaKind::ALL {
            let s = schema(kind);
            assert_eq!(
                s["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{kind:?}"
            );
            assert_eq!(s["additionalProperties"], false, "{kind:?}");
            assert!(s["properties"]["$schema"].is_object(), "{kind:?}");
            assert!(schema_text(kind).ends_with("}\n"));
        }
    }

    #[test]
    fn generation_is_deterministic() {
        for kind in SchemaKind::ALL {
            assert_eq!(schema_text(kind), schema_text(kind));
        }
    }
}
