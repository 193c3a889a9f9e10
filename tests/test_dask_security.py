"""The backtest's LocalCluster: its own client runs tasks, any other process is refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from diagnostics.evaluation.tasks import make_client
from tests.conftest import REPO_ROOT, repo_env


def test_only_the_backtests_own_client_can_use_its_scheduler():
    with make_client(None, 1) as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        assert client.submit(sum, [40, 2]).result() == 42
        intruder = textwrap.dedent(
            f"""
            from dask.distributed import Client
            try:
                with Client({address!r}, timeout=5) as c:
                    print("RAN", c.submit(sum, [1, 1]).result(timeout=5))
            except Exception as exc:
                print("REFUSED", type(exc).__name__)
            """
        )
        for scheme in (address, address.replace("tls://", "tcp://")):
            code = intruder.replace(address, scheme)
            done = subprocess.run(
                [sys.executable, "-c", code],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=REPO_ROOT,
                env=repo_env(),
            )
            assert "REFUSED" in done.stdout and "RAN" not in done.stdout, done.stdout
