"""modelstore."""
