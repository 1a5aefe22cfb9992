"""The command line's conventions (issue 13): its help read in a pipe, ``-h`` and ``--version``, one rule for
usage errors, and a reader that goes away (``| head``)."""

from __future__ import annotations

import importlib.metadata
import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from model_training.algorithm.images import DEFAULT_IMAGE_VERSION
from model_training.cli import app
from tests.fixtures import write_csv

runner = CliRunner()
#: Every command and group, as typed after the program's name.
COMMANDS = [
    (),
    ("run",),
    ("invoke",),
    ("demo",),
    ("jobs",),
    ("jobs", "list"),
    ("jobs", "describe"),
    ("manifest",),
    ("manifest", "schema"),
    ("manifest", "check"),
    ("config",),
    ("config", "show"),
]
SEPARATOR = "=====8<====="


def piped_help() -> dict[tuple[str, ...], str]:
    """Each command's ``--help`` as a pipe receives it: one process (``python -m model_training.cli``'s own code),
    standard output not a terminal, no COLUMNS in the environment."""
    script = (
        "import sys\n"
        "from model_training.cli import app\n"
        f"for command in {COMMANDS!r}:\n"
        f"    print({SEPARATOR!r}, flush=True)\n"
        "    try:\n"
        "        app([*command, '--help'], prog_name='model-training')\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code in (0, None), exc.code\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    texts = res.stdout.split(SEPARATOR + "\n")[1:]
    assert len(texts) == len(COMMANDS)
    return dict(zip(COMMANDS, texts, strict=True))


@pytest.fixture(scope="module")
def helps() -> dict[tuple[str, ...], str]:
    return piped_help()


def leaf(command: tuple[str, ...]) -> typer.core.TyperCommand:
    found = typer.main.get_command(app)
    for name in command:
        found = found.commands[name]  # type: ignore[attr-defined]
    return found  # type: ignore[return-value]


def test_help_in_a_pipe_is_plain_text_wrapped_at_80_columns_with_every_word_kept(helps: dict[tuple[str, ...], str]) -> None:
    """Issue 13: flags showed as <bool>, the source as {source}, and long words were cut with '…' at 80 columns."""
    for command, text in helps.items():
        assert text.startswith(f"Usage: {' '.join(('model-training', *command))} ")
        assert max(len(line) for line in text.splitlines()) <= 80, command
        for marker in ("…", "<bool>", "<str>", "<int>", "<path>", "{", "╭", "│"):
            assert marker not in text, (command, marker)
        squeezed = "".join(text.split())
        cmd = leaf(command)
        for param in cmd.params:
            described = getattr(param, "help", None)
            assert described, f"{command}: {param.name} has no description"
            assert "".join(described.split()) in squeezed, (command, param.name)  # wrapped, not cut
        for sub in getattr(cmd, "commands", {}).values():
            first = (sub.help or "").split("\n\n")[0]
            assert "".join(first.split()) in squeezed, (command, sub.name)


def test_help_reflows_each_paragraph(helps: dict[tuple[str, ...], str]) -> None:
    """Greedy wrapping: within a paragraph (or an option's description) no line could have taken the next
    line's first word; the docstrings' own line breaks showed through."""
    for command, text in helps.items():
        lines = [line.rstrip() for line in text.splitlines()]
        in_text = True
        for line, following in itertools.pairwise(lines):
            if re.match(r"^\S.*:$", line):  # "Options:", "Commands:": the sections start
                in_text = False
            indent = len(line) - len(line.lstrip())
            if not line.strip() or not following.strip() or indent != len(following) - len(following.lstrip()):
                continue
            if indent == 2 and not in_text:  # the next option or command, not a continued description
                continue
            word = following.split()[0]
            assert len(line) + 1 + len(word) > 78, (command, line, following)


def test_help_breaks_lines_at_spaces_never_inside_a_word_at_its_hyphen(helps: dict[tuple[str, ...], str]) -> None:
    """invoke -h wrapped its example's path at a hyphen: 'examples/s3-put-' then 'event.json'."""
    for command, text in helps.items():
        for line in text.splitlines():
            assert not re.search(r"\w-$", line.rstrip()), (command, line)
    assert "examples/s3-put-event.json" in helps[("invoke",)]


def test_usage_lines_name_the_arguments_by_their_metavars(helps: dict[tuple[str, ...], str]) -> None:
    usage = {command: text.splitlines()[0] for command, text in helps.items()}
    assert usage[("run",)] == "Usage: model-training run [OPTIONS] SOURCE"
    assert usage[("config", "show")] == "Usage: model-training config show [OPTIONS] SOURCE"
    assert usage[("invoke",)] == "Usage: model-training invoke [OPTIONS] EVENT_FILE"
    assert usage[("jobs", "describe")] == "Usage: model-training jobs describe [OPTIONS] NAME"
    assert usage[("manifest", "check")] == "Usage: model-training manifest check [OPTIONS] FILE"
    run = helps[("run",)]
    for shown in ("--label NAME", "--seed N", "--fractions T,V,X", "-H, --hyperparameter KEY=VALUE", "-o, --output DIR"):
        assert shown in run
    assert re.search(r"^  --no-train +Split", run, re.M)  # a flag alone, no type


@pytest.mark.parametrize("command", COMMANDS)
def test_dash_h_is_help_everywhere(command: tuple[str, ...]) -> None:
    short, long = runner.invoke(app, [*command, "-h"]), runner.invoke(app, [*command, "--help"])
    assert short.exit_code == long.exit_code == 0, short.output
    assert short.output == long.output
    assert "-h, --help" in short.output


def test_version_names_the_package_and_the_default_image() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith(f"model-training {importlib.metadata.version('model-training')} ")
    assert f"sagemaker-xgboost:{DEFAULT_IMAGE_VERSION}" in res.output


def data_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "data.csv", "a,b,y_no,y_yes\n" + "".join(f"{i},{i % 3},{i % 2},{1 - i % 2}\n" for i in range(40)))


MALFORMED = [
    ("--seed", "abc"),
    ("--fractions", "0.8,0.1"),
    ("--fractions", "a,b,c"),
    ("-H", "eta"),
    ("--hyperparameter", "=1"),
    ("--date", "yesterday"),
    ("--strategy", "shuffled"),
]


@pytest.mark.parametrize(
    ("command", "flag", "value"),
    [(("run",), *m) for m in [*MALFORMED, ("--backend", "cloud")]] + [(("config", "show"), *m) for m in MALFORMED],
)
def test_a_flag_value_that_does_not_parse_is_a_usage_error_exit_2_naming_the_flag(
    tmp_path: Path, command: tuple[str, ...], flag: str, value: str
) -> None:
    """Issue 13: --seed abc exited 2, but --fractions 0.8,0.1, -H eta and --date yesterday exited 1."""
    out = tmp_path / "out"
    extra = ["-o", str(out)] if command == ("run",) else []
    res = runner.invoke(app, [*command, str(data_csv(tmp_path)), *extra, flag, value])
    assert res.exit_code == 2, res.output
    named = {"-H": "--hyperparameter"}.get(flag, flag)
    assert f"Invalid value for '{named}'" in res.output
    assert "Traceback" not in res.output
    assert not out.exists()


def test_a_value_that_parses_but_breaks_a_rule_is_exit_1(tmp_path: Path) -> None:
    """The other half of the rule: the run's own checks (the same as for a manifest or the environment)."""
    for flag, value in (("--seed", "-1"), ("--fractions", "0.7,0.2,0.2"), ("-H", "silent=0"), ("--label", "nope")):
        res = runner.invoke(app, ["run", str(data_csv(tmp_path)), "-o", str(tmp_path / "out"), "-q", flag, value])
        assert res.exit_code == 1, (flag, res.output)
        assert res.output.startswith("error: ")


def closed_pipe_run(*args: str) -> tuple[int, str]:
    """Run the console script's code with standard output a pipe whose reader has already gone; its exit status
    and standard error."""
    read, write = os.pipe()
    os.close(read)
    try:
        res = subprocess.run(
            [sys.executable, "-m", "model_training.cli", *args], stdout=write, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(write)
    return res.returncode, res.stderr


def test_a_reader_that_goes_away_ends_the_command_quietly_with_141(tmp_path: Path) -> None:
    """Issue 13: `model-training config show data.csv | head -1` exited 1 (rich's or click's answer to EPIPE)."""
    source = str(data_csv(tmp_path))
    for args in (("config", "show", source), ("--help",), ("manifest", "schema"), ("jobs", "list", "-o", str(tmp_path))):
        code, stderr = closed_pipe_run(*args)
        assert (code, stderr) == (141, ""), args
