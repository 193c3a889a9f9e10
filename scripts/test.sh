#!/usr/bin/env bash
# The test command (README, CI): set up, lint, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet .
.venv/bin/python -m pytest -q "$@"
