"""specredis.codegen: ``spec/commands/*.yaml`` → ``generated/`` and ``docs/commands/``.

Pipeline: :mod:`.load` (YAML) → :mod:`.validate` (JSON Schema + cross-checks) →
:mod:`.derive` (fullnames, ids, flags, categories, legacy key range, syntax) →
:mod:`.render` (Jinja2 templates in ``templates/``).

Command line: ``python -m specredis.codegen [--check] [--spec DIR] [--out DIR] [--docs DIR | --no-docs]``.
From Python: :func:`specredis.codegen.render.render_to` and :func:`specredis.codegen.render.load_module`.
"""
