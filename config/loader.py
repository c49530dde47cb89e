"""Read the YAML config: line numbers kept, `${VAR}` from the environment, every error at once.

Each problem is reported as `path: message (file:line)`, e.g.
`channels[2].auth_token: field required (gateway.yaml:31)`, and the gateway refuses to start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from adapters.base import Adapter, ChannelOptions
from adapters.registry import known_types, load_adapter_class
from config.errors import ConfigError, ConfigIssue
from config.messages import pydantic_message, yaml_message
from config.models import check_models, resolve_model_paths
from config.schema import Agency, CentralSection, ConfigModel, RoutingSection
from config.secrets import ENV_REF, SecretRules
from vocabulary.errors import AdapterUnavailable

PathKey = tuple[str | int, ...]
MAX_NODES = 100_000


@dataclass
class Config:
    """A checked config: the sections plus each channel's own options model."""

    model: ConfigModel
    channels: list[ChannelOptions]
    source: str
    warnings: list[ConfigIssue] = field(default_factory=list)

    @property
    def agency_parents(self) -> dict[str, str | None]:
        """Agency code -> parent code (None at the root)."""
        return {a.code: a.parent for a in self.model.agencies}

    def channel(self, name: str) -> ChannelOptions | None:
        """The enabled channel with that name, if any."""
        for ch in self.channels:
            if ch.name == name and ch.enabled:
                return ch
        return None


def format_path(path: PathKey, channel_names: Mapping[int, str] | None = None) -> str:
    """`('channels', 2, 'auth_token')` -> `channels[2].auth_token`, or by the channel's name.

    A channel is easier to find by its name than by its position:
    `channels[web-kabupaten].secret`.
    """
    out = ""
    for i, part in enumerate(path):
        if isinstance(part, int):
            name = (channel_names or {}).get(part) if i == 1 and path[0] == "channels" else None
            out += f"[{name or part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Tree:
    """Python data from YAML nodes, remembering each path's line and its raw text."""

    def __init__(self, filename: str, env: Mapping[str, str]) -> None:
        self.filename = filename
        self.env = env
        self.lines: dict[PathKey, int] = {}
        self.raw: dict[PathKey, str] = {}
        self.issues: list[ConfigIssue] = []
        self.channel_names: dict[int, str] = {}
        self._open: set[int] = set()  # nodes being built: an alias to one of them is a loop
        self._built = 0

    def line_of(self, path: PathKey) -> int | None:
        """The line of the path, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def issue(self, path: PathKey, message: str) -> None:
        """Record a problem at a path."""
        self.issues.append(self.at(path, message))

    def at(self, path: PathKey, message: str) -> ConfigIssue:
        """A problem (or warning) pinned to a path, channels named by their names."""
        return ConfigIssue(
            format_path(path, self.channel_names), message, self.filename, self.line_of(path)
        )

    def build(self, node: yaml.Node, loader: yaml.SafeLoader, path: PathKey) -> Any:
        """Turn a node into data, expanding `${VAR}` in strings."""
        self.lines.setdefault(path, node.start_mark.line + 1)
        self._built += 1
        if self._built > MAX_NODES:
            # Aliases can make a small file expand enormously ("billion laughs").
            raise yaml.constructor.ConstructorError(
                None, None, f"berkas mengembang melebihi {MAX_NODES} nilai", node.start_mark
            )
        if id(node) in self._open:
            raise yaml.constructor.ConstructorError(
                None, None, "sebuah alias merujuk induknya sendiri (berputar)", node.start_mark
            )
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self._open.add(id(node))
            try:
                return self._build_collection(node, loader, path)
            finally:
                self._open.discard(id(node))
        value = loader.construct_object(node)
        if isinstance(value, str) and "${" in value:
            self.raw[path] = value
            return self._expand(value, path)
        return value

    def _build_collection(self, node: yaml.Node, loader: yaml.SafeLoader, path: PathKey) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            loader.flatten_mapping(node)
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node)
                if not isinstance(key, str):
                    key = str(key)
                child = (*path, key)
                self.lines[child] = key_node.start_mark.line + 1
                if key in result:
                    self.issue(child, "kunci ganda (sudah ada di atasnya)")
                    continue
                result[key] = self.build(value_node, loader, child)
            return result
        return [self.build(item, loader, (*path, i)) for i, item in enumerate(node.value)]

    def _expand(self, text: str, path: PathKey) -> str:
        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.env:
                return self.env[name]
            if default is not None:
                return default
            self.issue(path, f"variabel lingkungan {name} belum diisi")
            return ""

        return ENV_REF.sub(substitute, text)


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Read and check a config file; raise ConfigError listing every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue("", f"berkas tidak dapat dibaca: {exc.strerror}", str(file), None)]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue("", "berkas bukan teks UTF-8", str(file), None)]) from exc
    return parse_config(
        text, file.name, os.environ if env is None else env, base_dir=file.resolve().parent
    )


def parse_config(
    text: str, filename: str, env: Mapping[str, str], base_dir: Path | None = None
) -> Config:
    """Check config text (see load_config); model paths are relative to `base_dir`."""
    tree = _Tree(filename, env)
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # reads ahead: may already raise on a bad character
        node = loader.get_single_node()
        data = tree.build(node, loader, ()) if node is not None else None
    except yaml.YAMLError as exc:
        message, line = yaml_message(exc, text)
        raise ConfigError([ConfigIssue("", message, filename, line)]) from exc
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(
            [
                ConfigIssue(
                    "",
                    "isi berkas harus berupa pemetaan dengan gateway, central, agencies,"
                    " routing dan channels",
                    filename,
                    1,
                )
            ]
        )

    _remember_channel_names(tree, data.get("channels"))
    model: ConfigModel | None = None
    try:
        model = ConfigModel.model_validate(data)
    except ValidationError as exc:
        _add_pydantic_issues(tree, (), exc)
    warnings: list[ConfigIssue] = []
    demo = isinstance(data.get("gateway"), dict) and data["gateway"].get("demo") is True
    secrets = SecretRules(tree, warnings, demo=demo)
    secrets.check_source(("central", "token"))
    secrets.check_source(("sla", "digest", "smtp_password"))
    if model is not None:
        secrets.check_value(("central", "token"), model.central.token, inbound=False)
        if model.sla.digest is not None:
            secrets.check_value(
                ("sla", "digest", "smtp_password"), model.sla.digest.smtp_password, inbound=False
            )
        secrets.check_database_url(("gateway", "database"), model.gateway.database)
    channels = _check_channels(tree, data.get("channels"), secrets)
    _check_references(tree, data, channels)
    if model is not None:
        model = resolve_model_paths(model, base_dir or Path.cwd())
        check_models(tree, model)
        _warn_http_webhooks(tree, model.gateway.public_url, channels, warnings)
    if tree.issues or model is None:
        raise ConfigError(tree.issues)
    channels = _default_time_zones(channels, model.gateway.timezone)
    return Config(model=model, channels=channels, source=filename, warnings=warnings)


def _default_time_zones(channels: list[ChannelOptions], zone: str) -> list[ChannelOptions]:
    """A channel with a `time_zone` option left unset (None) reads times in gateway.timezone."""
    return [
        options.model_copy(update={"time_zone": zone})
        if "time_zone" in type(options).model_fields and vars(options)["time_zone"] is None
        else options
        for options in channels
    ]


def _remember_channel_names(tree: _Tree, raw_channels: Any) -> None:
    if isinstance(raw_channels, list):
        for index, entry in enumerate(raw_channels):
            if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"]:
                tree.channel_names[index] = entry["name"][:64]


def _add_pydantic_issues(tree: _Tree, prefix: PathKey, exc: ValidationError) -> None:
    for err in exc.errors(include_url=False):
        tree.issue((*prefix, *err["loc"]), pydantic_message(err))


def _check_channels(tree: _Tree, raw_channels: Any, secrets: SecretRules) -> list[ChannelOptions]:
    channels: list[ChannelOptions] = []
    if not isinstance(raw_channels, list):
        return channels
    names: dict[str, int] = {}
    for index, entry in enumerate(raw_channels):
        path: PathKey = ("channels", index)
        if not isinstance(entry, dict):
            continue  # already reported by the section model
        type_name = entry.get("type")
        if not isinstance(type_name, str):
            tree.issue((*path, "type"), "wajib diisi (jenis adaptor kanal)")
            continue
        if type_name not in known_types():
            tree.issue(
                (*path, "type"),
                f"jenis kanal {type_name!r} tidak dikenal; jenis yang ada: "
                + ", ".join(sorted(known_types())),
            )
            continue
        try:
            adapter_cls = load_adapter_class(type_name)
        except AdapterUnavailable as exc:
            tree.issue((*path, "type"), str(exc))
            continue
        for secret in adapter_cls.secret_fields:
            secrets.check_source((*path, secret))
        try:
            options = adapter_cls.Options.model_validate(entry)
        except ValidationError as exc:
            _add_pydantic_issues(tree, path, exc)
            continue
        if options.name in names:
            tree.issue(
                (*path, "name"),
                f"nama kanal {options.name!r} sudah dipakai oleh channels[{names[options.name]}]",
            )
            continue
        names[options.name] = index
        channels.append(options)
        _check_channel_secrets(secrets, path, adapter_cls, options)
    return channels


def _check_channel_secrets(
    secrets: SecretRules, path: PathKey, adapter_cls: type[Adapter[Any]], options: ChannelOptions
) -> None:
    for field_name in adapter_cls.secret_fields:
        secrets.check_value(
            (*path, field_name),
            getattr(options, field_name, None),
            inbound=field_name in adapter_cls.signing_secrets,
        )
    signing = sorted(adapter_cls.signing_secrets)
    unsigned = all(getattr(options, f, None) is None for f in signing)
    if adapter_cls.unsigned_allowed and signing and options.enabled and unsigned:
        secrets.warn_unsigned(path, options.name, signing[0])


def _warn_http_webhooks(
    tree: _Tree, public_url: str, channels: list[ChannelOptions], warnings: list[ConfigIssue]
) -> None:
    """A channel whose provider only posts to https (Telegram, Meta, X) on an http URL."""
    if public_url.lower().startswith("https://"):
        return
    index = {name: i for i, name in tree.channel_names.items()}
    for options in channels:
        if not options.enabled or not load_adapter_class(options.type).https_webhook(options):
            continue
        warnings.append(
            tree.at(
                ("channels", index.get(options.name, 0)),
                f"kanal {options.name} menerima webhook, tetapi gateway.public_url ({public_url})"
                " bukan https: penyedianya (Telegram, Meta, X) menolak URL webhook http, jadi"
                " tidak ada pesan yang masuk; pasang TLS (mis. di nginx) dan tulis public_url"
                " https://...",
            )
        )


def _section(model: Any, value: Any) -> Any:
    """A section validated on its own, or None (its errors are reported by the whole model)."""
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def _check_references(tree: _Tree, data: dict[str, Any], channels: list[ChannelOptions]) -> None:
    """Every agency code used exists; the tree has no cycles; channel names in rules exist.

    Sections are checked one by one, so a broken section elsewhere does not hide these.
    """
    raw_agencies = data.get("agencies")
    if not isinstance(raw_agencies, list):
        return
    agencies = [_section(Agency, a) for a in raw_agencies]
    if any(a is None for a in agencies):
        return
    parents = _check_agency_tree(tree, agencies)
    central = _section(CentralSection, data.get("central"))
    if central is not None and central.sandbox.return_agency not in (None, *parents):
        tree.issue(
            ("central", "sandbox", "return_agency"),
            f"instansi {central.sandbox.return_agency!r} tidak dikenal",
        )
    routing = _section(RoutingSection, data.get("routing"))
    if routing is not None:
        _check_routing(tree, routing, parents, {c.name for c in channels})


def _check_agency_tree(tree: _Tree, agencies: list[Agency]) -> dict[str, str | None]:
    """Codes listed once, parents that exist, no cycle; returns code -> parent."""
    parents: dict[str, str | None] = {}
    for i, agency in enumerate(agencies):
        if agency.code in parents:
            tree.issue(("agencies", i, "code"), f"instansi {agency.code!r} tercantum dua kali")
        parents[agency.code] = agency.parent
    for i, agency in enumerate(agencies):
        if agency.parent is not None and agency.parent not in parents:
            tree.issue(("agencies", i, "parent"), f"instansi {agency.parent!r} tidak dikenal")
        seen = {agency.code}
        node = agency.parent
        while node is not None and node in parents:
            if node in seen:
                tree.issue(("agencies", i, "parent"), "pohon instansi berputar (siklus) di sini")
                break
            seen.add(node)
            node = parents[node]
    return parents


def _check_routing(
    tree: _Tree, routing: RoutingSection, parents: dict[str, str | None], channels: set[str]
) -> None:
    """The default and every rule name agencies and channels that exist."""
    if routing.default not in parents:
        tree.issue(
            ("routing", "default"),
            f"instansi {routing.default!r} tidak dikenal; instansi yang ada: " + ", ".join(parents),
        )
    for i, rule in enumerate(routing.rules):
        if rule.learned is None and rule.agency not in parents:
            tree.issue(("routing", "rules", i, "agency"), f"instansi {rule.agency!r} tidak dikenal")
        for name in rule.when.channel if rule.when else []:
            if name not in channels:
                tree.issue(
                    ("routing", "rules", i, "when", "channel"), f"kanal {name!r} tidak dikenal"
                )
