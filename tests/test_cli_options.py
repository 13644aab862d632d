"""The one rule from config to command line: every option of every command has a description,
options come from the config dataclasses, and the text options are the same everywhere."""
import argparse
import dataclasses
import sys

import pytest

from groundup.cli import build_parser
from groundup.data.pipeline import TextOptions


def _commands(parser, path=()):
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                yield path + (name,), sub
                yield from _commands(sub, path + (name,))


COMMANDS = dict(_commands(build_parser()))


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_argument_has_a_description(path):
    for a in COMMANDS[path]._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        # (argparse.SUPPRESS counts: such an option is described elsewhere, e.g. an epilog)
        assert a.help, (path, a.option_strings or a.dest)


@pytest.mark.parametrize("path", [("ngram", "build"), ("ngram", "eval"), ("ngram", "score"),
                                  ("ngram", "generate"), ("word2vec", "train"), ("lm", "train"),
                                  ("lm", "eval"), ("lm", "generate")], ids=" ".join)
def test_every_text_command_has_the_text_options(path):
    flags = {s for a in COMMANDS[path]._actions for s in a.option_strings}
    for f in dataclasses.fields(TextOptions):
        assert "--" + f.name.replace("_", "-") in flags, (path, f.name)


def test_generated_options_show_choices_and_defaults():
    text = COMMANDS[("word2vec", "train")].format_help()
    assert "{sg,cbow}" in text and "[default: 0.025]" in text
    assert "{word,spaces,char,codepoint,text8,zh}" in COMMANDS[("ngram", "build")].format_help()


def test_the_command_exits_with_mains_code_and_skips_the_last_collections(monkeypatch):
    """cli.run (the console script, python -m groundup) exits with main's code, its objects
    frozen out of the interpreter's collections at exit."""
    import gc

    from groundup import cli

    monkeypatch.setattr(cli, "main", lambda: 3)
    before = gc.get_freeze_count()
    try:
        with pytest.raises(SystemExit) as e:
            cli.run()
        assert e.value.code == 3
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()


def test_python_m_groundup_exit_codes(tmp_path):
    """python -m groundup: 0 on success, 2 and one line on bad input."""
    import subprocess

    ok = subprocess.run([sys.executable, "-m", "groundup", "--version"], capture_output=True,
                        text=True)
    assert ok.returncode == 0 and ok.stdout.strip()
    bad = subprocess.run([sys.executable, "-m", "groundup", "ngram", "query",
                          str(tmp_path / "missing.arpa")], capture_output=True, text=True,
                         input="a b\n")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("groundup: error:")


def test_ctrl_c_inside_code_run_from_a_string_still_exits_130(tmp_path):
    """A KeyboardInterrupt that leaves an exec(str) (as a dataclass being built at import
    does) and is caught by main: python -m exits with 130 and one line, not by SIGINT."""
    import os
    import subprocess

    (tmp_path / "interrupting.py").write_text(
        "import groundup.commands.ngram as ngram\n"
        "def build(args):\n"
        "    exec('raise KeyboardInterrupt', {})\n"
        "ngram._build = build\n"
        "from groundup.cli import run\n"
        "run()\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])] + sys.path)}
    p = subprocess.run([sys.executable, "-m", "interrupting", "ngram", "build", "x.txt",
                        "--order", "3", "-o", str(tmp_path / "m.arpa")], capture_output=True,
                       text=True, env=env, cwd=tmp_path)
    assert p.returncode == 130, (p.returncode, p.stderr)
    assert p.stderr == "groundup: interrupted\n"
