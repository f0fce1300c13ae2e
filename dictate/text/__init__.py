"""The text stage between the engine's committed words and what shows or stores them (no Qt, no clock)."""
