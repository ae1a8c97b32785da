"""wubloader: archive a live HLS stream on several nodes, replicate, re-serve and cut it."""

__version__ = "0.1.0"
