"""Fixtures of the Python binding tests.

Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python
These tests cover the binding contract (conversions, errors, threads, the GIL, pickling,
pandas); the language's semantics are tested once, in C++.
"""

import copy

import pytest

import carerules
from _binding import RECORD, RULES


@pytest.fixture(scope="session")
def rs():
    return carerules.compile(RULES, name="binding.rules")


@pytest.fixture
def record():
    return copy.deepcopy(RECORD)
