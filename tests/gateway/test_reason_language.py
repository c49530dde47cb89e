"""Every rejection reason and refusal written in the code is Bahasa Indonesia (issue 11.8).

A `PayloadInvalid` message is what a pemda admin reads on the repair page and the dashboard
and what a sender gets in a 400 answer; an `InvalidSignature` message is the 403 answer a
site's developer reads. Each literal one in the packages that raise them is checked for
English words (tests/language.py). Log lines stay English and are not such messages. The
fuzz, hostile-input and adapter-harness tests check the reasons produced at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import GatewayHarness
from tests.language import ENGLISH_WORDS, assert_indonesian, english_words
from vocabulary.errors import PayloadInvalid

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["adapters", "gateway", "normalizer", "forwarder", "config", "store"]


def _literal(node: ast.expr) -> str | None:
    """The text of a string literal or f-string, each `{…}` replaced by a neutral marker."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "0"
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _literal(node.left), _literal(node.right)
        return None if left is None and right is None else (left or "0") + (right or "0")
    return None


def _reasons() -> list[tuple[str, str]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("PayloadInvalid", "InvalidSignature")
                    and node.args
                ):
                    text = _literal(node.args[0])
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.append((where, text if text is not None else ""))
    return found


REASONS = _reasons()


def test_the_reasons_are_found() -> None:
    """The scan sees the raises it guards (a broken scan must not pass silently)."""
    files = {where.split(":")[0] for where, _ in REASONS}
    assert len(REASONS) >= 50
    assert {"adapters/webform/adapter.py", "gateway/intake/plan.py"} <= files
    assert "normalizer/pipeline.py" in files


@pytest.mark.parametrize(("where", "reason"), REASONS, ids=[r[0] for r in REASONS])
def test_every_payload_invalid_reason_is_indonesian(where: str, reason: str) -> None:
    assert reason, f"{where}: a reason must be a literal text, so that it can be checked"
    assert_indonesian(reason)


@pytest.mark.parametrize(
    "reason",
    [
        "expected a JSON body",
        "field 'isi_aduan' is required and must not be empty",
        "external id must be 1 to 255 characters, got 300",
        "unreadable request (ValueError)",
    ],
)
def test_an_english_reason_is_caught(reason: str) -> None:
    assert english_words(reason)
    with pytest.raises(AssertionError, match="English"):
        assert_indonesian(reason)


def test_quoted_names_and_values_are_not_prose() -> None:
    """Field names, repr values and exception class names may be English; prose may not."""
    assert english_words("isian `is_required` harus berupa angka") == []
    assert english_words("set karakter 'not-a-charset' tidak dikenal") == []
    assert english_words("permintaan tidak dapat dibaca (RecursionError)") == []
    assert english_words("isian `body` is required") == ["is", "required"]


def test_the_word_list_holds_no_indonesian_word() -> None:
    """Each word of the Indonesian reasons in use passes (the list is English only)."""
    indonesian = "isian wajib diisi dan tidak boleh kosong badan permintaan bukan harus berupa"
    assert not set(indonesian.split()) & ENGLISH_WORDS


def test_strict_normalizer_refusals_are_indonesian() -> None:
    """Reasons built at run time from parts (the normalizer's refusals) are checked too."""
    from normalizer.pipeline import NormalizerSettings, normalize_draft
    from tests.normalizer.test_pipeline import draft

    settings = NormalizerSettings(strict=True)
    for fields in (
        {"email": "budi @contoh.id"},
        {"email": "budi@contoh.id\r\nBcc: x@y.id"},
        {"email": "agus.salim@contoh"},
        {"phone": "12"},
        {"identity_number": "12345"},
        {"lat": 123.0},
        {"kind": "complaint"},
        {"body": "   "},
        {"letter": {"date": "kemarin"}},
    ):
        with pytest.raises(PayloadInvalid) as caught:
            normalize_draft(draft(**fields), settings)
        assert_indonesian(str(caught.value))


def test_webhook_refusals_are_indonesian(intake_gateway: GatewayHarness) -> None:
    """The answers of the webhook route itself: unknown channel, wrong method, bad input."""
    unknown = intake_gateway.client.post("/channels/tidak-ada/inbound", json={"body": "x"})
    wrong_method = intake_gateway.client.get("/channels/web/inbound")
    not_json = intake_gateway.post("web", data=b"{bukan json", content_type="application/json")
    assert [r.status_code for r in (unknown, wrong_method, not_json)] == [404, 405, 400]
    for response in (unknown, wrong_method, not_json):
        assert_indonesian(response.get_json()["error"]["message"])
