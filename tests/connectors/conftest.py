"""Fakes served on ephemeral ports, and connectors pointed at them that never wait for real."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.connectors.fake_anthropic import FakeAnthropic
from tests.connectors.fake_contract import FakeContract
from tests.connectors.fake_litellm import FakeLiteLLM
from tests.connectors.server import Served


@dataclass
class Sleeps:
    """A sleep function that records the waits instead of taking them."""

    waits: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def anthropic_fake() -> Iterator[Served[FakeAnthropic]]:
    with Served(FakeAnthropic()) as served:
        yield served


@pytest.fixture
def litellm_fake() -> Iterator[Served[FakeLiteLLM]]:
    with Served(FakeLiteLLM()) as served:
        yield served


@pytest.fixture
def contract_fake() -> Iterator[Served[FakeContract]]:
    with Served(FakeContract()) as served:
        yield served
