"""How the command line's help reads (``-h`` or ``--help`` on every command): plain text, wrapped to the
terminal's width (at most 80 columns; 80 when piped), every word kept.

The help is click's plain formatter, not typer's rich panels: those showed flags as ``<bool>`` and arguments as
``{source}``, kept the docstrings' line breaks, and cut long words in their narrow cells with ``…`` (a default,
an environment variable's name), on a terminal of 80 columns as in a pipe.  Here a paragraph is reflowed, an
argument is named by its metavar (``SOURCE``; ``[NAME]`` when optional), an option by its flags and metavar
(``--label NAME``; a flag alone), and each command of a group by the first paragraph of its help, wrapped, not
cut.  Lines break at spaces only, never at a word's hyphens (:class:`HelpFormatter`).  Every command and group is
made with :class:`Command` or :class:`Group` (:func:`new_app`).
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

#: ``-h`` besides ``--help``; a context's settings are inherited by its subcommands.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}

#: Stands in for a hyphen while the help is wrapped (a private-use character, never in the help's text).
_HYPHEN = "\ue000"
_ClickFormatter: Any = typer.Context.formatter_class


def _unbroken(text: str) -> str:
    return text.replace("-", _HYPHEN)


class HelpFormatter(_ClickFormatter):
    """click's help formatter, its lines broken at spaces only, as textwrap's ``break_on_hyphens=False`` breaks
    them: click's wrapper breaks a word after a hyphen (``examples/s3-put-`` then ``event.json``) and takes no
    setting to stop it, so the hyphens of what it wraps are stood in for (:data:`_HYPHEN`, one character as
    wide) and written back as hyphens."""

    def write(self, string: str) -> None:
        super().write(string.replace(_HYPHEN, "-"))

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(_unbroken(prog), _unbroken(args), prefix)

    def write_text(self, text: str) -> None:
        super().write_text(_unbroken(text))

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        super().write_dl([(term, _unbroken(text)) for term, text in rows], col_max, col_spacing)


class HelpContext(typer.Context):
    """A context whose help is written by :class:`HelpFormatter`."""

    formatter_class = HelpFormatter


def summary(command: Any) -> str:
    """The first paragraph of ``command``'s help (its ``short_help`` if it has one), on one line."""
    text = command.short_help or command.help or ""
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def _usage_name(param: Any) -> str:
    """An argument as the usage line names it: its metavar (``SOURCE``), in brackets when it is optional."""
    name = str(param.metavar or (param.name or "").upper())
    return name if param.required else f"[{name}]"


class Command(TyperCommand):
    """A command whose usage line and help name its arguments by their metavars, without a type."""

    context_class = HelpContext

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                pieces.append(_usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces

    def format_options(self, ctx: Any, formatter: Any) -> None:
        params = self.get_params(ctx)
        arguments = [
            (_usage_name(p).strip("[]"), getattr(p, "help", None) or "")
            for p in params
            if p.param_type_name == "argument" and not getattr(p, "hidden", False)
        ]
        options = [record for p in params if p.param_type_name == "option" and (record := p.get_help_record(ctx))]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


class Group(TyperGroup):
    """A group whose help lists its options, then each command with the first paragraph of its help (wrapped)."""

    context_class = HelpContext

    def format_options(self, ctx: Any, formatter: Any) -> None:
        options = [record for p in self.get_params(ctx) if p.param_type_name == "option" and (record := p.get_help_record(ctx))]
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, summary(command)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def new_app(help: str, **settings: Any) -> typer.Typer:
    """A command group (the program, or one of its groups) whose help is :class:`Group`'s, plain text; with no
    arguments it prints its help."""
    return typer.Typer(
        cls=Group,
        help=help,
        rich_markup_mode=None,
        no_args_is_help=True,
        context_settings=dict(CONTEXT_SETTINGS),
        **settings,
    )
