//! Sessions in instances' memory: found only where the balancer last sent the key, lost with
//! the process; the bundled `stateful-sessions` experiment through a scale-out and a scale-in.

use crate::support::{assert_error_at, experiment, load_error, repo, run_conserved, summary_of};
use surge::metrics::Outcome;

/// One user (a closed connection with its own key) sending a request every 10 ms to four
/// instances that keep sessions in memory, behind `balancer`; the first instance crashes at
/// 5 s and comes back.
fn one_user(balancer: &str) -> String {
    format!(
        r#"{{ "duration": "10s", "warmup": "0s", "seed": 2,
          "model": {{ "keyspaces": {{ "users": {{ "kind": "uniform", "keys": 1 }} }},
            "services": {{ "api": {{ "replicas": 4, "instance": {{ "cores": 1 }},
              "balancer": {{ {balancer} }}, "sessions": {{ "on_miss": "fail" }},
              "faults": [ {{ "at": "5s", "for": "1s", "kind": "crash" }} ],
              "endpoints": {{ "e": {{ "key": "users", "steps": [ {{ "cpu": "1ms" }} ] }} }} }} }} }},
          "workload": [ {{ "kind": "closed", "connections": 1, "think": "9ms", "key": "users",
                           "mix": [ {{ "service": "api", "endpoint": "e" }} ] }} ] }}"#
    )
}

/// Round robin sends one user's requests to each instance in turn: after the first, which
/// starts the session, every request finds it elsewhere and fails; a consistent-hash
/// balancer keeps the user on one instance, so every request finds it, except the first
/// after the crash (all four restart at 5 s, and the session went with the process).
#[test]
fn a_session_is_found_only_where_the_balancer_sent_its_key_last() {
    let rr = run_conserved(&experiment(
        "sessions-rr",
        &one_user(r#""kind": "round_robin""#),
    ));
    let s = summary_of(&rr, "base");
    let t = s.services["api"].sessions.expect("session figures");
    assert_eq!(t.new, 1, "{t:?}");
    assert_eq!(t.found, 0, "{t:?}");
    assert_eq!(t.elsewhere + t.lost + 1, t.requests, "{t:?}");
    assert_eq!(
        s.outcomes.get(Outcome::Failed.name()).copied().unwrap_or(0),
        t.elsewhere + t.lost
    );

    let sticky = run_conserved(&experiment(
        "sessions-hash",
        &one_user(r#""kind": "consistent_hash""#),
    ));
    let t = summary_of(&sticky, "base").services["api"]
        .sessions
        .unwrap();
    assert_eq!((t.new, t.elsewhere, t.lost), (1, 0, 1), "{t:?}");
    assert_eq!(t.found + 2, t.requests, "{t:?}");
}

/// The bundled experiment: round robin over 4, 6 then 3 instances misses about three
/// sessions in four (1 - 1/n), hashing the user misses only where the fleet changed (under
/// 1%), both lose the sessions of the instances the scale-in removed, and a shared store
/// loses none.
#[test]
fn the_bundled_sessions_experiment_compares_memory_hashing_and_a_store() {
    let path = repo().join("experiments/stateful-sessions.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let results = run_conserved(&experiment("stateful-sessions", &text));
    let rr = summary_of(&results, "in-memory-round-robin").services["api"]
        .sessions
        .unwrap();
    let sticky = summary_of(&results, "in-memory-sticky").services["api"]
        .sessions
        .unwrap();
    assert!(
        rr.miss_fraction() > 0.7 && rr.miss_fraction() < 0.8,
        "{rr:?}"
    );
    assert!(sticky.miss_fraction() < 0.01, "{sticky:?}");
    assert!(rr.lost > 0 && sticky.lost > 0);
    let store = summary_of(&results, "redis-store");
    assert!(store.services["api"].sessions.is_none());
    assert_eq!(store.error_rate, 0.0);
}

#[test]
fn sessions_need_a_key_on_every_endpoint() {
    let json =
        one_user(r#""kind": "round_robin""#).replace(r#""key": "users", "steps""#, r#""steps""#);
    let e = load_error("sessions-keyless", &json);
    assert_error_at(
        &e,
        "model.services.api.endpoints.e.key",
        "give each of its endpoints a `key`",
    );
}
