"""Config helpers: frozen dataclasses with named presets and strict overrides.

Unknown keys and ill-typed values are errors that name the offending key, never silently
ignored (STYLE.md, practice 10). Config files are TOML (``tomllib``) or JSON; nothing in a
config file is executed.

The one rule from config to command line: a config field declared with :func:`option` carries
its help text (and, when the type does not say them, its choices); the CLI turns every field
into ``--field-name`` with that help (:func:`groundup.commands.common.add_config_options`),
so a new field is a new option without touching the command.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from typing import Any, Mapping, TypeVar

from .errors import ConfigError

C = TypeVar("C")


def option(default: Any, help: str, *, choices: Any = None, metavar: str | None = None) -> Any:
    """A dataclass field with its command-line help; ``choices`` is a sequence or a function
    returning one (a registry that grows at run time, such as the tokenizers)."""
    meta = {"help": help}
    if choices is not None:
        meta["choices"] = choices
    if metavar is not None:
        meta["metavar"] = metavar
    return dataclasses.field(default=default, metadata=meta)


def field_choices(f: dataclasses.Field, typ: Any) -> list | None:
    """The allowed values of a field: its ``choices`` metadata, or the arguments of a Literal."""
    ch = f.metadata.get("choices")
    if ch is not None:
        return list(ch() if callable(ch) else ch)
    if typing.get_origin(typ) is typing.Literal:
        return list(typing.get_args(typ))
    return None


def help_of(f: dataclasses.Field) -> str:
    return f.metadata.get("help", "")


def check_at_least(cfg: Any, minimum: int | float, *names: str) -> None:
    """Raise ConfigError naming the first field of ``names`` below ``minimum``."""
    for name in names:
        v = getattr(cfg, name)
        if v < minimum:
            raise ConfigError(f"{name} must be >= {minimum}, got {v}")


def _coerce(name: str, value: Any, typ: Any) -> Any:
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if typ is Any:
        return value
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(name, value, a)
            except ConfigError as e:
                errors.append(str(e))
        raise ConfigError(f"{name}: cannot use {value!r} ({'; '.join(errors)})")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{name} must be one of {', '.join(map(repr, args))}, got {value!r}")
        return value
    if origin in (tuple, list):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name} must be a list, got {value!r}")
        inner = args[0] if args else Any
        return origin(_coerce(name, v, inner) for v in value)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on", "false", "0", "no", "off"):
            return value.lower() in ("true", "1", "yes", "on")
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if typ is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name} must be a string, got {value!r}")
        return value
    return value


def coerce_overrides(cls: type, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` with each value converted to its field's type in the dataclass ``cls``
    (strings from the command line included); an unknown key is an error naming it."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    clean = {}
    for key, value in overrides.items():
        k = key.replace("-", "_")
        if k not in names:
            raise ConfigError(f"unknown config key {key!r} for {cls.__name__} "
                              f"(known: {', '.join(sorted(names))})")
        clean[k] = _coerce(k, value, hints[k])
    return clean


def apply_overrides(cfg: C, overrides: Mapping[str, Any], **ready: Any) -> C:
    """Return a copy of the dataclass ``cfg`` with ``overrides`` applied, strictly.

    Values given as strings (from the command line) are converted to the field's type;
    ``ready`` values are used as they are (sub-configs already built).
    """
    if not overrides and not ready:
        return cfg
    clean = {**coerce_overrides(type(cfg), overrides), **ready}
    try:
        return dataclasses.replace(cfg, **clean)
    except (TypeError, ValueError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(str(e)) from None


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML or JSON config file into a flat dict (never executes anything)."""
    from .io_read import read_regular

    path = Path(path)
    # a config is a few hundred bytes; a huge file is a wrong argument, not a config
    raw = read_regular(path, "config file", ConfigError, max_bytes=1 << 20)
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(raw.decode("utf-8"))
        else:
            import tomllib

            data = tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot parse config {path}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must hold a table of key = value pairs")
    return data
