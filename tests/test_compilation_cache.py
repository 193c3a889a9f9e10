"""XLA's programs kept on disk (:mod:`model.inference.runtime`): a process that builds a program an
earlier process compiled reads it from the cache instead of compiling it again."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from model.inference.runtime import COMPILATION_CACHE
from tests.conftest import REPO_ROOT, repo_env

#: One jitted program, then what JAX reports about it: the cache folder in use and the
#: cache hits.
PROGRAM = """
import json
from model.inference.runtime import configure
configure()
import jax
import jax.monitoring
import jax.numpy as jnp
events = []
jax.monitoring.register_event_listener(lambda name, **_: events.append(name))
jax.jit(lambda x: jnp.sin(x) @ jnp.cos(x).T + 3.0)(jnp.ones((8, 8))).block_until_ready()
print(json.dumps({
    "dir": jax.config.jax_compilation_cache_dir,
    "hits": events.count("/jax/compilation_cache/cache_hits"),
}))
"""


def run_program(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_program_compiled_by_one_process_is_read_from_disk_by_the_next(tmp_path):
    cache = tmp_path / "jax"
    # a user's own settings win over the defaults; a threshold of 0 keeps even this
    # small program
    env = repo_env(
        JAX_COMPILATION_CACHE_DIR=str(cache), JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0"
    )
    first = run_program(env)
    assert first["dir"] == str(cache) and first["hits"] == 0
    written = sorted(p.name for p in cache.iterdir())
    assert written
    second = run_program(env)
    assert second["hits"] >= 1
    # nothing new to keep: every program came from the cache
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith("-atime")) == [
        n for n in written if not n.endswith("-atime")
    ]


def test_by_default_the_cache_lies_beside_the_code():
    env = {k: v for k, v in repo_env().items() if k not in COMPILATION_CACHE}
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "1000"  # write nothing here
    got = run_program(env)
    assert got["dir"] == COMPILATION_CACHE["JAX_COMPILATION_CACHE_DIR"]
    assert os.path.commonpath([got["dir"], REPO_ROOT / ".cache"]) == str(REPO_ROOT / ".cache")


@pytest.mark.slow
def test_the_xla_options_survive_pymcs_rewrite_of_xla_flags():
    """PyMC rewrites ``XLA_FLAGS`` when ``pymc.sampling.jax`` is imported (as the model
    modules do); every option of :data:`model.inference.runtime.XLA_OPTIONS` must still be there
    and the device count in force must be ours."""
    from model.inference.runtime import XLA_OPTIONS

    program = (
        "import json, os\n"
        "from model.inference.runtime import configure\n"
        "configure()\n"
        "import model.inference.jax_density\n"
        "import jax\n"
        "print(json.dumps({'flags': os.environ['XLA_FLAGS'].split(),"
        " 'devices': jax.local_device_count()}))\n"
    )
    env = {k: v for k, v in repo_env().items() if k != "XLA_FLAGS"}
    done = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(XLA_OPTIONS) <= set(got["flags"])
    ours = next(o for o in XLA_OPTIONS if "device_count" in o)
    assert got["devices"] == int(ours.split("=")[1])
