"""The package imports as one package: no module is loaded twice under two names."""

import sys

import specredis.engine.core  # noqa: F401
import specredis.server  # noqa: F401


def test_engine_and_generated_are_only_loaded_under_specredis():
    top_level_copies = [name for name in sys.modules
                        if name.split(".")[0] in ("engine", "generated", "codegen", "protocol")]
    assert top_level_copies == []


def test_engine_package_maps_to_the_engine_folder():
    import os

    import specredis.engine
    import specredis.generated
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert os.path.dirname(specredis.engine.__file__) == os.path.join(root, "engine")
    assert os.path.dirname(specredis.generated.__file__) == os.path.join(root, "generated")


def test_every_package_folder_is_installed():
    """A non-editable install ships exactly the packages pyproject.toml lists: each folder
    with an __init__.py must be among them, or `pip install .` gives a broken server."""
    import os
    import tomllib

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "pyproject.toml"), "rb") as handle:
        setuptools_cfg = tomllib.load(handle)["tool"]["setuptools"]
    listed = set(setuptools_cfg["packages"])
    folders = setuptools_cfg["package-dir"]
    missing = []
    for package, folder in folders.items():
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            if "__init__.py" in filenames:
                rel = os.path.relpath(dirpath, os.path.join(root, folder))
                name = package if rel == "." else package + "." + rel.replace(os.sep, ".")
                if name not in listed:
                    missing.append(name)
    assert missing == []
