"""liqshock model: two-regime Markov-switching model with logistic time-varying transitions.

Importing it changes no process setting; commands call :func:`model.inference.runtime.configure`.
"""
