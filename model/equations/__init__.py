"""The model's equations: configuration and priors, inputs, likelihood, forward algorithm,
the PyMC model, the generative process and the per-draw posterior quantities."""
