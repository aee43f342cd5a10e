"""The one error type the lab raises for problems a user can see and fix."""

from __future__ import annotations


class LabError(Exception):
    """A lab problem with a message that says what happened and what to do.

    The CLI prints the message without a traceback, so it must stand on its own.
    """
