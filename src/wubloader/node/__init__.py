"""wubloader node."""
