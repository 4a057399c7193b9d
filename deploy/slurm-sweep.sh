#!/bin/bash
# A large `surge sweep` on Slurm: a job array runs one shard per task, then a dependent job
# merges the shards into the file the unsharded sweep would write (byte for byte).
#
#   sbatch deploy/slurm-sweep.sh experiments/hpa-target-sweep.json results/hpa-sweep
#
# Run from the repository root on a shared filesystem, with `surge` on PATH (cargo install
# --path .). Change --array (and SHARDS) together; each task uses the cores it is given.
#SBATCH --job-name=surge-sweep
#SBATCH --array=1-8
#SBATCH --cpus-per-task=2
#SBATCH --mem=1G
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
EXPERIMENT=${1:?usage: sbatch deploy/slurm-sweep.sh EXPERIMENT.json OUT_DIR}
OUT=${2:?usage: sbatch deploy/slurm-sweep.sh EXPERIMENT.json OUT_DIR}
SHARDS=${SLURM_ARRAY_TASK_COUNT:-8}
K=${SLURM_ARRAY_TASK_ID}
surge sweep "$EXPERIMENT" -q -j "${SLURM_CPUS_PER_TASK:-1}" --shard "$K/$SHARDS" --out "$OUT/shard-$K"
# The last task to finish would race the others; instead the first task queues the merge
# after the whole array.
if [ "$K" = "1" ]; then
  sbatch --dependency=afterok:"$SLURM_ARRAY_JOB_ID" --job-name=surge-merge \
    --wrap="surge merge $OUT/shard-*/sweep.json --out $OUT/merged"
fi
