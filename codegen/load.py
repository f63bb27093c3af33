"""Read ``spec/commands/*.yaml`` into plain Python data.

YAML is read with PyYAML's safe loader (the C one when libyaml is present),
extended to reject duplicate mapping keys, which plain ``safe_load`` would
silently resolve to the last value. Type mistakes of the YAML 1.1 kind
(``ON`` read as ``True``, ``~`` as ``None``) are not caught here but by the
JSON Schema in :mod:`specredis.codegen.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError, SpecProblem

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that refuses duplicate keys in a mapping."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                f"found duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class SpecFile:
    """One loaded spec file: where it came from and its parsed content."""

    path: Path
    data: dict[str, Any]

    @property
    def label(self) -> str:
        """The name used in error messages (``spec/commands/set.yaml`` style when possible)."""
        parts = self.path.parts
        return "/".join(parts[-3:]) if len(parts) >= 3 else str(self.path)


def load_file(path: Path) -> SpecFile:
    """Parse one spec file; a YAML error becomes a :class:`SpecError` naming the file."""
    try:
        with path.open("rb") as fh:
            data = yaml.load(fh, Loader=_StrictLoader)  # noqa: S506 - a safe loader subclass
    except yaml.YAMLError as exc:
        label = SpecFile(path, {}).label
        raise SpecError([SpecProblem(label, "", f"YAML error: {exc}")]) from exc
    if not isinstance(data, dict):
        label = SpecFile(path, {}).label
        raise SpecError([SpecProblem(label, "", "the file must hold a YAML mapping")])
    return SpecFile(path, data)


def load_specs(spec_dir: Path | str) -> list[SpecFile]:
    """Load every ``*.yaml`` of ``spec_dir`` in file-name order.

    All YAML errors are collected before raising, so one run reports them all.
    """
    spec_dir = Path(spec_dir)
    if not spec_dir.is_dir():
        raise SpecError([SpecProblem(str(spec_dir), "", "spec directory not found")])
    files: list[SpecFile] = []
    problems: list[SpecProblem] = []
    for path in sorted(spec_dir.glob("*.yaml")):
        try:
            files.append(load_file(path))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    if not files:
        raise SpecError([SpecProblem(str(spec_dir), "", "no *.yaml spec files found")])
    return files
