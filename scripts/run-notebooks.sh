#!/usr/bin/env bash
# Run notebooks/*.ipynb headless on freshly simulated inputs; exit non-zero if any cell raises.
#
#   scripts/run-notebooks.sh
#
# 1. Fails if a committed notebook carries outputs or execution counts (commit them cleared).
# 2. Creates target/notebooks-venv (reused while notebooks/requirements.txt and the Python version
#    are unchanged) and installs the pinned requirements, wheels only. Installs python3 and venv
#    with apt-get when they are missing.
# 3. Simulates the inputs into target/notebooks/inputs/: `surge run` on worker-queue.json and
#    hpa-step.json (policy comparisons) and `surge sweep` on hpa-target-sweep.json. The binary is
#    $SURGE_BIN if set, else target/release/surge if present, else `cargo build --release`.
# 4. Executes policy-comparison.ipynb once per policy experiment and sweep-analysis.ipynb once,
#    with nbclient (inline matplotlib backend: no display needed), each cell limited to
#    $SURGE_NOTEBOOK_TIMEOUT seconds (default 300). Executed copies, with their outputs, go to
#    target/notebooks/executed/ (never over the committed notebooks).
#
# Quiet on success but for a short summary; on failure it prints the failing cell and its error,
# or the tail of target/notebooks/run.log.
set -euo pipefail

# SURGE_BIN as the caller meant it: a path relative to where they stand, or a name on PATH
if [[ -n ${SURGE_BIN:-} ]]; then
    if [[ $SURGE_BIN == */* ]]; then
        [[ $SURGE_BIN == /* ]] || SURGE_BIN=$PWD/$SURGE_BIN
    else
        SURGE_BIN=$(command -v "$SURGE_BIN") || { echo "run-notebooks: SURGE_BIN not found" >&2; exit 1; }
    fi
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=target/notebooks-venv
OUT=target/notebooks
LOG=$OUT/run.log
REQUIREMENTS=notebooks/requirements.txt
# experiment -> the notebook input directory; the first two feed policy-comparison.ipynb
POLICY_EXPERIMENTS=(worker-queue hpa-step)
SWEEP_EXPERIMENT=hpa-target-sweep

started=$(date +%s)
mkdir -p "$OUT"
: >"$LOG"

fail() {
    echo "run-notebooks: $*" >&2
    if [[ -s $LOG && ${show_log:-1} == 1 ]]; then
        echo "--- last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2
    fi
    exit 1
}

# Run a command with its output in the log; on failure show the log and stop.
quietly() {
    echo "+ $*" >>"$LOG"
    "$@" >>"$LOG" 2>&1 || fail "failed: $*"
}

# --- python3 with venv ---------------------------------------------------------------------------
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    quietly "${sudo[@]}" apt-get update -qq
    quietly "${sudo[@]}" apt-get install -y -qq --no-install-recommends python3 python3-venv
fi

# --- committed notebooks carry no outputs --------------------------------------------------------
python3 - notebooks/*.ipynb <<'EOF' || fail "clear the outputs (Jupyter: Edit > Clear Outputs of All Cells; or jupyter nbconvert --clear-output --inplace) and commit again"
import json, sys
dirty = []
for path in sys.argv[1:]:
    for i, cell in enumerate(json.load(open(path))["cells"]):
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None):
            dirty.append(f"{path}: cell {i} has outputs or an execution count")
if dirty:
    print("\n".join(dirty), file=sys.stderr)
    sys.exit(1)
EOF

# --- the virtualenv, rebuilt only when the pins or the interpreter change ------------------------
stamp="$(python3 -c 'import sys; print(sys.version)' | head -n 1) $(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [[ ! -x $VENV/bin/python || $(cat "$VENV/.stamp" 2>/dev/null) != "$stamp" ]]; then
    rm -rf "$VENV"
    quietly python3 -m venv "$VENV"
    PIP_DISABLE_PIP_VERSION_CHECK=1 quietly "$VENV/bin/python" -m pip install --quiet \
        --only-binary=:all: -r "$REQUIREMENTS"
    echo "$stamp" >"$VENV/.stamp"
    venv_note="venv created"
else
    venv_note="venv reused"
fi

# --- the surge binary ----------------------------------------------------------------------------
if [[ -n ${SURGE_BIN:-} ]]; then
    surge=$SURGE_BIN
elif [[ -x target/release/surge ]]; then
    surge=target/release/surge
else
    quietly cargo build --release --quiet
    surge=target/release/surge
fi
[[ -x $surge ]] || fail "no surge binary at $surge"

# --- the inputs ----------------------------------------------------------------------------------
sim_started=$(date +%s)
for e in "${POLICY_EXPERIMENTS[@]}"; do
    quietly "$surge" run "experiments/$e.json" --out "$OUT/inputs/$e" -q
done
quietly "$surge" sweep "experiments/$SWEEP_EXPERIMENT.json" --out "$OUT/inputs/$SWEEP_EXPERIMENT-sweep" -q
sim_s=$(($(date +%s) - sim_started))

# --- execute the notebooks -----------------------------------------------------------------------
jobs=()
for e in "${POLICY_EXPERIMENTS[@]}"; do
    jobs+=("policy-comparison SURGE_RESULTS $OUT/inputs/$e $e")
done
jobs+=("sweep-analysis SURGE_SWEEP_RESULTS $OUT/inputs/$SWEEP_EXPERIMENT-sweep $SWEEP_EXPERIMENT")

export PATH="$ROOT/$VENV/bin:$PATH"
export JUPYTER_PLATFORM_DIRS=1
export JUPYTER_RUNTIME_DIR="$ROOT/$OUT/runtime"
export IPYTHONDIR="$ROOT/$OUT/ipython"
export MPLCONFIGDIR="$ROOT/$OUT/matplotlib"
export MPLBACKEND=module://matplotlib_inline.backend_inline
export PYDEVD_DISABLE_FILE_VALIDATION=1

nb_started=$(date +%s)
"$VENV/bin/python" - "$OUT/executed" "${SURGE_NOTEBOOK_TIMEOUT:-300}" "${jobs[@]}" 2>>"$LOG" <<'EOF' || show_log=0 fail "a notebook failed (kernel logs in $LOG)"
import os, re, sys, time
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

out_dir, timeout, jobs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
os.makedirs(out_dir, exist_ok=True)
ansi = re.compile(r"\x1b\[[0-9;]*m")
for job in jobs:
    name, var, inputs, label = job.split(" ")
    os.environ[var] = os.path.abspath(inputs)
    path = f"notebooks/{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": "notebooks"}})
    t0 = time.monotonic()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError) as err:
        failed = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                       and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        # stdout: stderr goes to the log, and this is what the reader needs to see
        print(f"\n{path} with {var}={inputs}: ", end="")
        if failed is None:
            print(ansi.sub("", str(err)))
        else:
            src = nb.cells[failed].source.splitlines()
            error = next(o for o in nb.cells[failed].outputs if o.output_type == "error")
            print(f"cell {failed} raised {error.ename}: {ansi.sub('', error.evalue)}")
            print("  the cell begins: " + " | ".join(src[:3]))
            print(ansi.sub("", "\n".join(error.traceback[-6:-1])))  # the last line is evalue
        print(f"the executed notebook, with the error: {out_dir}/{name}.{label}.ipynb")
        sys.exit(1)
    finally:
        nbformat.write(nb, os.path.join(out_dir, f"{name}.{label}.ipynb"))
    code = [c for c in nb.cells if c.cell_type == "code"]
    # the notebook's last cell states its conclusion as Markdown; its first line is the headline
    last = [o["data"]["text/markdown"] for o in code[-1].outputs
            if o.get("output_type") == "display_data" and "text/markdown" in o.get("data", {})]
    headline = "".join(last).strip().split("\n")[0].replace("**", "")
    print(f"  {name} on {label}: {len(code)} cells ok in {time.monotonic() - t0:.1f} s. {headline}")
EOF
nb_s=$(($(date +%s) - nb_started))

echo "run-notebooks: ok in $(($(date +%s) - started)) s ($venv_note; simulation ${sim_s} s, notebooks ${nb_s} s); executed copies in $OUT/executed/"
