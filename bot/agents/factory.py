"""Choosing and building the agent backend for a run: one call, with a sentence saying why.

``agent: auto`` picks ``anthropic`` when ``ANTHROPIC_API_KEY`` or ``ANTHROPIC_BASE_URL`` is set and
``heuristic`` otherwise. The ``framework`` selects the two-agent Analyzer + Coder or the single-call
``default`` baseline; the heuristic backend has its own deterministic search and ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast, get_args

from bot.agents.analyzer import CatalogSource, LLMAnalyzer
from bot.agents.base import Agent
from bot.agents.budget import Budget, PriceTable
from bot.agents.coder import LLMCoder, SingleShotAnalyzer, SingleShotCoder
from bot.agents.command_backend import CommandClient
from bot.agents.llm import LLMClient
from bot.config import AgentName, LoopConfig
from bot.errors import ConfigError
from bot.redact import secret_values

if TYPE_CHECKING:
    from bot.ope.catalog import Catalog

Framework = Literal["two_agent", "default"]


def make_agent(
    config: LoopConfig,
    environ: Mapping[str, str],
    *,
    framework: Framework = "two_agent",
    agent: str | None = None,
    agent_command: str | None = None,
    price_table: PriceTable | None = None,
    budget: Budget | None = None,
    stream: bool = True,
    max_retries: int = 4,
    timeout_s: float | None = None,
    cwd: Path | None = None,
    pass_env: Sequence[str] = (),
    catalog: str | None = None,
) -> tuple[Agent, str]:
    """Build the agent named by ``agent`` (else ``config.agent``) for ``framework``.

    ``environ`` is the only environment consulted (keys, base URL) and the source of the secret
    values scrubbed from every prompt. One :class:`Budget` (``budget``, else built from
    ``config.budget``) is shared by the Analyzer and the Coder; ``price_table`` adds to
    ``config.prices`` and ``pass_env`` to ``config.agent_pass_env``. ``timeout_s`` (default
    ``config.agent_timeout_s``) bounds each call of either backend; ``stream`` and ``max_retries``
    tune the anthropic backend; ``cwd`` and ``pass_env`` (secret-looking variables the command may
    still see, e.g. its own API key) the command backend;
    ``catalog`` replaces the OPE catalog text (default: the catalog of the editable files each prompt
    shows, :func:`bot.ope.repo_catalog.repo_catalog`). The installed libraries' catalog (the heuristic's,
    and the tables of the LLM agents' catalog) is cached in ``cwd/.growthhacker/cache`` when that
    directory exists (:mod:`bot.ope.catalog_cache`).

    Returns:
        ``(agent, explanation)``; the explanation is one line for the user, such as
        ``"auto: ANTHROPIC_API_KEY is set → anthropic (claude-sonnet-4-5), framework two_agent"``.

    Raises:
        ConfigError: an unknown agent name, ``command`` without a command, or ``anthropic`` without
            a key or base URL.
        AgentError: the agent command is blank or cannot be split like a shell would.
    """
    name = agent or config.agent
    timeout = config.agent_timeout_s if timeout_s is None else timeout_s
    if name not in get_args(AgentName):
        raise ConfigError(f"unknown agent {name!r}: choose one of {', '.join(get_args(AgentName))}")
    chosen, why = _resolve(cast(AgentName, name), environ)
    if chosen == "heuristic":
        return _heuristic(cwd), f"{why} → heuristic (deterministic OPE search; framework does not apply)"
    shared = budget if budget is not None else Budget(usd=config.budget.usd, tokens=config.budget.tokens)
    client: LLMClient
    if chosen == "command":
        command = agent_command or config.agent_command
        if not command:
            raise ConfigError(
                "agent `command` needs a command: pass --agent-command or set loop.agent_command"
            )
        client = CommandClient(
            command, environ=environ, timeout_s=timeout, cwd=cwd, budget=shared,
            pass_env=[*config.agent_pass_env, *pass_env],
        )
        label, detail = "command", command
    else:
        # Imported here: the SDK takes seconds to import, which every heuristic or command run,
        # and every CLI start, would otherwise pay.
        from bot.agents.anthropic_backend import DEFAULT_BASE_URL, AnthropicClient, make_sdk_client

        sdk = make_sdk_client(environ, max_retries=max_retries, timeout_s=timeout)
        anthropic_client = AnthropicClient(
            sdk, model=config.model, budget=shared, prices={**config.prices, **(price_table or {})},
            stream=stream,
            secrets=secret_values(environ),
        )
        client = anthropic_client
        label = f"anthropic:{config.model}"
        where = environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        detail = f"{config.model} at {where}" if where != DEFAULT_BASE_URL else config.model
        if not anthropic_client.price_known:
            detail += "; unknown model price, charged at the dearest known price (set loop.prices)"
    # Built lazily, at the first prompt: it reads the installed libraries (seconds).
    text: str | CatalogSource = catalog if catalog is not None else _repository_catalog(cwd)
    if framework == "default":
        built = Agent(f"{label}+default", SingleShotAnalyzer(), SingleShotCoder(client, catalog=text))
    else:
        built = Agent(label, LLMAnalyzer(client, catalog=text), LLMCoder(client))
    return built, f"{why} → {chosen} ({detail}), framework {framework}"


Backend = Literal["anthropic", "command", "heuristic"]


def _resolve(name: AgentName, environ: Mapping[str, str]) -> tuple[Backend, str]:
    if name == "auto":
        for variable in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
            if environ.get(variable):
                return "anthropic", f"auto: {variable} is set"
        return "heuristic", "auto: neither ANTHROPIC_API_KEY nor ANTHROPIC_BASE_URL is set"
    if name == "anthropic" and not any(
        environ.get(v) for v in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
    ):
        raise ConfigError(
            "agent `anthropic` needs ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a local endpoint); "
            "set one, or use --agent heuristic"
        )
    return name, f"agent {name} requested"


def _heuristic(project: Path | None) -> Agent:
    from bot.agents.heuristic import make_heuristic_agent

    return make_heuristic_agent(_installed_catalog(project))


def _installed_catalog(project: Path | None) -> Catalog:
    """The installed libraries' catalog, cached in ``project``'s ``.growthhacker/cache`` if it has one.

    Reading the installed signatures imports obp, scope-rl and torch: seconds before every run's
    first evaluation (each ``--resume`` included) for specs that only change when a library or the
    bot does (:mod:`bot.ope.catalog_cache`).
    """
    from bot.ope.catalog import Catalog
    from bot.ope.catalog_cache import DiskCatalog

    if project is None or not (project / ".growthhacker").is_dir():
        return Catalog()
    return DiskCatalog(project / ".growthhacker" / "cache")


def _repository_catalog(project: Path | None) -> CatalogSource:
    """The catalog for the files a prompt shows (:func:`bot.ope.repo_catalog.repo_catalog`).

    Built at the first prompt, not here: the installed signatures of the classes the files construct
    are read from the libraries (obp, scope-rl and torch get imported); the tables come from the
    cached catalog. Code that imports none of the libraries gets the whole catalog.
    """

    catalog = _installed_catalog(project)  # read at the first prompt; one instance, memoised per catalog

    def build(files: Mapping[str, str]) -> str:
        from bot.ope.catalog import catalog_markdown
        from bot.ope.repo_catalog import repo_catalog

        return repo_catalog(files, catalog, whole=lambda: catalog_markdown(catalog))

    return build
