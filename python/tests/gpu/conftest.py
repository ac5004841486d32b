"""GPU tests: skipped visibly without a CUDA device (ctest shows python_gpu_tests as skipped), failed
instead when MOEGATE_REQUIRE_GPU=1."""
import os

import pytest

import moegate


HERE = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config, items):
    items = [item for item in items if str(item.fspath).startswith(HERE)]
    if not items or moegate.cuda.device_count() > 0:
        return
    if os.environ.get("MOEGATE_REQUIRE_GPU") == "1":
        raise pytest.UsageError("MOEGATE_REQUIRE_GPU=1 but no CUDA device is visible")
    import sys
    sys.__stdout__.write(f"\n[moegate] GPU tests skipped: no CUDA device ({moegate.cuda.version()})\n")
    skip = pytest.mark.skip(reason="no CUDA device")
    for item in items:
        item.add_marker(skip)
