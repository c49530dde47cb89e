"""Config problems: one `ConfigIssue` per thing wrong, all of them in one `ConfigError`."""

from __future__ import annotations

from dataclasses import dataclass

from vocabulary.errors import GatewayError


@dataclass(frozen=True)
class ConfigIssue:
    """One thing wrong with the config, pinned to a path and a line."""

    path: str
    message: str
    file: str
    line: int | None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.path or '(top)'}: {self.message} ({where})"


class ConfigError(GatewayError):
    """The config cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))
