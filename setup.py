"""Build script: everything is declared in pyproject.toml except the optional C accelerator.

``specredis._hotloop`` (specredis/_hotloop.c) runs the server's common requests without
the interpreter's per-command overhead. It is optional: when it cannot be built (no
compiler, no Python headers) the install goes on and the server uses its pure-Python
path, which behaves the same (tests/perf compares the two).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("specredis._hotloop", ["specredis/_hotloop.c"], optional=True,
                  extra_compile_args=["-O2"]),
    ],
)
