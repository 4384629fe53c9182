#!/bin/sh
# scripts/slurm-shard.sh N [EXPLORE FLAGS...]: the Slurm batch script of a
# sharded campaign, one shard per task of a job array (README, "Shards on
# many machines"):
#     sbatch --array=1-N scripts/slurm-shard.sh N --mutant no_tlbi_donate --runs 16
# Task K runs `hypsim explore FLAGS --shard K/N` in the submission directory
# with hypsim at ./build/hypsim, writes shard-K.jsonl and keeps its
# violation traces in traces-K/. Exit code: explore's (0 none, 1 violation,
# 2 bad usage, 3 internal error), so a dependent merge job should use
# --dependency=afterany (afterok would never start after a violation).
# tests/integration/test_campaign_engines.sh submits it to a real one-node
# cluster.
#SBATCH --job-name=hypsim-explore
#SBATCH --cpus-per-task=1
#SBATCH --output=slurm-%A_%a.out
set -u
if [ $# -lt 1 ] || [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
    echo "usage: sbatch --array=1-N $0 N [explore flags...]" >&2
    exit 2
fi
N=$1
shift
K=$SLURM_ARRAY_TASK_ID
exec ./build/hypsim explore "$@" --jobs "${SLURM_CPUS_PER_TASK:-1}" --shard "$K/$N" \
    --traces "traces-$K" -o "shard-$K.jsonl" --quiet
