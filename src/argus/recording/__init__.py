"""Recording: segments on disk, their index, crash checks, retention and playback."""
