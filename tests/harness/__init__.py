"""Shared test harness: store builders, real media, subprocess helpers."""
