#!/usr/bin/env bash
# The merge job of pipelines/slurm/extract-array.sh: joins the shards in
# $WORK/shard-* into $WORK/dataset, verifies it, and prints its summary.
#
# extract-array.sh submits it with --dependency=afterok on the array, so it
# runs once every shard is finished. After an array with failed tasks,
# resubmit those tasks (sbatch --array=I,J pipelines/slurm/extract-array.sh
# with the same MODEL, LAYERS, SHARDS, WORK, ARGS), then this job by hand:
#
#   WORK=/scratch/$USER/pgm sbatch pipelines/slurm/merge.sh
#
# `glossa merge` refuses shards of different model files or options and says
# which layers are missing or in two shards; an interrupted merge resumes
# when run again.
#
#SBATCH --job-name=glossa-merge
#SBATCH --cpus-per-task=4
#SBATCH --mem=8G
#SBATCH --time=01:00:00
#SBATCH --output=glossa-merge-%j.out
set -euo pipefail

WORK="${WORK:-$PWD/glossa-work}"
GLOSSA="${GLOSSA:-glossa}"
OUT="${OUT:-$WORK/dataset}"

"$GLOSSA" merge --out "$OUT" --threads "${SLURM_CPUS_PER_TASK:-1}" "$WORK"/shard-*
"$GLOSSA" verify --data "$OUT"
"$GLOSSA" info --data "$OUT"
