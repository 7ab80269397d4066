"""Environment variables that make an interpreter or the loader run code (pure).

A Service's env reaches the processes of its instances (and its zygote), which start an
interpreter: some variables make that interpreter, the dynamic loader or a child shell
load or run code of the variable's choosing before the function's own code. Anyone who
can deploy could then run any command as the platform's user, with no function code of
their own. Bulut strips them from instance env unless the operator allows a name
(``BULUT_ALLOW_ENV``), and logs what it stripped.

The list, from each interpreter's documentation:

- CPython (``python --help-env``, "Environment variables"): ``PYTHONSTARTUP``,
  ``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONUSERBASE`` (its ``.pth`` files run code),
  ``PYTHONWARNINGS`` (a category imports any module: ``ignore::antigravity.x``),
  ``PYTHONBREAKPOINT`` (any callable), ``PYTHONINSPECT``, ``PYTHONEXECUTABLE``,
  ``PYTHONPLATLIBDIR``, ``PYTHONPYCACHEPREFIX`` (bytecode read from elsewhere),
  ``PYTHONSAFEPATH``/``PYTHONNOUSERSITE`` are harmless and kept;
- ``webbrowser`` (stdlib, reached through ``antigravity``): ``BROWSER``;
- Perl (perlrun): ``PERL5OPT``, ``PERL5LIB``, ``PERLLIB``, ``PERL5DB``;
- Ruby: ``RUBYOPT``, ``RUBYLIB``; Node.js: ``NODE_OPTIONS``, ``NODE_PATH``;
  Java: ``JAVA_TOOL_OPTIONS``, ``_JAVA_OPTIONS``, ``JDK_JAVA_OPTIONS``;
- shells (bash(1), sh): ``BASH_ENV``, ``ENV``, ``SHELLOPTS``, ``BASHOPTS``, ``PS4``,
  ``PROMPT_COMMAND``, ``IFS``, exported functions ``BASH_FUNC_*``;
- the dynamic loader (ld.so(8)) and glibc: every ``LD_*`` (``LD_PRELOAD``, ``LD_AUDIT``,
  ``LD_LIBRARY_PATH``...), ``GCONV_PATH`` (iconv loads modules from it), ``DYLD_*`` (macOS);
- tools a function may start: ``GIT_SSH_COMMAND``, ``GIT_EXTERNAL_DIFF``, ``GIT_EXEC_PATH``,
  ``GIT_CONFIG_*``, ``PAGER``, ``EDITOR``, ``VISUAL``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

HIJACKING_NAMES = frozenset(
    {
        "PYTHONSTARTUP", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONWARNINGS",
        "PYTHONBREAKPOINT", "PYTHONINSPECT", "PYTHONEXECUTABLE", "PYTHONPLATLIBDIR",
        "PYTHONPYCACHEPREFIX", "BROWSER", "PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB",
        "RUBYOPT", "RUBYLIB", "NODE_OPTIONS", "NODE_PATH", "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS",
        "PS4", "PROMPT_COMMAND", "IFS", "GCONV_PATH", "GIT_SSH_COMMAND", "GIT_EXTERNAL_DIFF",
        "GIT_EXEC_PATH", "PAGER", "EDITOR", "VISUAL",
    }
)  # fmt: skip
HIJACKING_PREFIXES = ("LD_", "DYLD_", "BASH_FUNC_", "GIT_CONFIG_")


def is_hijacking(name: str) -> bool:
    """True when ``name`` makes an interpreter, the loader or a shell run chosen code."""
    return name in HIJACKING_NAMES or name.startswith(HIJACKING_PREFIXES)


def strip_hijacking(
    env: Mapping[str, str], allowed: Iterable[str] = ()
) -> tuple[dict[str, str], list[str]]:
    """``env`` without hijacking variables (except ``allowed``), and the names stripped."""
    allow = frozenset(allowed)
    kept: dict[str, str] = {}
    stripped: list[str] = []
    for name, value in env.items():
        if is_hijacking(name) and name not in allow:
            stripped.append(name)
        else:
            kept[name] = value
    return kept, stripped
