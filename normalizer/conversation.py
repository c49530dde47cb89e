"""The guided conversation of chat channels (Telegram, WhatsApp) as a pure state machine.

start -> kind (buttons / list) -> describe -> location (optional) -> photos (optional) ->
privacy (biasa / anonim / rahasia) -> confirm -> the collected report. Each citizen message
moves the machine one turn and yields the one prompt to send next. No I/O, no clock: the
gateway keeps the state in the database and sends the prompts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vocabulary.kinds import KIND_NAMES

START_WORDS = frozenset(
    {
        "/start",
        "/lapor",
        "/mulai",
        "/menu",
        "lapor",
        "mulai",
        "menu",
        "halo",
        "hai",
        "hi",
        "hello",
        "p",
        "assalamualaikum",
        "selamat pagi",
        "selamat siang",
        "selamat sore",
        "selamat malam",
    }
)
CANCEL_WORDS = frozenset({"/batal", "batal", "batalkan", "/cancel", "cancel"})
SKIP_WORDS = frozenset({"lewati", "skip", "tidak", "tidak ada", "-"})
DONE_WORDS = frozenset({"selesai", "cukup", "sudah", "done"})
SEND_WORDS = frozenset({"kirim", "ya", "benar", "ok", "oke"})
PRIVACY = ("biasa", "anonim", "rahasia")
MIN_DESCRIPTION = 10  # characters: "jalan" alone tells an agency nothing
MAX_TURNS = 40  # an auto-responder cannot keep a conversation going for ever
MAX_PHOTOS = 5


class ConversationStep(StrEnum):
    """The question a conversation waits for an answer to (kept in `conversations.step`)."""

    KIND = "kind"
    DESCRIBE = "describe"
    LOCATION = "location"
    PHOTOS = "photos"
    PRIVACY = "privacy"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class ChatInput:
    """One citizen message as the machine sees it."""

    text: str = ""
    choice: str | None = None
    lat: float | None = None
    lon: float | None = None
    location_text: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Turn:
    """What one message did: the next step (None: the conversation is over) and the prompt."""

    step: ConversationStep | None
    data: dict[str, Any]
    prompt: str  # template name without the `chat_` prefix
    choices: tuple[str, ...] = ()  # choice ids; titles come from the admin's templates
    again: bool = False  # the input did not fit: the same question once more
    complete: bool = False


def _word(text: str) -> str:
    return re.sub(r"[\s.!?,]+$", "", " ".join(text.lower().split()))


def is_start(text: str) -> bool:
    """A message that opens the guided conversation (never a complaint on its own)."""
    return _word(text) in START_WORDS


def is_cancel(text: str) -> bool:
    """A message that gives the conversation up."""
    return _word(text) in CANCEL_WORDS


KIND_CHOICES = tuple(f"kind:{k}" for k in KIND_NAMES)
STEP_CHOICES: dict[ConversationStep, tuple[str, ...]] = {
    ConversationStep.KIND: KIND_CHOICES,
    ConversationStep.DESCRIBE: (),
    ConversationStep.LOCATION: ("skip",),
    ConversationStep.PHOTOS: ("done",),
    ConversationStep.PRIVACY: tuple(f"privacy:{p}" for p in PRIVACY),
    ConversationStep.CONFIRM: ("confirm:send", "confirm:cancel"),
}


def begin() -> Turn:
    """A new conversation: ask for the kind."""
    step = ConversationStep.KIND
    return Turn(step, {"attachments": []}, step.value, STEP_CHOICES[step])


def ask(step: ConversationStep, data: dict[str, Any], *, again: bool = False) -> Turn:
    """The prompt of a step (its template is named as the step)."""
    return Turn(step, data, step.value, STEP_CHOICES[step], again=again)


def advance(step: ConversationStep, data: dict[str, Any], given: ChatInput) -> Turn:
    """One turn from `step` with the collected `data` and the citizen's input."""
    data = {**data, "attachments": list(data.get("attachments") or [])}
    data["turns"] = int(data.get("turns") or 0) + 1
    if data["turns"] > MAX_TURNS:
        return Turn(None, data, "cancelled")
    return _HANDLERS[step](data, given, _word(given.choice or given.text))


def _kind(data: dict[str, Any], given: ChatInput, word: str) -> Turn:
    numbered = {str(i + 1): k for i, k in enumerate(KIND_NAMES)}
    kind = (word.removeprefix("kind:") if word.startswith("kind:") else None) or numbered.get(word)
    kind = kind or next((k for k in KIND_NAMES if word in (k, k.replace("_", " "))), None)
    if kind in KIND_NAMES:
        data["kind"] = kind
        return ask(ConversationStep.DESCRIBE, data)
    if not given.choice and len(given.text.strip()) >= 20:
        # The citizen skipped ahead and wrote the complaint: take it, let the kind be guessed.
        data["body"] = given.text.strip()
        return ask(ConversationStep.LOCATION, data)
    return ask(ConversationStep.KIND, data, again=True)


def _describe(data: dict[str, Any], given: ChatInput, word: str) -> Turn:
    data["attachments"] += given.attachments[:MAX_PHOTOS]
    text = "" if given.choice else given.text.strip()
    if len(text) < MIN_DESCRIPTION or text.startswith("[Pesan tanpa teks"):
        return ask(ConversationStep.DESCRIBE, data, again=True)
    data["body"] = text
    return ask(ConversationStep.LOCATION, data)


def _location(data: dict[str, Any], given: ChatInput, word: str) -> Turn:
    if given.lat is not None and given.lon is not None:
        data.update(lat=given.lat, lon=given.lon, location_text=given.location_text)
    elif word == "skip" or word in SKIP_WORDS:
        pass
    elif given.text.strip() and not given.choice and not given.attachments:
        data["location_text"] = given.text.strip()
    else:
        return ask(ConversationStep.LOCATION, data, again=True)
    return ask(ConversationStep.PHOTOS, data)


def _photos(data: dict[str, Any], given: ChatInput, word: str) -> Turn:
    if given.attachments:
        room = MAX_PHOTOS - len(data["attachments"])
        data["attachments"] += given.attachments[: max(room, 0)]
        step = ConversationStep.PHOTOS
        return Turn(step, data, "photo_saved", STEP_CHOICES[step])
    if word == "done" or word in DONE_WORDS or word in SKIP_WORDS:
        return ask(ConversationStep.PRIVACY, data)
    return ask(ConversationStep.PHOTOS, data, again=True)


def _privacy(data: dict[str, Any], given: ChatInput, word: str) -> Turn:
    choice = word.removeprefix("privacy:")
    numbered = {str(i + 1): p for i, p in enumerate(PRIVACY)}
    choice = numbered.get(choice, choice)
    if choice not in PRIVACY:
        return ask(ConversationStep.PRIVACY, data, again=True)
    data["anonymous"] = choice == "anonim"
    data["confidential"] = choice == "rahasia" or data.get("kind") == "whistleblowing"
    return ask(ConversationStep.CONFIRM, data)


def _confirm(data: dict[str, Any], given: ChatInput, word: str) -> Turn:
    if word == "confirm:send" or word in SEND_WORDS:
        return Turn(None, data, "done", complete=True)
    if word == "confirm:cancel":
        return Turn(None, data, "cancelled")
    return ask(ConversationStep.CONFIRM, data, again=True)


_HANDLERS: dict[ConversationStep, Callable[[dict[str, Any], ChatInput, str], Turn]] = {
    ConversationStep.KIND: _kind,
    ConversationStep.DESCRIBE: _describe,
    ConversationStep.LOCATION: _location,
    ConversationStep.PHOTOS: _photos,
    ConversationStep.PRIVACY: _privacy,
    ConversationStep.CONFIRM: _confirm,
}
