"""Errors reported by codegen: each names the spec file and the field at fault."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecProblem:
    """One problem in one spec file. ``field`` is a dotted path such as ``info.key_specs[0].flags``."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


class SpecError(Exception):
    """The spec is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
