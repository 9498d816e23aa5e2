"""Diagnostics from the core, logged through :mod:`logging` (logger ``imds``)."""

from __future__ import annotations

import logging
from typing import Callable, Iterable

from ._imds import Diagnostic

logger = logging.getLogger("imds")
logger.addHandler(logging.NullHandler())

_LEVELS = {"trace": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}

DiagnosticSink = Callable[[Diagnostic], None]
"""Receives every diagnostic of an operation, oldest first."""


def log_diagnostic(diagnostic: Diagnostic) -> None:
    """Logs one diagnostic on the ``imds`` logger at the level the core gave it."""
    level = _LEVELS.get(diagnostic.level, logging.INFO)
    if logger.isEnabledFor(level):
        logger.log(level, "%s", diagnostic.message)


def emit(diagnostics: Iterable[Diagnostic], sink: DiagnosticSink) -> None:
    for diagnostic in diagnostics:
        sink(diagnostic)
