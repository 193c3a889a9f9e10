"""Forecasts from stored fits: projections, scenarios, attribution and the committee report."""
