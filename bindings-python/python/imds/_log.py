"""Diagnostics from the core, logged through :mod:`logging` (logger ``imds``).

Levels follow the core's: ``trace`` diagnostics (each request and status) at DEBUG, ``info`` at
INFO, ``warning`` (fallbacks, extended expirations, last good credentials) at WARNING. The logger
has a ``NullHandler``, so nothing is printed unless the application configures logging.
"""

from __future__ import annotations

import logging

from ._imds import Diagnostic

logger = logging.getLogger("imds")
logger.addHandler(logging.NullHandler())

_LEVELS = {"trace": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}


def log_diagnostic(diagnostic: Diagnostic) -> None:
    """Logs one diagnostic on the ``imds`` logger at the level the core gave it."""
    level = _LEVELS.get(diagnostic.level, logging.INFO)
    if logger.isEnabledFor(level):
        logger.log(level, "%s", diagnostic.message)
