"""`groundup rf MODULE:FACTORY --input 224x224 [--json]`: a model's receptive field, per layer.

MODULE is an import path (``groundup.vision.zoo``) or a Python file (``path/to/net.py``);
FACTORY names a function or class there that returns a ``torch.nn.Module`` when called with no
arguments (or a module instance). Importing the module runs its code: it is the user's own.
"""
from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("rf", help="receptive field of a convolutional network, per layer",
                       description="Trace MODULE:FACTORY (an import path or a .py file, and a "
                                   "function or class returning a torch.nn.Module) and print the "
                                   "receptive field size, jump and centre of every layer.")
    p.add_argument("spec", metavar="MODULE:FACTORY",
                   help="e.g. groundup.vision.zoo:vgg16 or path/to/net.py:build")
    p.add_argument("--input", required=True, metavar="HxW",
                   help="spatial input size: 224x224 (2-D), 1000 (1-D); CxHxW gives channels too")
    p.add_argument("--method", choices=["auto", "fx", "run"], default="auto",
                   help="trace with torch.fx, by running the model, or fx then run (default)")
    p.add_argument("--assume-pointwise", action="store_true",
                   help="treat ops without a rule that keep the map size as pointwise")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_run)


def parse_size(text: str) -> tuple[int, ...]:
    from ..errors import ConfigError

    parts = text.lower().replace("×", "x").split("x")
    try:
        sizes = tuple(int(v) for v in parts)
    except ValueError:
        raise ConfigError(f"--input {text!r}: expected sizes like 224x224") from None
    if not 1 <= len(sizes) <= 4 or any(v < 1 for v in sizes):
        raise ConfigError(f"--input {text!r}: sizes must be positive integers like 224x224")
    return sizes


def load_factory(spec: str):
    """Import MODULE and return its attribute FACTORY (one clear error otherwise)."""
    import importlib
    import importlib.util
    from pathlib import Path

    from ..errors import ConfigError

    mod_name, sep, attr = spec.rpartition(":")
    if not sep or not mod_name or not attr:
        raise ConfigError(f"{spec!r}: expected MODULE:FACTORY, e.g. groundup.vision.zoo:vgg16")
    try:
        if mod_name.endswith(".py") or "/" in mod_name or "\\" in mod_name:
            path = Path(mod_name)
            if not path.is_file():
                raise ConfigError(f"{mod_name}: no such file")
            uspec = importlib.util.spec_from_file_location(f"_groundup_rf_user_{path.stem}", path)
            module = importlib.util.module_from_spec(uspec)
            sys.path.insert(0, str(path.resolve().parent))  # so the file can import its siblings
            try:
                uspec.loader.exec_module(module)
            finally:
                sys.path.pop(0)
        else:
            module = importlib.import_module(mod_name)
    except ConfigError:
        raise
    except ModuleNotFoundError as e:
        raise ConfigError(f"{mod_name}: cannot import ({e})") from None
    except Exception as e:  # the user's module raised while being imported
        raise ConfigError(f"{mod_name}: importing it failed: {type(e).__name__}: {e}") from None
    if not hasattr(module, attr):
        raise ConfigError(f"{mod_name} has no attribute {attr!r}")
    return getattr(module, attr)


def build_model(factory, spec: str):
    """Call the factory, on the meta device when it allows (no memory, no init cost)."""
    import torch

    from ..errors import ConfigError

    if isinstance(factory, torch.nn.Module):
        return factory
    if not callable(factory):
        raise ConfigError(f"{spec}: {type(factory).__name__} is not callable")
    try:
        with torch.device("meta"):
            model = factory()
    except Exception:
        try:
            model = factory()
        except Exception as e:
            raise ConfigError(f"{spec}: calling it failed: {type(e).__name__}: {e}") from None
    if not isinstance(model, torch.nn.Module):
        raise ConfigError(f"{spec}: returned {type(model).__name__}, not a torch.nn.Module")
    return model


def _fmt(values) -> str:
    vals = [f"{v:g}" if isinstance(v, float) else str(v) for v in values]
    return vals[0] if len(set(vals)) == 1 else "x".join(vals)


def _run(args) -> int:
    from ..vision import receptive_field
    from .common import markdown_table, print_json

    sizes = parse_size(args.input)
    model = build_model(load_factory(args.spec), args.spec)
    rf = receptive_field(model, sizes, method=args.method,
                         unknown="pointwise" if args.assume_pointwise else "error")
    if args.json:
        print_json({"model": args.spec, **rf.to_dict()})
        return 0
    rows = [[r.name, r.kind, r.detail, "x".join(map(str, r.shape[2:])) if r.shape else "",
             _fmt(r.size), _fmt(r.jump), _fmt(r.start), "" if r.aligned else "no"]
            for r in rf.layers]
    print(markdown_table(["layer", "op", "k/s/p", "map", "RF", "jump", "start", "aligned"], rows))
    print()
    print(f"output {tuple(rf.output_shape or ())}: receptive field {_fmt(rf.size)} px, jump "
          f"{_fmt(rf.jump)}, first centre {_fmt(rf.start)}, effective padding "
          f"{_fmt(rf.effective_padding)}" + ("" if rf.aligned else " (paths not aligned)"))
    for note in rf.notes:
        print(f"note: {note}")
    return 0
