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

from adapters.base import ChannelOptions
from adapters.registry import known_types, load_adapter_class
from config.models import check_models, resolve_model_paths
from config.schema import Agency, CentralSection, ConfigModel, RoutingSection
from vocabulary.errors import AdapterUnavailable, GatewayError

PathKey = tuple[str | int, ...]
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
MAX_NODES = 100_000
_WHOLE_ENV_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$")


@dataclass(frozen=True)
class ConfigIssue:
    """One thing wrong with the config, pinned to a path and a line."""

    path: str
    message: str
    file: str
    line: int | None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{self.path or '(top)'}: {self.message} ({where})"


class ConfigError(GatewayError):
    """The config cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


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


def format_path(path: PathKey) -> str:
    """`('channels', 2, 'auth_token')` -> `channels[2].auth_token`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
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
        self.issues.append(
            ConfigIssue(format_path(path), message, self.filename, self.line_of(path))
        )

    def build(self, node: yaml.Node, loader: yaml.SafeLoader, path: PathKey) -> Any:
        """Turn a node into data, expanding `${VAR}` in strings."""
        self.lines.setdefault(path, node.start_mark.line + 1)
        self._built += 1
        if self._built > MAX_NODES:
            # Aliases can make a small file expand enormously ("billion laughs").
            raise yaml.constructor.ConstructorError(
                None, None, f"the file expands to more than {MAX_NODES} values", node.start_mark
            )
        if id(node) in self._open:
            raise yaml.constructor.ConstructorError(
                None, None, "an alias refers to its own parent (a loop)", node.start_mark
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
                    self.issue(child, "duplicate key")
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
            self.issue(path, f"environment variable {name} is not set")
            return ""

        return _ENV_REF.sub(substitute, text)


def load_config(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> Config:
    """Read and check a config file; raise ConfigError listing every problem."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue("", f"cannot read file: {exc.strerror}", str(file), None)]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue("", "file is not UTF-8 text", str(file), None)]) from exc
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
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            [
                ConfigIssue(
                    "", f"not valid YAML: {problem}", filename, mark.line + 1 if mark else None
                )
            ]
        ) from exc
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(
            [
                ConfigIssue(
                    "",
                    "expected a mapping with gateway, central, agencies, routing and channels",
                    filename,
                    1,
                )
            ]
        )

    model: ConfigModel | None = None
    try:
        model = ConfigModel.model_validate(data)
    except ValidationError as exc:
        _add_pydantic_issues(tree, (), exc)
    warnings: list[ConfigIssue] = []
    _check_secret_source(tree, ("central", "token"), warnings)
    channels = _check_channels(tree, data.get("channels"), warnings)
    _check_references(tree, data, channels)
    if model is not None:
        model = resolve_model_paths(model, base_dir or Path.cwd())
        check_models(tree, model)
    if tree.issues or model is None:
        raise ConfigError(tree.issues)
    return Config(model=model, channels=channels, source=filename, warnings=warnings)


def _add_pydantic_issues(tree: _Tree, prefix: PathKey, exc: ValidationError) -> None:
    for err in exc.errors(include_url=False):
        loc = (*prefix, *err["loc"])
        if err["type"] == "missing":
            message = "field required"
        elif err["type"] == "extra_forbidden":
            message = "unknown key"
        else:
            message = err["msg"]
            message = message.removeprefix("Value error, ")
            message = message[:1].lower() + message[1:]
        tree.issue(loc, message)


def _check_secret_source(tree: _Tree, path: PathKey, warnings: list[ConfigIssue]) -> None:
    """Secrets only from the environment: the raw value must be a whole `${VAR}`."""
    raw = tree.raw.get(path)
    if raw is None:
        if path in tree.lines:
            tree.issue(path, "secrets must come from the environment: write ${SOME_VARIABLE}")
        return
    if not _WHOLE_ENV_REF.match(raw):
        tree.issue(path, "secrets must come from the environment: write ${SOME_VARIABLE}")
    elif ":-" in raw:
        name = _ENV_REF.match(raw).group(1)  # type: ignore[union-attr]
        if name not in tree.env:
            warnings.append(
                ConfigIssue(
                    format_path(path),
                    f"{name} is not set; using the default written in the"
                    " file (fine for a demo, never in production)",
                    tree.filename,
                    tree.line_of(path),
                )
            )


def _check_channels(
    tree: _Tree, raw_channels: Any, warnings: list[ConfigIssue]
) -> list[ChannelOptions]:
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
            tree.issue((*path, "type"), "field required (the channel's adapter type)")
            continue
        if type_name not in known_types():
            tree.issue(
                (*path, "type"),
                f"unknown channel type {type_name!r}; known types: "
                + ", ".join(sorted(known_types())),
            )
            continue
        try:
            adapter_cls = load_adapter_class(type_name)
        except AdapterUnavailable as exc:
            tree.issue((*path, "type"), str(exc))
            continue
        for secret in adapter_cls.secret_fields:
            _check_secret_source(tree, (*path, secret), warnings)
        try:
            options = adapter_cls.Options.model_validate(entry)
        except ValidationError as exc:
            _add_pydantic_issues(tree, path, exc)
            continue
        if options.name in names:
            tree.issue(
                (*path, "name"),
                f"channel name {options.name!r} is already used by channels[{names[options.name]}]",
            )
            continue
        names[options.name] = index
        channels.append(options)
    return channels


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
    routing = _section(RoutingSection, data.get("routing"))
    central = _section(CentralSection, data.get("central"))
    parents: dict[str, str | None] = {}
    for i, agency in enumerate(agencies):
        if agency.code in parents:
            tree.issue(("agencies", i, "code"), f"agency {agency.code!r} is listed twice")
        parents[agency.code] = agency.parent
    for i, agency in enumerate(agencies):
        if agency.parent is not None and agency.parent not in parents:
            tree.issue(("agencies", i, "parent"), f"unknown agency {agency.parent!r}")
    for i, agency in enumerate(agencies):
        seen = {agency.code}
        node = agency.parent
        while node is not None and node in parents:
            if node in seen:
                tree.issue(("agencies", i, "parent"), "the agency tree has a cycle here")
                break
            seen.add(node)
            node = parents[node]
    if central is not None and central.sandbox.return_agency not in (None, *parents):
        tree.issue(
            ("central", "sandbox", "return_agency"),
            f"unknown agency {central.sandbox.return_agency!r}",
        )
    if routing is None:
        return
    if routing.default not in parents:
        tree.issue(
            ("routing", "default"),
            f"unknown agency {routing.default!r}; agencies: " + ", ".join(parents),
        )
    channel_names = {c.name for c in channels}
    for i, rule in enumerate(routing.rules):
        if rule.learned is None and rule.agency not in parents:
            tree.issue(("routing", "rules", i, "agency"), f"unknown agency {rule.agency!r}")
        for name in rule.when.channel if rule.when else []:
            if name not in channel_names:
                tree.issue(("routing", "rules", i, "when", "channel"), f"unknown channel {name!r}")
