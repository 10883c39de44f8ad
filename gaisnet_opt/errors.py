"""Errors that name the field and the reason, for every input the toolkit reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


@dataclass(frozen=True)
class FieldProblem:
    """One wrong field: where (a path of keys and indices), why, and the value."""

    loc: tuple[str | int, ...]
    reason: str
    value: Any = None


def raise_problems(title: str, problems: Sequence[FieldProblem]) -> None:
    """Raise a pydantic ValidationError listing every problem at its own path."""
    if not problems:
        return
    details = [
        InitErrorDetails(
            type=PydanticCustomError("invalid_reference", "{reason}", {"reason": p.reason}),
            loc=p.loc,
            input=p.value,
        )
        for p in problems
    ]
    raise ValidationError.from_exception_data(title, details)


def fail(title: str, loc: tuple[str | int, ...], reason: str, value: Any = None) -> NoReturn:
    """Raise a ValidationError for one field."""
    raise_problems(title, [FieldProblem(loc, reason, value)])
    raise AssertionError("raise_problems raises when given a problem")


def format_path(loc: Sequence[str | int]) -> str:
    """`('d2d', 3, 'dst')` -> `d2d[3].dst`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


class InputError(ValueError):
    """Bad input: every problem with its field path. The CLI exits 2 on it."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  {path}: {reason}" for path, reason in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s)\n{lines}")

    @classmethod
    def from_validation(cls, source: str, err: ValidationError) -> InputError:
        return cls(source, [(format_path(e["loc"]), e["msg"]) for e in err.errors(include_url=False)])
