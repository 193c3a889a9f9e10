#!/usr/bin/env bash
# The main job (README): set up, refit on the default data, forecast from the new fit, and
# write the reviewer's page for it.
# Extra arguments go to fit.py (e.g. --data DIR, --end YYYY-MM-DD, --draws N).
# A refit that fails the convergence gate stops here: no forecast from an unconverged fit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m data summary
.venv/bin/python -m data plot --out reports/drivers.png
.venv/bin/python fit.py "$@"
.venv/bin/python forecast.py --fit fits/latest
.venv/bin/python -m diagnostics review --fit fits/latest
