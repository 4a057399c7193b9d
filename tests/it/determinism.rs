//! Same file + same seed -> byte-identical report, whatever the thread count; variants see the
//! same arrivals (common random numbers).

use crate::support::repo;
use surge::experiment::{ExecuteOptions, run_experiment};
use surge::kernel::SimDuration;
use surge::report::Report;

fn quickstart() -> surge::Experiment {
    surge::config::load_experiment(&repo().join("experiments/quickstart.json")).unwrap()
}

fn report_json(exp: &surge::Experiment, threads: usize) -> String {
    let results = run_experiment(
        exp,
        &ExecuteOptions {
            threads: Some(threads),
            ..ExecuteOptions::default()
        },
    )
    .expect("the run stays within its limits");
    Report::new(exp, &results).to_json()
}

#[test]
fn same_file_and_seed_give_byte_identical_reports_on_any_thread_count() {
    let exp = quickstart();
    let one = report_json(&exp, 1);
    assert_eq!(one, report_json(&exp, 2));
    assert_eq!(one, report_json(&exp, 1));
    let mut other = quickstart();
    other.seed += 1;
    assert_ne!(
        one,
        report_json(&other, 2),
        "a different seed must change the results"
    );
}

#[test]
fn variants_differing_only_in_balancer_see_identical_arrivals() {
    let mut exp = quickstart();
    exp.resolution = SimDuration::from_millis(10);
    let results =
        run_experiment(&exp, &ExecuteOptions::default()).expect("the run stays within its limits");
    let arrivals = |variant: &str, rep: u32| -> Vec<u64> {
        let r = results
            .iter()
            .find(|r| r.variant == variant && r.id.replication == rep)
            .unwrap();
        r.output.timeseries.iter().map(|row| row.arrivals).collect()
    };
    for rep in 0..exp.replications {
        let rr = arrivals("round-robin", rep);
        assert!(rr.iter().sum::<u64>() > 10_000);
        assert_eq!(rr, arrivals("least-connections", rep), "replication {rep}");
        assert_eq!(rr, arrivals("4-replicas", rep), "replication {rep}");
    }
    // Replications differ from each other.
    assert_ne!(arrivals("round-robin", 0), arrivals("round-robin", 1));
}
