"""Bad instances are refused with the field path and the reason."""

from __future__ import annotations

import copy

import pytest

from gaisnet_opt.errors import InputError
from gaisnet_opt.io import parse_as
from gaisnet_opt.schedule import ScheduleInstance

GOOD = {
    "models": [
        {"name": "A", "cap": 2, "finetune_cost": 50, "profit": [50, 75, 100]},
        {"name": "B", "cap": 1, "finetune_cost": 10, "profit": {"base": 5, "gain_per_level": 1}},
    ],
    "requests": [["A"], ["B", "A"], []],
}


def problems(data: dict) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse_as(ScheduleInstance, data, "test")
    return dict(info.value.problems)


def with_(path: tuple, value) -> dict:
    """GOOD with one field replaced (path of keys and indices)."""
    data = copy.deepcopy(GOOD)
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_good_instance_is_accepted() -> None:
    inst = parse_as(ScheduleInstance, GOOD, "test")
    assert inst.horizon == 3
    assert inst.models[1].profits == (5.0, 6.0)
    assert inst.demand().tolist() == [[1, 0], [1, 1], [0, 0]]


@pytest.mark.parametrize(
    ("path", "value", "where", "reason"),
    [
        (("models", 0, "cap"), -1, "models[0].cap", "greater than or equal to 0"),
        (("models", 0, "profit"), [50, 75], "models[0].profit", "needs cap+1 = 3 values"),
        (("models", 1, "name"), "a", "models[1].name", "duplicate model name"),
        (("models", 0, "finetune_cost"), -5, "models[0].finetune_cost", "greater than or equal to 0"),
        (("requests", 1, 0), "Z", "requests[1][0]", "unknown model 'Z'"),
        (("requests",), [], "requests", "empty horizon"),
        (("capacity",), 0, "capacity", "greater than 0"),
        (("models", 0, "profit"), [50, float("nan"), 100], "models[0].profit.table[1]", "finite number"),
        (("models", 0, "finetune_cost"), float("inf"), "models[0].finetune_cost", "finite number"),
        (("models",), [], "models", "at least 1 item"),
        (("models", 1, "profit", "base"), "high", "models[1].profit.curve.base", "valid number"),
    ],
)
def test_bad_field_is_named(path: tuple, value, where: str, reason: str) -> None:
    found = problems(with_(path, value))
    assert where in found, found
    assert reason in found[where]


def test_requests_or_forecast_is_required() -> None:
    data = {k: v for k, v in GOOD.items() if k != "requests"}
    assert problems(data)["requests"] == "give the requests per round, or a forecast"


@pytest.mark.parametrize(
    ("probabilities", "where", "reason"),
    [
        ([{"Z": 0.5}], "forecast.probabilities[0].Z", "unknown model"),
        ([{"A": 1.5}], "forecast.probabilities[0].A", "[0, 1]"),
        ([{"A": 0.7, "B": 0.6}], "forecast.probabilities[0]", "add up to 1.3 > 1"),
        ([{"A": 0.5}], "forecast.probabilities", "covers 1 rounds, requests cover 3"),
    ],
)
def test_bad_forecast_is_named(probabilities: list, where: str, reason: str) -> None:
    found = problems(with_(("forecast",), {"probabilities": probabilities}))
    assert where in found, found
    assert reason in found[where]


def test_unknown_field_is_refused() -> None:
    assert "horizon" in problems(with_(("horizon",), 10))
