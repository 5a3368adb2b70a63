#!/usr/bin/env bash
# From nothing to two compared versions of a real model, using only the trainjobs CLI.
#
# The model is examples/digits/train.py: a scikit-learn classifier of handwritten
# digits that takes --data_url, --train_url and its hyperparameters (C, max_iter),
# and reports its accuracy to trainjobs.
#
# Start the service first, in another terminal and from the same folder:
#     trainjobs serve
# The CLI then finds it and its token by itself (./trainjobs-data/credentials.json).
# Elsewhere, set TRAINJOBS_DATA_DIR to its data dir, or TRAINJOBS_ENDPOINT,
# TRAINJOBS_TOKEN and TRAINJOBS_PROJECT_ID.
#
# Usage: examples/walkthrough_cli.sh [BUCKET]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
BUCKET="${1:-digits-demo}"
JOB="digits-$(date +%Y%m%d-%H%M%S)"
WORK="$(mktemp -d)"

# Read one field of the JSON that a `--json` command printed.
field() { "$PYTHON" -c "import json, sys; print(json.load(sys.stdin)$1)"; }

echo "== 1. What versions can run on, and with"
trainjobs specs
trainjobs engines

echo "== 2. Code and data into the object store"
# The data: scikit-learn's bundled digits as a CSV (64 pixel columns, then the label).
"$PYTHON" - "$WORK/data" <<'PY'
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
digits = load_digits()
table = np.column_stack([digits.data, digits.target])
np.savetxt(out / "digits.csv", table, delimiter=",", fmt="%g")
PY
trainjobs obs cp "$HERE/digits/train.py" "obs://$BUCKET/code/train.py"
trainjobs obs cp "$WORK/data" "obs://$BUCKET/data"
trainjobs obs ls "obs://$BUCKET/code"

echo "== 3. The first version: C=1.0 (waits, showing its status)"
CREATED="$(trainjobs jobs create "$JOB" \
    --code-dir "obs://$BUCKET/code/" --boot-file train.py \
    --data-url "obs://$BUCKET/data/" --train-url "obs://$BUCKET/output/$JOB/C-1.0/" \
    --param C=1.0 --param max_iter=300 \
    --desc "digits classifier, C sweep" --wait --json)"
JOB_ID="$(echo "$CREATED" | field '["job_id"]')"
V1="$(echo "$CREATED" | field '["version_id"]')"
trainjobs logs "$JOB_ID" "$V1" --tail 3

echo "== 4. A second version with stronger regularisation: C=0.01"
# It inherits code, data, spec and max_iter from V0001; only C and the outputs change.
CREATED="$(trainjobs versions create "$JOB_ID" --from "$V1" \
    --param C=0.01 --train-url "obs://$BUCKET/output/$JOB/C-0.01/" --wait --json)"
V2="$(echo "$CREATED" | field '["version_id"]')"
trainjobs logs "$JOB_ID" "$V2" --tail 3

echo "== 5. Compare the two versions"
trainjobs versions list "$JOB_ID"
trainjobs versions show "$JOB_ID" "$V2"

echo "== 6. Take a model home: the first version's"
trainjobs obs ls "obs://$BUCKET/output/$JOB"
trainjobs obs cp "obs://$BUCKET/output/$JOB/C-1.0/model.pkl" "$WORK/model-C-1.0.pkl"
echo "model saved to $WORK/model-C-1.0.pkl"
echo "when done: trainjobs jobs delete $JOB_ID && trainjobs obs rm obs://$BUCKET"
