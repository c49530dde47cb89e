"""Channel types -> adapter classes, imported only when a channel of that type is configured.

Built-in types are listed by dotted path; third parties add types through the entry-point
group `sp4n_gateway.adapters` (name = the YAML `type:`, value = `module:Class`).
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from adapters.base import Adapter
from vocabulary.errors import AdapterUnavailable

ENTRY_POINT_GROUP = "sp4n_gateway.adapters"

BUILTIN: dict[str, str] = {
    "webform": "adapters.webform.adapter:WebformAdapter",
    "letter": "adapters.letter.adapter:LetterAdapter",
    "phone": "adapters.letter.adapter:PhoneCallAdapter",
    "walk_in": "adapters.letter.adapter:WalkInAdapter",
    "fax": "adapters.letter.adapter:FaxAdapter",
    "public_form": "adapters.webform.public_form:PublicFormAdapter",
    "legacy_db": "adapters.webform.legacy_db:LegacyDbAdapter",
    "imap": "adapters.email.imap:ImapAdapter",
    "twilio_sms": "adapters.sms.twilio_sms:TwilioSmsAdapter",
    "kannel_sms": "adapters.sms.kannel_sms:KannelSmsAdapter",
    "gammu_smsd": "adapters.sms.gammu_smsd:GammuSmsdAdapter",
    "telegram": "adapters.telegram.adapter:TelegramAdapter",
    "whatsapp_cloud": "adapters.meta.whatsapp:WhatsAppCloudAdapter",
    "facebook_messenger": "adapters.meta.messenger:MessengerAdapter",
    "instagram_dm": "adapters.meta.messenger:InstagramDmAdapter",
    "twitter": "adapters.twitter.adapter:TwitterAdapter",
}


class DuplicateAdapterType(AdapterUnavailable):
    """Two sources declare the same channel type; startup must fail."""


@cache
def known_types() -> dict[str, str]:
    """Every channel type with its dotted import path (built-in plus installed plugins)."""
    types = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in types:
            raise DuplicateAdapterType(
                f"channel type {ep.name!r} is declared twice: {types[ep.name]} and {ep.value}"
            )
        types[ep.name] = ep.value
    return types


def load_adapter_class(type_name: str) -> type[Adapter[Any]]:
    """Import the adapter class for a channel type; a missing library is a loud error."""
    try:
        path = known_types()[type_name]
    except KeyError:
        raise AdapterUnavailable(
            f"jenis kanal {type_name!r} tidak dikenal;"
            f" jenis yang ada: {', '.join(sorted(known_types()))}"
        ) from None
    module_name, _, class_name = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AdapterUnavailable(
            f"jenis kanal {type_name!r} memerlukan pustaka yang belum terpasang ({exc})"
        ) from exc
    cls = getattr(module, class_name)
    if not (isinstance(cls, type) and issubclass(cls, Adapter)) or cls.type != type_name:
        raise AdapterUnavailable(f"{path} bukan adaptor untuk jenis kanal {type_name!r}")
    return cls
