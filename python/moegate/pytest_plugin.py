"""pytest integration: `-p moegate.pytest_plugin` (or `pytest_plugins = ["moegate.pytest_plugin"]` in a
conftest.py) adds --moegate-budget N (random cases per check_router; default MOEGATE_PROPERTY_BUDGET or
300) and the fixture `moegate_check`, check_router with that budget:

    def test_my_router(moegate_check):
        moegate_check(my_router, moegate.Support(max_topk=8, profile="torch"))
"""
import functools
import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--moegate-budget", type=int, default=None,
                     help="random cases per moegate.check_router (default: MOEGATE_PROPERTY_BUDGET or 300)")


def pytest_configure(config):
    budget = config.getoption("--moegate-budget")
    if budget is not None:
        if budget < 0:
            raise pytest.UsageError("--moegate-budget must be >= 0")
        os.environ["MOEGATE_PROPERTY_BUDGET"] = str(budget)


@pytest.fixture
def moegate_budget():
    from .check import default_budget
    return default_budget()


@pytest.fixture
def moegate_check(moegate_budget):
    """moegate.check_router with the session's budget; a failure fails the test with the shrunk case."""
    from .check import check_router
    return functools.partial(check_router, budget=moegate_budget)
