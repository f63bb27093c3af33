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
