"""``python -m specredis.codegen [--check] [--spec DIR] [--out DIR] [--docs DIR | --no-docs]``

Validates ``spec/commands/*.yaml`` and renders ``generated/`` (command table, ACL tables,
introspection replies) and ``docs/commands/`` (client docs). With ``--check`` nothing is
written: the exit status is 1 when any output is stale, listing the files.

Exit status: 0 success, 1 stale outputs (``--check``), 2 invalid spec.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import SpecError
from .render import (
    DEFAULT_DOCS_DIR,
    DEFAULT_OUT_DIR,
    DEFAULT_SPEC_DIR,
    ROOT,
    build,
    check,
    render_outputs,
    write_outputs,
)


def _show(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    """Run codegen; return the process exit status."""
    parser = argparse.ArgumentParser(prog="python -m specredis.codegen",
                                     description="Render generated/ and docs/commands/ from spec/commands/.")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if any output is stale")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC_DIR, help="spec directory (spec/commands)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="Python output directory (generated)")
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS_DIR, help="docs output directory (docs/commands)")
    parser.add_argument("--no-docs", action="store_true", help="do not render (or check) the Markdown docs")
    args = parser.parse_args(argv)
    docs_dir = None if args.no_docs else args.docs

    try:
        built = build(args.spec)
    except SpecError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"codegen: {len(exc.problems)} error(s) in the spec; nothing rendered", file=sys.stderr)
        return 2
    for warning in built.warnings:
        print(f"warning: {warning}", file=sys.stderr)

    outputs = render_outputs(built, args.out, docs_dir)
    served = len(built.commands.served)
    total = len(built.commands.commands)
    if args.check:
        stale = check(outputs, docs_dir)
        if stale:
            print(f"codegen --check: {len(stale)} stale file(s); run `python -m specredis.codegen`:",
                  file=sys.stderr)
            for path in stale:
                print(f"  {_show(path)}", file=sys.stderr)
            return 1
        print(f"codegen --check: up to date ({total} commands, {served} served)", file=sys.stderr)
        return 0
    changed = write_outputs(outputs, docs_dir)
    for path in changed:
        print(f"wrote {_show(path)}", file=sys.stderr)
    print(f"codegen: {total} commands, {served} served; {len(changed)} file(s) changed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
