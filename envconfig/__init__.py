"""What the agent and dispatch services share when they read their environment."""

from __future__ import annotations

from dataclasses import dataclass, field


class SettingsError(ValueError):
    """A missing or malformed environment variable; str() is the one line shown to the user."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"environment variable {variable} {problem}")
        self.variable = variable


@dataclass(frozen=True)
class Secret:
    """A credential that never shows up in repr(), str() or logs."""

    value: str = field(repr=False)

    def reveal(self) -> str:
        """The raw credential, for handing to a client library and nowhere else."""
        return self.value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"
