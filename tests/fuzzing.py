"""Hypothesis settings shared by the fuzzers (tests/unit/test_fuzz_*.py and the unicode
round trips): how many examples, and VERBATIM_FUZZ_SCALE to multiply them for a long hunt
(VERBATIM_FUZZ_SCALE=20)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

SCALE = float(os.environ.get("VERBATIM_FUZZ_SCALE", "1"))


def fuzz(examples: int, *, shrink: bool = True) -> settings:
    """`examples` inputs (times SCALE) and no deadline (PyAV and SQLite take their time).
    Fuzzers that damage real files do not shrink: a damaged copy of a 250 KB database
    stays about that big however it is shrunk, and the shrinker's replays only bury the
    first failure (printed whole, with the exception) under its own reports."""
    phases = tuple(p for p in Phase if shrink or p is not Phase.shrink)
    return settings(max_examples=max(1, round(examples * SCALE)), deadline=None,
                    phases=phases,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])
