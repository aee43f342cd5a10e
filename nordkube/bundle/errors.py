"""The one error type the bundle builder raises for problems a user can see and fix."""

from __future__ import annotations


class BundleError(Exception):
    """A bundle problem whose message names what failed and what to do.

    The CLI prints the message without a traceback, so it must stand on its own.
    """
