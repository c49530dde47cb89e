"""The adapter contract is checked when a class is made: a broken plugin fails at import."""

from __future__ import annotations

import builtins
from typing import Any, Literal

import pytest

from adapters.base import Adapter, ChannelOptions, PollOptions
from adapters.registry import known_types, load_adapter_class


class GoodOptions(ChannelOptions):
    type: Literal["good_push"] = "good_push"


def _make(**attrs: Any) -> builtins.type[Adapter[Any]]:
    namespace: dict[str, Any] = {
        "type": "good_push",
        "kind": "webform",
        "modes": frozenset({"push"}),
        "Options": GoodOptions,
        "verify": lambda self, request: None,
        **attrs,
    }
    namespace = {k: v for k, v in namespace.items() if v is not None}
    return builtins.type("Plugin", (Adapter,), namespace)


def test_a_complete_push_adapter_is_accepted() -> None:
    cls = _make()
    adapter = cls(GoodOptions(name="ok", type="good_push"))
    assert adapter.options.name == "ok"


BROKEN = [
    ("kind missing", {"kind": None}, "class attribute 'kind' is not set"),
    (
        "Options.type differs",
        {"type": "other_push"},
        "GoodOptions.type must be Literal['other_push']",
    ),
    ("push without verify", {"verify": None}, "a push adapter must override verify"),
    ("poll without PollOptions", {"modes": frozenset({"poll"})}, "must extend PollOptions"),
    ("unknown mode", {"modes": frozenset({"pull"})}, "modes must be a non-empty set"),
]


@pytest.mark.parametrize(("attrs", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_adapter_class_is_refused(attrs: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match="breaks the adapter contract") as caught:
        _make(**attrs)
    assert message in str(caught.value)


def test_options_of_another_type_are_refused() -> None:
    class OtherOptions(PollOptions):
        type: Literal["x"] = "x"

    cls = _make()
    with pytest.raises(TypeError, match="needs GoodOptions"):
        cls(OtherOptions(name="x", type="x"))


@pytest.mark.parametrize("type_name", sorted(known_types()))
def test_every_registered_adapter_keeps_the_contract(type_name: str) -> None:
    cls = load_adapter_class(type_name)
    assert cls.type == type_name
    if "push" in cls.modes:
        assert cls.verify is not Adapter.verify
    if "poll" in cls.modes:
        assert issubclass(cls.Options, PollOptions)
