"""Where a fit's seconds go: wall time of a phase and the part of it JAX spent compiling.

A refit's wall time is mostly fixed cost (tracing and compiling the density for the start
search and again inside NumPyro's program) plus gradient evaluations; which one moved is
what a speed change has to show. :class:`PhaseClock` times named phases and, from JAX's own
monitoring events, the tracing, lowering and XLA compilation inside each, so every fit
record and benchmark run states the split instead of leaving it to a profiler session.
Compile seconds are summed over events: a phase whose compilations ran on several threads
at once may report more compile seconds than wall seconds.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import jax.monitoring

#: JAX's duration events for turning Python into an executable (jax/_src/dispatch.py).
COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)


class PhaseClock:
    """``with clock.phase("nuts"): ...`` records ``nuts_s`` and ``nuts_compile_s``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        compiling = [0.0]

        def listen(event: str, duration: float, **_: object) -> None:
            if event in COMPILE_EVENTS:
                compiling[0] += duration

        jax.monitoring.register_event_duration_secs_listener(listen)
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[f"{name}_s"] = round(time.perf_counter() - started, 2)
            self.seconds[f"{name}_compile_s"] = round(compiling[0], 2)
            jax.monitoring.unregister_event_duration_listener(listen)
