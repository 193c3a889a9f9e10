#!/usr/bin/env bash
# The main job (README): set up, then summarize the data panel and draw the drivers.
# Extra arguments go to every step (e.g. --data DIR, --end YYYY-MM-DD).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m data summary "$@"
.venv/bin/python -m data plot --out reports/drivers.png "$@"
