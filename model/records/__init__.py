"""Fit records: stored fits, the pointer to the committee's fit, the refit summary."""
