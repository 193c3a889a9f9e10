"""liqshock model: two-regime Markov-switching model with logistic time-varying transitions.

JAX (NumPyro's NUTS backend) sees one CPU device by default, and then draws chains one
after another. We expose at least four host devices (the default chain count; more if the
machine has more cores) so chains run as parallel threads. This must happen before JAX is
first imported, hence here.
"""

import os

os.environ.setdefault("XLA_FLAGS",
                      f"--xla_force_host_platform_device_count={max(os.cpu_count() or 1, 4)}")
