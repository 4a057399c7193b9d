//! Databases: each endpoint's query kind, replication and scheduled failures checked.

use super::{At, positive_duration};
use crate::components::database::{
    DatabaseFailure, DatabaseSpec, FailureTarget, MAX_APPLY_RATE, Query, ReadRouting,
    ReplicationSpec,
};
use crate::config::ConfigError;
use crate::config::raw::{
    RawBalancer, RawDatabase, RawEndpoint, RawFailureTarget, RawQuery, RawReadRouting, RawService,
};

/// An endpoint's query kind: required on a database, refused elsewhere, and a replica read
/// only where there are replicas.
pub(super) fn query(
    s: &RawService,
    e: &RawEndpoint,
    at: At,
    erel: &str,
) -> Result<Option<Query>, ConfigError> {
    let rel = format!("{erel}.query");
    let Some(db) = &s.database else {
        return match e.query {
            None => Ok(None),
            Some(_) => Err(at.err(
                &rel,
                "a query kind belongs on a database's endpoint: give the service a `database`, or drop `query`",
            )),
        };
    };
    match e.query {
        None => Err(at.err(
            &rel,
            "each endpoint of a database says which query it is: \"write\", \"read\" or \"read_primary\"",
        )),
        Some(RawQuery::Read) if db.replication.is_none() => Err(at.err(
            &rel,
            "a \"read\" goes to a read replica, and this database has none: add `database.replication`, or make it \"read_primary\"",
        )),
        Some(RawQuery::Read) => Ok(Some(Query::Read)),
        Some(RawQuery::Write) => Ok(Some(Query::Write)),
        Some(RawQuery::ReadPrimary) => Ok(Some(Query::ReadPrimary)),
    }
}

/// A service's `database` block.
pub(super) fn database(
    s: &RawService,
    d: &RawDatabase,
    at: At,
    rel: &str,
) -> Result<DatabaseSpec, ConfigError> {
    let drel = format!("{rel}.database");
    if s.replicas < 1 {
        return Err(at.err(
            &format!("{rel}.replicas"),
            "a database starts with its primary: replicas (instances) must be at least 1",
        ));
    }
    if matches!(s.balancer, Some(RawBalancer::Queue { .. })) {
        return Err(at.err(
            &format!("{rel}.balancer"),
            "a database routes its own queries (writes to the primary, reads to replicas); it cannot be a worker pool",
        ));
    }
    let replication = match &d.replication {
        None => None,
        Some(r) => {
            let rrel = format!("{drel}.replication");
            if !(r.apply_rate.is_finite() && r.apply_rate > 0.0 && r.apply_rate <= MAX_APPLY_RATE) {
                return Err(at.err(
                    &format!("{rrel}.apply_rate"),
                    format!(
                        "apply_rate is the writes per second a replica applies, above 0 and at most {MAX_APPLY_RATE:e}, got {}",
                        r.apply_rate
                    ),
                ));
            }
            let network = match &r.network {
                Some(n) => Some(super::dist::dist(n, at, &format!("{rrel}.network"))?),
                None => None,
            };
            let window_rel = format!("{rrel}.read_your_writes_window");
            let routing = match (r.read_routing, r.read_your_writes_window) {
                (Some(RawReadRouting::ReadYourWrites), Some(w)) => ReadRouting::ReadYourWrites {
                    window: positive_duration(at, &window_rel, w, "read_your_writes_window")?,
                },
                (Some(RawReadRouting::ReadYourWrites), None) => {
                    return Err(at.err(
                        &window_rel,
                        "read_your_writes sends a key's reads to the primary for a while after its write: give that window (\"5s\")",
                    ));
                }
                (_, Some(_)) => {
                    return Err(at.err(
                        &window_rel,
                        "a read_your_writes_window needs \"read_routing\": \"read_your_writes\"",
                    ));
                }
                (None | Some(RawReadRouting::RoundRobin), None) => ReadRouting::RoundRobin,
                (Some(RawReadRouting::LeastLoaded), None) => ReadRouting::LeastLoaded,
            };
            Some(ReplicationSpec {
                apply_rate: r.apply_rate,
                network,
                routing,
            })
        }
    };
    let mut failures: Vec<DatabaseFailure> = Vec::new();
    for (k, f) in d.failures.iter().flatten().enumerate() {
        let frel = format!("{drel}.failures[{k}]");
        if failures.last().is_some_and(|p| f.at.0 < p.at) {
            return Err(at.err(
                &format!("{frel}.at"),
                format!(
                    "failures must be in time order; \"{}\" comes before the previous one",
                    f.at.0
                ),
            ));
        }
        let prel = format!("{frel}.promote_after");
        let target = match (f.fails, f.promote_after) {
            (RawFailureTarget::Primary, Some(p)) => FailureTarget::Primary {
                promote_after: positive_duration(at, &prel, p, "promote_after")?,
            },
            (RawFailureTarget::Primary, None) => {
                return Err(at.err(
                    &prel,
                    "when the primary fails a replica is promoted: say how long that takes (\"30s\")",
                ));
            }
            (RawFailureTarget::Replica, Some(_)) => {
                return Err(at.err(&prel, "only a primary's failure promotes a replica"));
            }
            (RawFailureTarget::Replica, None) => FailureTarget::Replica,
        };
        if replication.is_none() {
            return Err(at.err(
                &format!("{frel}.fails"),
                "failover and replica failures need replicas: add `database.replication`",
            ));
        }
        failures.push(DatabaseFailure { at: f.at.0, target });
    }
    Ok(DatabaseSpec {
        replication,
        failures,
    })
}
