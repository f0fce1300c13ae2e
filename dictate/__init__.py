"""dictate."""
