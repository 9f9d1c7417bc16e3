"""The `.growthhacker.yml` schema, its defaults, and loading with errors that point at the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError

CONFIG_FILE = ".growthhacker.yml"
#: Paths no agent may ever edit, whatever the config says: the bot's own state and CI.
ALWAYS_PROTECTED = (".growthhacker.yml", ".growthhacker/**", ".github/**", ".git/**")

Goal = Literal["minimize", "maximize"]
AgentName = Literal["auto", "anthropic", "command", "heuristic"]
Permission = Literal["read", "triage", "write", "maintain", "admin"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Objective(_Model):
    """The one metric the bot optimises."""

    metric: str
    goal: Goal = "minimize"


class Guardrail(_Model):
    """A metric that may not get worse by more than ``max_regression`` (relative, 0.2 = 20%)."""

    metric: str
    max_regression: float = Field(0.0, ge=0.0)
    goal: Goal = "minimize"


class Seeds(_Model):
    """Seeds in three disjoint tiers: search (every candidate), validation (a candidate that would
    become the incumbent), held-out confirmation (finalists only, once, at the end)."""

    # ``validate`` is a (deprecated) BaseModel method: the field is ``validation``, spelt ``validate``
    # in the file.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, validate_by_alias=True)

    search: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    #: A candidate that beats the incumbent on the search seeds becomes the incumbent only if it is
    #: also better than the baseline here; ``[]`` switches the tier off.
    validation: list[int] = Field(default_factory=lambda: [200, 201, 202], alias="validate")
    confirm: list[int] = Field(default_factory=lambda: [100, 101, 102, 103, 104], min_length=1)
    #: At most this many held-out seeds added to a finalist whose verdict is "undecided".
    extend: int = Field(0, ge=0, le=100)

    @model_validator(mode="after")
    def _disjoint(self) -> Seeds:
        tiers = {"search": self.search, "validate": self.validation, "confirm": self.confirm}
        names = list(tiers)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                overlap = set(tiers[first]) & set(tiers[second])
                if overlap:
                    raise ValueError(f"{first} and {second} seeds must be disjoint, both contain "
                                     f"{sorted(overlap)}")
        return self

    def extension(self, count: int) -> list[int]:
        """The next ``count`` held-out seeds after the configured ones, skipping any other tier's."""
        taken = set(self.search) | set(self.validation) | set(self.confirm)
        seeds: list[int] = []
        candidate = max(self.confirm) + 1
        while len(seeds) < count:
            if candidate not in taken:
                seeds.append(candidate)
            candidate += 1
        return seeds


class EvaluateConfig(_Model):
    """How to run the repository's own OPE evaluation."""

    command: str
    #: Where the command writes its metrics JSON, relative to the repo root. ``{metrics_path}``
    #: (the default) means: the bot picks a fresh file per run and substitutes it into the command.
    metrics: str = "{metrics_path}"
    objective: Objective
    guardrails: list[Guardrail] = Field(default_factory=list)
    seeds: Seeds = Field(default_factory=Seeds)
    timeout_s: float = Field(600.0, gt=0)
    #: Commands that must exit 0 for a candidate to count (e.g. ``pytest -q``).
    checks: list[str] = Field(default_factory=list)
    #: Optional plausible range per metric; a value outside it is an "extreme value" failure.
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    #: Extra environment variable names passed through to the eval (never secrets).
    pass_env: list[str] = Field(default_factory=list)
    #: How many seeds to evaluate at once.
    workers: int = Field(1, ge=1, le=64)

    @field_validator("command")
    @classmethod
    def _has_seed(cls, value: str) -> str:
        if "{seed}" not in value:
            raise ValueError("must contain the placeholder {seed} so each seed is a separate run")
        return value

    @field_validator("pass_env")
    @classmethod
    def _no_secret_names(cls, value: list[str]) -> list[str]:
        from bot.redact import is_secret_name

        secret = [name for name in value if is_secret_name(name)]
        if secret:
            raise ValueError(f"looks like a secret and is never passed to the eval: {secret}")
        return value


class EditConfig(_Model):
    """What the agents may change."""

    paths: list[str] = Field(min_length=1)
    protected: list[str] = Field(default_factory=list)
    #: Files shown to the agents read-only (paths or globs relative to the project), e.g. the code
    #: that builds the data; never offered for editing.
    context: list[str] = Field(default_factory=list)

    def all_protected(self) -> tuple[str, ...]:
        """Protected globs from the config plus the ones that are always protected."""
        return tuple(dict.fromkeys([*ALWAYS_PROTECTED, *self.protected]))


class Budget(_Model):
    """Spend limits for LLM backends; ``None`` means unlimited."""

    usd: float | None = Field(None, ge=0)
    tokens: int | None = Field(None, ge=0)


class ModelPrice(_Model):
    """USD per million tokens for one model. Cache prices default to Anthropic's multipliers."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    #: Writing a prompt-cache entry (default 1.25 × input).
    cache_write: float | None = Field(None, ge=0)
    #: Reading a prompt-cache entry (default 0.1 × input).
    cache_read: float | None = Field(None, ge=0)

    @property
    def cache_write_price(self) -> float:
        """The cache-write price, defaulted from the input price."""
        return self.cache_write if self.cache_write is not None else self.input * 1.25

    @property
    def cache_read_price(self) -> float:
        """The cache-read price, defaulted from the input price."""
        return self.cache_read if self.cache_read is not None else self.input * 0.1

    def cost(
        self, input_tokens: int, output_tokens: int, cache_write_tokens: int = 0, cache_read_tokens: int = 0
    ) -> float:
        """Dollars for a call; ``input_tokens`` excludes the cache-write and cache-read tokens."""
        return (
            input_tokens * self.input
            + output_tokens * self.output
            + cache_write_tokens * self.cache_write_price
            + cache_read_tokens * self.cache_read_price
        ) / 1_000_000


class LoopConfig(_Model):
    """The inner loop."""

    iterations: int = Field(8, ge=0, le=1000)
    agent: AgentName = "auto"
    model: str = "claude-sonnet-4-5"
    agent_command: str | None = None
    #: Seconds one agent call may take (the command agent is killed after it; the anthropic SDK
    #: request times out): long enough for a human or a slow local model answering a command agent.
    agent_timeout_s: float = Field(600.0, gt=0)
    budget: Budget = Field(default_factory=Budget)
    #: Prices per model (USD per million tokens) that override the built-in list prices, e.g. for a
    #: new model, a discount, or a local endpoint that costs nothing.
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    #: Secret-looking environment variables the command agent may still see (e.g. its own API key).
    agent_pass_env: list[str] = Field(default_factory=list)
    #: Stop early once the objective reaches this value.
    target: float | None = None
    #: Stop after this many iterations without a new best (None: never).
    patience: int | None = Field(None, ge=1)
    #: Pause after this many consecutive failures of the same kind in one family of change
    #: (``bot.selection.stop_reason``).
    max_same_failures: int = Field(3, ge=1)
    #: How many of the best search-seed candidates are tried on the held-out seeds.
    confirm_top: int = Field(3, ge=1)
    #: Hypotheses proposed per round, all on the same incumbent; their search evaluations run at
    #: once as far as ``evaluate.workers`` allows, and the journal is re-read before the next round.
    round_size: int = Field(1, ge=1, le=16)
    #: Minimum relative improvement of the objective mean to count (0.01 = 1%); smaller changes
    #: either way are "within noise".
    min_improvement: float = Field(0.0, ge=0.0)
    #: One-sided level of the paired sign-flip test every verdict uses (bot/decision.py): 1/8 is the
    #: smallest level three unanimous seeds reach (1/2 lets a single seed decide by its sign).
    level: float = Field(0.125, gt=0.0, le=0.5)


class GitHubConfig(_Model):
    """Where pull requests go and who may command the bot."""

    base: str = "main"
    branch_prefix: str = "growthhacker/"
    labels: list[str] = Field(default_factory=lambda: ["growthhacker"])
    allowed_commenters: Permission = "write"
    #: Open bot PRs into ``base`` at most: a run with a winner past it updates the newest open one
    #: that only the bot pushed to (and that holds the run's base), else pushes nothing and says why.
    max_open_prs: int = Field(1, ge=1)


class Config(_Model):
    """The whole `.growthhacker.yml`."""

    evaluate: EvaluateConfig
    edit: EditConfig
    loop: LoopConfig = Field(default_factory=LoopConfig)
    github: GitHubConfig = Field(default_factory=GitHubConfig)


def parse_config(text: str, source: str = CONFIG_FILE) -> Config:
    """Parse YAML text into a :class:`Config`.

    Raises:
        ConfigError: the text is not YAML, or a key is missing, unknown or of the wrong type;
            the message names the key path, the line, and what is allowed.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with keys evaluate, edit, loop, github")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(err, text) for err in exc.errors()]
        raise ConfigError(f"{source} is invalid:\n" + "\n".join(lines)) from exc


def load_config(repo: Path, path: Path | None = None) -> Config:
    """Read and validate the config of the repository at ``repo``.

    Raises:
        ConfigError: the file is missing or invalid (see :func:`parse_config`).
    """
    config_path = path if path is not None else repo / CONFIG_FILE
    if not config_path.is_file():
        raise ConfigError(
            f"no config at {config_path}: create one with `growthhacker init`, or pass --config"
        )
    return parse_config(config_path.read_text(encoding="utf-8"), source=str(config_path))


def _describe(err: Any, text: str) -> str:
    loc = tuple(err["loc"])
    key = ".".join(str(part) for part in loc) or "<root>"
    line = _line_of(text, loc)
    where = f" (line {line})" if line else ""
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = f"unknown key; allowed here: {_allowed_keys(loc[:-1])}"
    elif err["type"] == "literal_error":
        message = f"{message}, got {err.get('input')!r}"
    return f"  - {key}{where}: {message}"


def _allowed_keys(parent: tuple[Any, ...]) -> str:
    model: type[BaseModel] = Config
    for part in parent:
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return "(see README configuration reference)"
        model = annotation
    return ", ".join(field.alias or name for name, field in model.model_fields.items())


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest YAML node on ``loc`` that exists."""
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if k.value == str(part)]
            if not match:
                break
            key_node, node = match[0]
            line = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
