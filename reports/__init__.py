"""Datasets, charts and dashboards (arrives with the [reports] issue)."""
