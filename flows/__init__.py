"""Flow definitions and engine (arrives with the [flows] issue)."""
