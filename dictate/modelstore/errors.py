"""The one error type of the model store: its message names the file and the fix."""


class ModelError(Exception):
    """A model cannot be found, read, prepared or loaded; the message says which file and what to do."""


class PreparationCancelled(ModelError):
    """The caller asked a preparation to stop; nothing half-written was left in the cache."""
