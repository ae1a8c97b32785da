"""Media work with ffmpeg/ffprobe: probing, cuts, transitions, images. Knows nothing of HTTP or databases."""
