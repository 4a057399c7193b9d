//! Variants are JSON merge patches (RFC 7396) over the model. A patch that names a service or
//! endpoint the model lacks, or removes something absent, is refused: it would silently do
//! nothing, which is the worst kind of experiment bug.

use serde_json::Value;

/// Objects keyed by user-chosen names rather than by field names: `services` and each
/// service's `endpoints`. A new key there is a typo, not a new field.
fn is_named_map(path: &[String]) -> bool {
    matches!(path, [a] if a == "services")
        || matches!(path, [a, _, c] if a == "services" && c == "endpoints")
}

fn describe(path: &[String]) -> &'static str {
    if path.len() == 1 {
        "service"
    } else {
        "endpoint"
    }
}

/// Checks that every key `patch` names exists in `target` where it must. Returns the JSON path
/// (relative to the model) and a message on failure.
pub fn check(patch: &Value, target: &Value) -> Result<(), (String, String)> {
    let mut path = Vec::new();
    check_at(patch, target, &mut path)
}

fn check_at(patch: &Value, target: &Value, path: &mut Vec<String>) -> Result<(), (String, String)> {
    let (Value::Object(p), Value::Object(t)) = (patch, target) else {
        return Ok(());
    };
    for (key, value) in p {
        match t.get(key) {
            Some(existing) => {
                path.push(key.clone());
                check_at(value, existing, path)?;
                path.pop();
            }
            None if value.is_null() => {
                path.push(key.clone());
                return Err((
                    path.join("."),
                    format!(
                        "the patch removes `{key}`, which the model does not have, so it would do nothing"
                    ),
                ));
            }
            None if is_named_map(path) => {
                let known: Vec<&str> = t.keys().map(String::as_str).collect();
                let what = describe(path);
                path.push(key.clone());
                return Err((
                    path.join("."),
                    format!(
                        "the patch names {what} `{key}`, which the model does not have (it has: {}); a variant can only change what exists",
                        known.join(", ")
                    ),
                ));
            }
            None => {}
        }
    }
    Ok(())
}

/// Applies `patch` to `target` as RFC 7396 says: objects merge key by key, `null` removes, and
/// anything else (arrays included) replaces. One addition: an object whose `kind` the patch
/// changes (a threshold autoscaler becoming target tracking) is replaced, not merged, since
/// the old kind's fields mean nothing to the new one.
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    let new_kind = p.get("kind").filter(|k| !k.is_null());
    if new_kind.is_some() && target.get("kind").is_some_and(|k| Some(k) != new_kind) {
        *target = Value::Object(Default::default());
    }
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let t = target.as_object_mut().expect("made an object above");
    for (key, value) in p {
        if value.is_null() {
            t.remove(key);
        } else {
            apply(t.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        // The example from RFC 7396, section 3.
        let mut t = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        apply(&mut t, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(t, json!({"a": "z", "c": {"d": "e"}}));
        let mut t = json!({"a": [1, 2]});
        apply(&mut t, &json!({"a": [3]}));
        assert_eq!(t, json!({"a": [3]}));
    }

    #[test]
    fn a_new_kind_replaces_the_object_instead_of_merging() {
        let mut t =
            json!({"autoscaler": {"kind": "threshold", "cooldown": "5m", "min_replicas": 2}});
        apply(
            &mut t,
            &json!({"autoscaler": {"kind": "target_tracking", "target": 0.5}}),
        );
        assert_eq!(
            t,
            json!({"autoscaler": {"kind": "target_tracking", "target": 0.5}})
        );
        // The same kind merges as usual.
        let mut t = json!({"autoscaler": {"kind": "hpa", "max_replicas": 5, "min_replicas": 2}});
        apply(
            &mut t,
            &json!({"autoscaler": {"kind": "hpa", "max_replicas": 9}}),
        );
        assert_eq!(
            t,
            json!({"autoscaler": {"kind": "hpa", "max_replicas": 9, "min_replicas": 2}})
        );
    }

    #[test]
    fn patches_that_name_nothing_are_refused() {
        let model = json!({"services": {"api": {"replicas": 1, "endpoints": {"users": {}}}}});
        assert!(check(&json!({"services": {"api": {"replicas": 3}}}), &model).is_ok());
        assert!(
            check(
                &json!({"services": {"api": {"balancer": {"kind": "random"}}}}),
                &model
            )
            .is_ok()
        );
        let (path, msg) =
            check(&json!({"services": {"apii": {"replicas": 3}}}), &model).unwrap_err();
        assert_eq!(path, "services.apii");
        assert!(
            msg.contains("service `apii`") && msg.contains("it has: api"),
            "{msg}"
        );
        let (path, _) = check(
            &json!({"services": {"api": {"endpoints": {"user": {}}}}}),
            &model,
        )
        .unwrap_err();
        assert_eq!(path, "services.api.endpoints.user");
        assert!(check(&json!({"services": {"api": {"description": null}}}), &model).is_err());
    }
}
