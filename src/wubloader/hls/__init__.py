"""wubloader hls."""
