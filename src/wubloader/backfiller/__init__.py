"""wubloader backfiller."""
