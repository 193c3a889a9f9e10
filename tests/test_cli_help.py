"""Every command's ``--help`` answers without loading the numerical stack.

Why: JAX, PyMC and PyTensor take seconds to import; a user asking a command what it does
should not wait for them. The test checks the cause (which modules ``--help`` loads), not
a wall time, so it holds on a slow machine too.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, repo_env

HEAVY = ("jax", "pymc", "pytensor", "numpyro", "arviz", "matplotlib", "distributed")

COMMANDS = [
    ["fit.py"],
    ["forecast.py"],
    ["-m", "data"],
    ["-m", "data", "refresh"],
    ["-m", "diagnostics"],
    ["-m", "diagnostics", "backtest"],
    ["-m", "diagnostics", "review"],
    ["bench/bench_fit.py"],
    ["bench/bench_gradient.py"],
    ["bench/bench_forecast.py"],
    ["bench/bench_backtest.py"],
]

PROBE = """
import json, runpy, sys
argv, watched = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
sys.argv = [argv[0] if argv[0] != "-m" else argv[1], *argv[2 if argv[0] == "-m" else 1:], "--help"]
sys.path.insert(0, ".")
try:
    if argv[0] == "-m":
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(argv[0], run_name="__main__")
except SystemExit as stop:
    code = stop.code
else:
    code = None
heavy = sorted({name.split(".")[0] for name in sys.modules} & watched)
print(json.dumps({"code": code, "heavy": heavy}))
"""


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_loads_no_numerical_stack(command):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(command), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=repo_env(),
        timeout=300,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"] in (0, None), done.stderr
    assert "usage:" in done.stdout
    assert result["heavy"] == [], f"--help of {' '.join(command)} imported {result['heavy']}"
