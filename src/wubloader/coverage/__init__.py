"""Coverage: per-hour counts, holes and overlaps of a store as metrics, and a PNG map per channel/quality."""
