#!/usr/bin/env python3
"""Speed of Surge against SimPy and Ciw on the same M/M/4 queue.

The model is the one in experiments/mm4.json: Poisson arrivals at 3.6 per second,
exponential service with mean 1 s, 4 servers sharing one FIFO queue of unlimited
capacity (utilisation 0.9), run for 277,778 simulated seconds, so about 1,000,000
customers. Each simulator runs it once with seed 1 and the script prints, for each,
the customers simulated, the wall-clock seconds, customers per second, the mean
sojourn time and the probability of waiting (against Erlang C), then how many times
more customers per second Surge simulates than SimPy and than Ciw.

Timing: for SimPy and Ciw, time.perf_counter() around the simulation run only. For
Surge, the wall time of the whole `surge run` command, which includes process
start-up, reading the files and writing report.json and timeseries.csv, so it
slightly favours the Python simulators.

Install:

    pip install -r benches/requirements-compare.txt

Run (from the repository root; builds target/release/surge if it is missing):

    python3 benches/compare_simpy_ciw.py
    python3 benches/compare_simpy_ciw.py --customers 100000 --skip-ciw
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXPERIMENT = REPO / "experiments" / "mm4.json"
SURGE = REPO / "target" / "release" / "surge"

ARRIVAL_RATE = 3.6  # customers per second
SERVICE_RATE = 1.0  # per second and server: mean service time 1 s
SERVERS = 4
SEED = 1


@dataclass
class Result:
    name: str
    customers: int  # arrivals over the whole run
    wall_s: float
    mean_sojourn_s: float  # over the customers that finished
    p_wait: float

    @property
    def customers_per_s(self) -> float:
        return self.customers / self.wall_s


def erlang_c() -> tuple[float, float]:
    """P(wait) and mean sojourn time of the M/M/c queue, by Erlang C."""
    a = ARRIVAL_RATE / SERVICE_RATE  # offered load in erlangs
    rho = a / SERVERS
    top = a**SERVERS / math.factorial(SERVERS) / (1 - rho)
    p_wait = top / (sum(a**k / math.factorial(k) for k in range(SERVERS)) + top)
    mean_wait = p_wait / (SERVERS * SERVICE_RATE - ARRIVAL_RATE)
    return p_wait, mean_wait + 1 / SERVICE_RATE


def run_surge(horizon_s: int) -> Result:
    """Run experiments/mm4.json with the horizon set and no warm-up, so Surge counts
    and measures every customer, as SimPy and Ciw do."""
    if not SURGE.exists():
        print("building target/release/surge ...", file=sys.stderr, flush=True)
        subprocess.run(["cargo", "build", "--release"], cwd=REPO, check=True)

    experiment = json.loads(EXPERIMENT.read_text())
    # The copy lives in a temporary directory, and model paths resolve relative to the
    # experiment file, so make the model path absolute.
    experiment["model"] = str((EXPERIMENT.parent / experiment["model"]).resolve())
    experiment["duration"] = f"{horizon_s}s"
    experiment.pop("warmup", None)

    with tempfile.TemporaryDirectory(prefix="surge-mm4-") as tmp:
        path = Path(tmp) / "mm4.json"
        path.write_text(json.dumps(experiment, indent=2))
        out = Path(tmp) / "out"
        command = [str(SURGE), "run", str(path), "-q", "--seed", str(SEED), "--out", str(out)]
        start = time.perf_counter()
        subprocess.run(command, check=True)
        wall_s = time.perf_counter() - start
        report = json.loads((out / "report.json").read_text())

    summary = report["runs"][0]["summary"]
    return Result(
        name=f"Surge {report['surge_version']}",
        customers=summary["arrivals"],
        wall_s=wall_s,
        mean_sojourn_s=summary["latency_s"]["mean"],
        p_wait=summary["services"]["server"]["cpu_wait_probability"],
    )


def run_simpy(horizon_s: int) -> Result:
    """The classic SimPy model: a generator of arrivals and one process per customer
    holding a simpy.Resource(capacity=4). Statistics are running sums."""
    import random

    import simpy

    rng = random.Random(SEED)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)
    stats = {"arrivals": 0, "finished": 0, "waited": 0, "sojourn_sum": 0.0}

    def customer():
        arrived = env.now
        with servers.request() as request:
            yield request
            if env.now > arrived:
                stats["waited"] += 1
            yield env.timeout(rng.expovariate(SERVICE_RATE))
        stats["finished"] += 1
        stats["sojourn_sum"] += env.now - arrived

    def arrivals():
        while True:
            yield env.timeout(rng.expovariate(ARRIVAL_RATE))
            stats["arrivals"] += 1
            env.process(customer())

    env.process(arrivals())
    start = time.perf_counter()
    env.run(until=horizon_s)
    wall_s = time.perf_counter() - start

    return Result(
        name=f"SimPy {version('simpy')}",
        customers=stats["arrivals"],
        wall_s=wall_s,
        mean_sojourn_s=stats["sojourn_sum"] / stats["finished"],
        # Customers still queued at the end have waited too, but are left out as in
        # Surge and Ciw, which count only customers that started service.
        p_wait=stats["waited"] / (stats["finished"] + len(servers.users)),
    )


def run_ciw(horizon_s: int) -> Result:
    """Ciw's usual way: build the network, simulate until the horizon, then compute
    statistics from the per-customer records."""
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=ARRIVAL_RATE)],
        service_distributions=[ciw.dists.Exponential(rate=SERVICE_RATE)],
        number_of_servers=[SERVERS],
    )
    ciw.seed(SEED)
    start = time.perf_counter()
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(horizon_s)
    wall_s = time.perf_counter() - start

    records = simulation.get_all_records()
    return Result(
        name=f"Ciw {version('ciw')}",
        customers=simulation.nodes[0].number_of_individuals,  # the arrival node
        wall_s=wall_s,
        mean_sojourn_s=sum(r.exit_date - r.arrival_date for r in records) / len(records),
        p_wait=sum(r.waiting_time > 0 for r in records) / len(records),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000,
                        help="about how many customers to simulate (default 1,000,000)")
    parser.add_argument("--skip-simpy", action="store_true", help="do not run SimPy")
    parser.add_argument("--skip-ciw", action="store_true", help="do not run Ciw")
    args = parser.parse_args()

    horizon_s = round(args.customers / ARRIVAL_RATE)
    p_wait, mean_sojourn = erlang_c()
    print(f"M/M/{SERVERS}: Poisson arrivals at {ARRIVAL_RATE}/s, exponential service with "
          f"mean {1 / SERVICE_RATE:g} s, {SERVERS} servers, one FIFO queue, "
          f"utilisation {ARRIVAL_RATE / (SERVERS * SERVICE_RATE):.2f}")
    print(f"{horizon_s:,} simulated seconds (about {args.customers:,} customers), seed {SEED}")
    print(f"Erlang C: P(wait) = {p_wait:.5f}, mean sojourn = {mean_sojourn:.4f} s")
    print()

    runs = [run_surge]
    if not args.skip_simpy:
        runs.append(run_simpy)
    if not args.skip_ciw:
        runs.append(run_ciw)

    print(f"{'simulator':<14}{'customers':>11}{'wall s':>9}{'customers/s':>13}"
          f"{'mean sojourn s':>16}{'P(wait)':>9}")
    results = []
    for run in runs:
        r = run(horizon_s)
        results.append(r)
        print(f"{r.name:<14}{r.customers:>11,}{r.wall_s:>9.2f}{r.customers_per_s:>13,.0f}"
              f"{r.mean_sojourn_s:>16.4f}{r.p_wait:>9.5f}", flush=True)

    print()
    surge, others = results[0], results[1:]
    for other in others:
        ratio = surge.customers_per_s / other.customers_per_s
        print(f"Surge / {other.name.split()[0]}: {ratio:.1f}x the customers per second")
    print("Surge's wall time is the whole `surge run` command (process start-up, reading "
          "the experiment,\nwriting report.json and timeseries.csv); the Python times are "
          "the simulation run only.")


if __name__ == "__main__":
    main()
