"""A fit states where its seconds went: the clock separates JAX's compiling from the rest."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp

from model.inference.timing import PhaseClock
from model.records.report import phase_times


def test_a_phase_that_compiles_reports_its_compile_seconds_and_one_that_does_not_zero():
    clock = PhaseClock()

    def fresh(x):  # a new function: traced and compiled here
        return jnp.sin(x) * jnp.cos(x) + jnp.tanh(x).sum()

    with clock.phase("compiling"):
        jax.block_until_ready(jax.jit(fresh)(jnp.arange(50.0)))
    with clock.phase("waiting"):
        time.sleep(0.2)
    s = clock.seconds
    assert 0 < s["compiling_compile_s"] <= s["compiling_s"] + 0.01
    assert s["waiting_compile_s"] == 0 and s["waiting_s"] >= 0.2


def test_the_summary_line_names_both_phases():
    line = phase_times(
        {
            "start_search_s": 9.84,
            "start_search_compile_s": 4.31,
            "nuts_s": 36.1,
            "nuts_compile_s": 8.44,
        }
    )
    assert line == " (start search 9.8 s, 4.3 compiling; NUTS 36.1 s, 8.4 compiling)"
    assert phase_times({}) == ""
    assert (
        phase_times({"start_search_s": 70.2, "nuts_s": 401.0})
        == " (start search 70.2 s; NUTS 401.0 s)"
    )


def test_the_fixed_cost_is_the_wall_less_the_nuts_iterations():
    from model.records.report import fixed_cost, fixed_line

    timing = {"setup_s": 2.0, "start_search_s": 8.0, "nuts_s": 30.0, "nuts_compile_s": 10.0}
    assert fixed_cost(timing, 52.0) == 32.0  # 52 s wall, 20 s of NUTS iterations
    assert fixed_cost({"start_search_s": 8.0}, 52.0) is None
    assert "32.0 s, 62% of the wall" in fixed_line({"timing": timing, "wall_time_s": 52.0})
