"""wubloader downloader."""
