"""How a workflow installs the target's dependencies: found in the repository by ``init``.

The jobs that run the evaluation (search, measure) set up Python and install what the repository
declares, with pip's cache keyed on the files that declare it:

- ``requirements.txt`` at the project's root: installed as it is;
- else ``pyproject.toml``: its ``[project] dependencies`` and those of every extra but documentation
  ones, never the project itself (an installed copy would shadow the candidate's code that the
  evaluation must import from the worktree);
- obp 0.5.x in either: the two-step install PLATFORM.md verified. obp 0.5.x declares
  ``Requires-Python <3.11`` and pins ancient versions, so a resolver silently picks obp 0.4.1 (or
  fails): everything else first, with the modules obp imports, then
  ``pip install --no-deps --ignore-requires-python obp==<the 0.5 version>``.

A ``.python-version`` file chooses the Python version (``python-version-file``); else 3.11, the
oldest Python the bot runs on.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError

DEFAULT_PYTHON = "3.11"
#: The obp version installed when the repository asks for obp 0.5 without an exact version.
OBP_VERSION = "0.5.7"
#: What obp 0.5 imports (``import obp`` imports every submodule), installed with the rest since obp
#: itself is installed without its (pinned, ancient) dependencies. torch comes from PyTorch's CPU
#: index: the default Linux wheel pulls gigabytes of CUDA libraries a runner cannot use.
OBP_IMPORTS = ("numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "seaborn", "tqdm", "pyyaml")
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
_SKIPPED_EXTRAS = frozenset({"doc", "docs", "documentation"})
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_OBP_05 = re.compile(r"^\s*obp\s*(\[[^\]]*\])?\s*(==|~=|>=)\s*0\.5(\.\d+)?\s*(,.*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Install:
    """The setup of Python and the install step of a job that runs the evaluation."""

    #: ``python-version-file`` value, or None for ``python-version: DEFAULT_PYTHON``.
    python_version_file: str | None
    #: The files pip's cache is keyed on (empty: no ``cache: pip``, setup-python needs one).
    cache_files: tuple[str, ...]
    #: The lines of the install step's script (empty: nothing found to install).
    script: tuple[str, ...]
    #: What was found, one line each (for ``init``'s output and the step's comment).
    notes: tuple[str, ...]

    def steps(self, setup_python: str, indent: str = "      ") -> str:
        """The YAML of the setup-python step and the install step, each line starting with ``indent``."""
        version = (f"python-version-file: {self.python_version_file}" if self.python_version_file
                   else f'python-version: "{DEFAULT_PYTHON}"')
        lines = [f"- uses: {setup_python}", "  with:", f"    {version}"]
        if self.cache_files:
            lines += ["    cache: pip", f"    cache-dependency-path: {' '.join(self.cache_files)}"]
        lines.append("- name: Install the evaluation's dependencies")
        lines += [f"  # {note}" for note in self.notes]
        script = self.script or ('echo "::warning::growthhacker init found no requirements.txt or '
                                 'pyproject.toml: edit this step to install what the evaluation imports"',)
        lines += ["  run: |", *(f"    {line}" for line in script)]
        return "".join(f"{indent}{line}\n" for line in lines)


def _name(requirement: str) -> str:
    match = _NAME.match(requirement)
    return match.group(1).lower().replace("_", "-") if match else ""


def _obp_pin(requirement: str) -> str | None:
    """The obp version to install if ``requirement`` asks for obp 0.5.x, else None."""
    match = _OBP_05.match(requirement.split(";")[0])
    if match is None:
        return None
    exact = re.search(r"==\s*(0\.5\.\d+)", requirement)
    return exact.group(1) if exact else OBP_VERSION


def _check(requirement: str, source: str) -> str:
    # The text goes into a `run: |` block: a line break would end it and `${{` is an expression.
    if "\n" in requirement or "${{" in requirement:
        raise ConfigError(f"{source}: the requirement {requirement!r} cannot go into a workflow: edit it")
    return requirement


def _obp_steps(pin: str, others: list[str], install_others: list[str]) -> list[str]:
    torch = [] if "torch" in others else [f"python -m pip install --index-url {TORCH_CPU_INDEX} torch"]
    extra = [name for name in OBP_IMPORTS if name not in others]
    return [
        *install_others,
        *torch,
        *([f"python -m pip install {' '.join(extra)}"] if extra else []),
        f"python -m pip install --no-deps --ignore-requires-python obp=={pin}",
    ]


def _from_requirements(text: str) -> tuple[list[str], list[str]]:
    lines = [line.strip() for line in text.splitlines()]
    requirements = [line for line in lines if line and not line.startswith(("#", "-"))]
    pins = [pin for line in requirements if (pin := _obp_pin(line)) is not None]
    if not pins:
        return ["python -m pip install -r requirements.txt"], ["installs requirements.txt"]
    others = [_name(line) for line in requirements if _name(line) != "obp"]
    script = _obp_steps(pins[0], others, [
        # Every line but obp's, then obp on its own (see the note above).
        "grep -viE '^[[:space:]]*obp([^A-Za-z0-9_.-]|$)' requirements.txt "
        '> "$RUNNER_TEMP/requirements-without-obp.txt" || true',
        'python -m pip install -r "$RUNNER_TEMP/requirements-without-obp.txt"',
    ])
    return script, [f"installs requirements.txt; obp {pins[0]} in a second step: obp 0.5.x declares "
                    "Requires-Python <3.11 and pins ancient versions, so pip would pick obp 0.4.1"]


def _from_pyproject(path: Path) -> tuple[list[str], list[str]]:
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read as TOML ({exc}): fix it or add a requirements.txt") from exc
    extras = {name: list(deps) for name, deps in (project.get("optional-dependencies") or {}).items()
              if name.lower() not in _SKIPPED_EXTRAS}
    declared = [*project.get("dependencies", []), *(d for deps in extras.values() for d in deps)]
    requirements = [_check(str(r), "pyproject.toml") for r in declared]
    requirements = list(dict.fromkeys(requirements))
    what = "pyproject.toml's dependencies" + (f" and extras {', '.join(extras)}" if extras else "")
    notes = [f"installs {what}, not the project itself (the evaluation imports the candidate's code "
             "from its worktree)"]
    pins = [pin for r in requirements if (pin := _obp_pin(r)) is not None]
    others = [r for r in requirements if _name(r) != "obp"]
    install = [f"python -m pip install {' '.join(shlex.quote(r) for r in others)}"] if others else []
    if not pins:
        return install, notes
    notes.append(f"obp {pins[0]} in a second step: obp 0.5.x declares Requires-Python <3.11 and pins "
                 "ancient versions, so pip would pick obp 0.4.1")
    return _obp_steps(pins[0], [_name(r) for r in others], install), notes


def detect_install(project: Path) -> Install:
    """How the workflows set up Python and install ``project``'s dependencies (module docstring).

    Raises:
        ConfigError: pyproject.toml is not TOML, or a requirement cannot be written into a workflow.
    """
    version_file = ".python-version" if (project / ".python-version").is_file() else None
    if (project / "requirements.txt").is_file():
        text = (project / "requirements.txt").read_text(encoding="utf-8", errors="replace")
        script, notes = _from_requirements(text)
        return Install(version_file, ("requirements.txt",), tuple(script), tuple(notes))
    if (project / "pyproject.toml").is_file():
        script, notes = _from_pyproject(project / "pyproject.toml")
        return Install(version_file, ("pyproject.toml",), tuple(script), tuple(notes))
    return Install(version_file, (), (), ("nothing found to install: edit this step",))
