"""Known errors: the environment or the user's input, not bugs.

The GUI shows these as a plain message; anything else is a bug and gets the crash
dialog with a traceback.
"""

from __future__ import annotations


class StudyError(Exception):
    """A problem the researcher can understand and act on; str() is the message."""


class NotAStudyError(StudyError):
    pass


class SchemaTooNewError(StudyError):
    """The study was saved by a newer Verbatim; opening it here could damage it."""


class StudyLockedError(StudyError):
    pass


class StudyDamagedError(StudyError):
    pass


class DamageFoundError(StudyDamagedError):
    """The study opened, but SQLite's check of the copy made for a backup found damage."""


class ValidationError(StudyError):
    """A value the researcher entered breaks a rule (e.g. a duplicate code)."""


class NotFoundError(StudyError):
    pass


class InUseError(StudyError):
    """A delete that would orphan other work, e.g. a participant with interviews."""
