"""graphmem vs mem0 1.0.11 graph memory, side by side (see README.md)."""
