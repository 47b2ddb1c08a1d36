"""Errors a user can cause and fix. The command line prints them as one line, never as a traceback."""

from __future__ import annotations


class GaitError(Exception):
    """Base class for problems with the user's input (a file, a session, an option), not bugs in the code."""


class SessionFileError(GaitError, ValueError):
    """A file that is not a session, is truncated, or has a format newer than this version understands."""


class RawLogError(GaitError, ValueError):
    """A raw BLE log that cannot be read at all (wrong magic, unreadable header)."""


class AnalysisError(GaitError, ValueError):
    """Input that cannot give a stride table (no strides, only standing, too short)."""
