"""Media worker processes: cameras sharded over them, each with its own uvloop event loop."""
