"""The one exception tree of icpkit.

Every error a user can cause is an :class:`IcpError`; anything else escaping the
library is a bug (the CLI exits 2 for those, 1 for ``IcpError``)::

    IcpError                      user or data error; carries *where* and a *hint*
    ├── ProfileError              the profile file is invalid (YAML key path, line)
    ├── DataError                 input data cannot be used (file, row, column)
    │   ├── MissingColumnError    a column the profile needs is not in the data
    │   └── DuplicateKeyError     the same key appears on several rows
    ├── WorkspaceError            the workspace directory or one of its tables
    ├── DependencyError           an optional engine is not installed
    └── RequestError              a request the server refuses (its HTTP status)
        ├── AuthError             no API key, or not a valid one (401)
        ├── ScopeError            the key's scope does not allow it (403)
        ├── NotFoundError         no such account, profile version or route (404)
        ├── ConflictError         the request clashes with what is stored (409)
        └── RateLimitError        too many requests for the key (429)

Each error renders as one or more lines "where: message (hint)". ``errors`` holds
every individual problem when several were found at once (e.g. a profile with
three misspelt keys), so that a user can fix them all in one pass.

Data values quoted in a message are cut to :data:`MAX_QUOTED` characters, here and
nowhere else: :func:`quoted` quotes a value, and every error and problem cuts any longer
quoted span of its text when it is made (a 1 MB cell, a DuckDB message quoting a line).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

#: The most characters of a data value an error, warning or hint quotes.
MAX_QUOTED = 80


def clip(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def quoted(value: object) -> str:
    """A data value as messages quote it: ``'value'``, cut to :data:`MAX_QUOTED` characters."""
    return "'" + clip("None" if value is None else str(value)) + "'"


_LONG_QUOTED = re.compile("'([^'\n]{%d,})'|\"([^\"\n]{%d,})\"" % (MAX_QUOTED + 1, MAX_QUOTED + 1))


#: The most characters of one message, hint or place (a value quoted across lines).
MAX_TEXT = 2000


def clip_quoted(text: str) -> str:
    """``text`` with every span quoted in ``'`` or ``"`` longer than :data:`MAX_QUOTED` cut
    (see :func:`quoted`), and the whole cut to :data:`MAX_TEXT` characters."""
    if len(text) <= MAX_QUOTED + 2:
        return text
    text = _LONG_QUOTED.sub(lambda m: "'" + clip(m.group(1)) + "'" if m.group(1) is not None
                            else '"' + clip(m.group(2)) + '"', text)
    return clip(text, MAX_TEXT)


@dataclass(frozen=True)
class Problem:
    """One located problem: where it is, what is wrong, and what to do."""

    message: str
    where: str = ""
    hint: str = ""

    def __post_init__(self) -> None:
        for name in ("message", "where", "hint"):
            object.__setattr__(self, name, clip_quoted(getattr(self, name)))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} ({self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "message": self.message, "hint": self.hint}


@dataclass
class IcpError(Exception):
    """Base of every error a user can cause. ``exit_code`` is what the CLI returns."""

    message: str
    where: str = ""
    hint: str = ""
    problems: list[Problem] = field(default_factory=list)

    exit_code = 1

    def __post_init__(self) -> None:
        self.message, self.where, self.hint = (clip_quoted(self.message), clip_quoted(self.where),
                                               clip_quoted(self.hint))
        super().__init__(self.message)

    @property
    def errors(self) -> list[Problem]:
        """Every problem found; a single one is the error itself."""
        return self.problems or [Problem(self.message, self.where, self.hint)]

    def __str__(self) -> str:
        # The error's own hint is shown once when no problem carries it already.
        hint = self.hint if self.hint and all(p.hint != self.hint for p in self.errors) else ""
        if len(self.errors) > 1:
            lines = [self.message] + [f"  - {p}" for p in self.errors] + ([f"  ({hint})"] if hint else [])
            return "\n".join(lines)
        first = self.errors[0]
        return str(Problem(first.message, first.where, first.hint or hint))

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": False,
            "error": self.message,
            "errors": [p.as_dict() for p in self.errors],
        }


class ProfileError(IcpError):
    """The profile (YAML) is invalid; ``where`` is the file, line and key path."""


class ConfigError(IcpError):
    """A configuration file (e.g. ``enrich.yaml``) is invalid; ``where`` is the file, line and key."""


class DataError(IcpError):
    """Input data cannot be used; ``where`` names the file, row and column."""


class MissingColumnError(DataError):
    """A column that the profile or the canonical schema needs is absent."""


class DuplicateKeyError(DataError):
    """The same key (e.g. an account's domain) appears on more than one row."""


class WorkspaceError(IcpError):
    """The workspace directory, its database or one of its tables is unusable."""


class DependencyError(IcpError):
    """An optional engine or library is not installed."""


class RequestError(IcpError):
    """A request the server refuses; ``status`` is its HTTP status."""

    status = 400


class AuthError(RequestError):
    status = 401


class ScopeError(RequestError):
    status = 403


class NotFoundError(RequestError):
    status = 404


class ConflictError(RequestError):
    status = 409


@dataclass
class RateLimitError(RequestError):
    retry_after_s: float = 1.0

    status = 429


def suggest(word: str, choices: Iterable[str], otherwise: str = "", cutoff: float = 0.6) -> str:
    """``did you mean 'x'?`` for the choice closest to ``word``, else ``otherwise``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f"did you mean '{close[0]}'?" if close else otherwise


def located(path: str | None, row: int | None = None, column: str | None = None) -> str:
    """Format a data location the same way everywhere: ``file, row 12, column 'x'``."""
    parts = [str(path)] if path else []
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(f"column '{column}'")
    return ", ".join(parts)
