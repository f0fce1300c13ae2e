"""The model picker's rows, from the model store's view of what is installed and prepared."""

from __future__ import annotations

from dictate.gui.options_bar import ModelChoice, ModelState
from dictate.modelstore.store import ModelStatus, list_models


def model_choices(preparing: str | None = None) -> list[ModelChoice]:
    """Every known model with its state; `preparing` names the one being converted right now."""
    return [_choice(status, preparing) for status in list_models()]


def _choice(status: ModelStatus, preparing: str | None) -> ModelChoice:
    entry = status.entry
    if entry.name == preparing:
        state = ModelState.PREPARING
    elif status.prepared_variants:
        state = ModelState.PREPARED
    elif status.installed:
        state = ModelState.INSTALLED
    else:
        state = ModelState.MISSING
    return ModelChoice(name=entry.name, state=state, multilingual=entry.multilingual, install_command=entry.install)
