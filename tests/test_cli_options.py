"""The one rule from config to command line: every option of every command has a description,
options come from the config dataclasses, and the text options are the same everywhere."""
import argparse
import dataclasses

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
