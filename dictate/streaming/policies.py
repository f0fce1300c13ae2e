"""The streaming policies by name, so options, the CLI and the benchmark can choose one."""

from __future__ import annotations

from collections.abc import Callable

from dictate.streaming.alignatt import AlignAttPolicy
from dictate.streaming.policy import Backend, LocalAgreementPolicy, PolicyOptions

DEFAULT_POLICY = "local-agreement"
POLICIES: dict[str, type[LocalAgreementPolicy]] = {
    "local-agreement": LocalAgreementPolicy,  # commit what two consecutive hypotheses agree on
    "alignatt": AlignAttPolicy,  # commit the words decoded before the cross-attention reaches the audio end
}


def make_policy(kind: str, backend: Backend, options: PolicyOptions,
                speech_probability: Callable[[float, float], float]) -> LocalAgreementPolicy:
    """The policy named `kind`; ValueError naming the known ones otherwise."""
    if kind not in POLICIES:
        raise ValueError(f"unknown streaming policy {kind!r}; choose one of {', '.join(POLICIES)}")
    return POLICIES[kind](backend, options, speech_probability)
