"""Reading and writing the toolkit's documents (JSON or YAML), from files or stdin/stdout.

Every read validates into a pydantic model and turns any problem into an
`InputError` naming the field path; every write is atomic, so a failed
command leaves no half-written file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from gaisnet_opt.errors import InputError

M = TypeVar("M", bound=BaseModel)

STDIO = "-"


def read_text(path: str | Path) -> str:
    """The text of `path`, or of stdin for '-'."""
    if str(path) == STDIO:
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), [("(file)", exc.strerror or str(exc))]) from None


def parse_document(text: str, source: str) -> object:
    """JSON or YAML (JSON is YAML, but JSON errors read better from the JSON parser)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(source, [(f"(line {exc.lineno}, column {exc.colno})", f"malformed JSON: {exc.msg}")]) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"(line {mark.line + 1}, column {mark.column + 1})" if mark else "(document)"
        raise InputError(source, [(where, f"malformed YAML: {getattr(exc, 'problem', exc)}")]) from None


def parse_as(model: type[M], data: object, source: str) -> M:
    """`data` as a `model`, or an InputError naming every wrong field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputError.from_validation(source, exc) from None


def load(model: type[M], path: str | Path) -> M:
    """Read, parse and validate one document."""
    source = "<stdin>" if str(path) == STDIO else str(path)
    return parse_as(model, parse_document(read_text(path), source), source)


def dumps(obj: BaseModel | dict | list, fmt: str = "json") -> str:
    """Serialize losslessly (floats as shortest round-trip repr) as JSON or YAML."""
    data = obj.model_dump(mode="json") if isinstance(obj, BaseModel) else obj
    if fmt == "yaml":
        return yaml.safe_dump(data, sort_keys=False)
    return json.dumps(data, indent=2) + "\n"


def format_for(path: str | Path) -> str:
    return "yaml" if str(path).endswith((".yaml", ".yml")) else "json"


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call `write(tmp)` on a temporary file beside `path`, then rename it to `path`: all or nothing.

    The one way the toolkit writes a file (documents, figures, checkpoints,
    backbones): a failed or interrupted write leaves no half-written file, and
    the file gets the mode any new file gets here (0666 less the umask; mkstemp's
    0600 would hide it from other users). An unwritable place is an InputError.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=target.suffix or ".tmp")
    except OSError as exc:
        raise InputError(str(path), [("(file)", f"cannot write here: {exc.strerror or exc}")]) from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except IsADirectoryError:
        raise InputError(str(path), [("(file)", "is a directory")]) from None
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_text(path: str | Path, text: str) -> None:
    """Write atomically (`atomic_write`), or to stdout for '-'."""
    if str(path) == STDIO:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(obj: BaseModel | dict | list, path: str | Path) -> None:
    """Write one document in the format its suffix names (JSON by default)."""
    write_text(path, dumps(obj, format_for(path)))


def csv_text(rows: Iterable[Mapping[str, object]]) -> str:
    """Rows as CSV text, header first, columns in first-seen order (a row without a column leaves it empty)."""
    rows = list(rows)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
