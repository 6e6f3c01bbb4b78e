#!/usr/bin/env bash
# Glossa on Slurm: a job array extracts the layers in ranges, one task per
# range, and a dependent job merges the shards into one dataset.
#
# Submit both from a login node (glossa on PATH, or GLOSSA=/path/to/glossa):
#
#   MODEL=sdadas/polish-gpt2-medium LAYERS=24 SHARDS=4 WORK=/scratch/$USER/pgm \
#     pipelines/slurm/extract-array.sh
#
# Run directly, this script submits itself as an array of SHARDS tasks
# (sbatch --array=0-(SHARDS-1)) and pipelines/slurm/merge.sh as a job that
# starts once every task has succeeded (--dependency=afterok:ARRAY_JOB). Under
# sbatch, task i extracts its range into $WORK/shard-i; the merge writes
# $WORK/dataset and verifies it.
#
#   MODEL   hub id or model directory (required)
#   LAYERS  the model's number of layers: n_layer / num_hidden_layers in its config.json (required)
#   SHARDS  array tasks, at most LAYERS [default: 4]
#   WORK    a directory every node sees [default: ./glossa-work]
#   ARGS    further extract flags, the same for every task, e.g. "--k 100 --fold-norm"
#   GLOSSA  the glossa binary [default: glossa]
#
# How the layer ranges are chosen: task i of SHARDS extracts layers
# LAYERS*i/SHARDS up to LAYERS*(i+1)/SHARDS, end excluded (integer division),
# so the ranges are contiguous, cover every layer once and differ in size by
# at most one layer: 24 layers in 4 tasks are 0..6, 6..12, 12..18, 18..24.
# `glossa merge` checks that again before it writes anything.
#
# A task that is preempted and requeued runs the same command again, which
# resumes its shard where it stopped. Every task reads the whole model: with a
# hub id, download it once into a cache all nodes share (HF_HUB_CACHE) before
# submitting, or point MODEL at a directory.
#
#SBATCH --job-name=glossa-extract
#SBATCH --cpus-per-task=16
#SBATCH --mem=32G
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --output=glossa-extract-%A_%a.out
set -euo pipefail

: "${MODEL:?set MODEL to a hub id or a model directory}"
: "${LAYERS:?set LAYERS to the number of layers of the model}"
SHARDS="${SHARDS:-4}"
WORK="${WORK:-$PWD/glossa-work}"
GLOSSA="${GLOSSA:-glossa}"
ARGS="${ARGS:-}"
export MODEL LAYERS SHARDS WORK GLOSSA ARGS

if [ -z "${SLURM_ARRAY_TASK_ID:-}" ]; then
    # Submitting: the array, then the merge once every task has succeeded.
    if [ "$SHARDS" -lt 1 ] || [ "$SHARDS" -gt "$LAYERS" ]; then
        echo "SHARDS must be between 1 and LAYERS ($LAYERS)" >&2
        exit 1
    fi
    here="$(cd "$(dirname "$0")" && pwd)"
    mkdir -p "$WORK"
    array="$(sbatch --parsable --array="0-$((SHARDS - 1))" "$here/extract-array.sh")"
    array="${array%%;*}"
    merge="$(sbatch --parsable --dependency="afterok:$array" "$here/merge.sh")"
    merge="${merge%%;*}"
    echo "submitted extraction array $array ($SHARDS tasks) and merge job $merge; the dataset will be $WORK/dataset"
    exit 0
fi

i="$SLURM_ARRAY_TASK_ID"
start=$((LAYERS * i / SHARDS))
end=$((LAYERS * (i + 1) / SHARDS))
echo "task $i of $SHARDS: layers $start..$end of $MODEL"
# ARGS holds several flags: split on purpose.
# shellcheck disable=SC2086
"$GLOSSA" extract --model "$MODEL" --layers "$start..$end" --out "$WORK/shard-$i" \
    --threads "${SLURM_CPUS_PER_TASK:-1}" $ARGS
