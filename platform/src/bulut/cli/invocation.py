"""One `bulut` invocation: its Settings, built once and handed to the command.

The root callback (``bulut.cli.main``) builds :class:`~bulut.settings.Settings` from the
environment once and keeps it in the typer context. A command's flag named after a
Settings field (``--state-dir``, ``--data-port``, ``-n/--namespace`` ...) overrides that
field when given: :func:`settings_of` derives the overrides from the parsed parameters,
so no command maps flags to settings by hand. :func:`setting` declares such a flag with
its help taken from the field and its environment twin (``BULUT_STATE_DIR``) named.
"""

from __future__ import annotations

from typing import Any

import typer
from pydantic import ValidationError

from bulut.errors import ConfigError, InvalidInputError
from bulut.settings import Settings


def load_settings() -> Settings:
    """Settings from the environment; a bad ``BULUT_*`` value is a ConfigError naming it."""
    try:
        return Settings()
    except ValidationError as error:
        problem = error.errors()[0]
        name = Settings.env_name(str(problem["loc"][0])) if problem["loc"] else "BULUT_*"
        raise ConfigError(f"{name}: {problem['msg']}") from None


def settings_of(ctx: typer.Context) -> Settings:
    """The invocation's Settings, with this command's setting flags applied."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):  # a command group invoked on its own (tests)
        root.obj = load_settings()
    base: Settings = root.obj
    overrides = {
        name: value
        for name, value in ctx.params.items()
        if name in Settings.model_fields and value is not None
    }
    if not overrides:
        return base
    settings = base.model_copy()
    try:
        for name, value in overrides.items():  # validated as the field's type and bounds
            Settings.__pydantic_validator__.validate_assignment(settings, name, value)
    except ValidationError as error:
        problem = error.errors()[0]
        flag = "--" + str(problem["loc"][0]).replace("_", "-") if problem["loc"] else "a flag"
        raise InvalidInputError(f"{flag}: {problem['msg']}", field=flag) from None
    return settings


def setting(name: str, *flags: str, help: str | None = None) -> Any:  # noqa: A002
    """A typer option overriding ``Settings.<name>``: help from the field, env twin named."""
    field = Settings.model_fields[name]
    text = help or field.description or name.replace("_", " ")
    return typer.Option(
        *(flags or ("--" + name.replace("_", "-"),)),
        help=f"{text} [{Settings.env_name(name)}]",
        show_default=False,
    )
