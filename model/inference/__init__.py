"""Inference: the JAX density, where chains start, NUTS, the convergence gate, predictive
checks and one refit end to end."""
