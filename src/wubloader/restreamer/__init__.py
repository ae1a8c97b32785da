"""wubloader restreamer."""
