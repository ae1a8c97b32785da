"""Video thumbnails: a store frame, optionally composed into a template (shared by cutter and restreamer)."""
