"""One typed settings object, read from the environment and an optional TOML file.

Precedence: explicit arguments > environment > config file (GRAPHMEM_CONFIG or
./graphmem.toml) > the managed server's files > defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from ._errors import ConfigError


def default_home() -> Path:
    """Per-user folder for the managed Neo4j (binaries, data, logs, password) and caches."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "graphmem"


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    # case-sensitive: the lower-case aliases are for graphmem.toml; an env var like HOME must not match `home`
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, case_sensitive=True)

    # Neo4j. An unset URI means: use the managed local server.
    neo4j_uri: str | None = Field(default=None, validation_alias=_env("NEO4J_URI", "neo4j_uri"))
    neo4j_user: str = Field(default="neo4j", validation_alias=_env("NEO4J_USER", "NEO4J_USERNAME", "neo4j_user"))
    # secrets: repr=False keeps them out of reprs, logs and tracebacks
    neo4j_password: str | None = Field(
        default=None, repr=False, validation_alias=_env("NEO4J_PASSWORD", "neo4j_password")
    )
    neo4j_database: str = Field(default="neo4j", validation_alias=_env("NEO4J_DATABASE", "neo4j_database"))

    # Managed local server
    home: Path = Field(default_factory=default_home, validation_alias=_env("GRAPHMEM_HOME", "home"))
    bolt_port: int = Field(default=7687, ge=1, le=65535, validation_alias=_env("GRAPHMEM_BOLT_PORT", "bolt_port"))
    http_port: int = Field(default=7474, ge=1, le=65535, validation_alias=_env("GRAPHMEM_HTTP_PORT", "http_port"))
    neo4j_version: str = Field(default="5.26.30", validation_alias=_env("GRAPHMEM_NEO4J_VERSION", "neo4j_version"))
    heap: str = Field(default="1g", validation_alias=_env("GRAPHMEM_NEO4J_HEAP", "heap"))
    # Neo4j serves reads from this cache; a memory whose embeddings outgrow it reads them from
    # disk (about 4.5 KB per fact, turn and entity with the indexes: 16 GB at 1M facts on 5.26)
    pagecache: str = Field(default="512m", validation_alias=_env("GRAPHMEM_NEO4J_PAGECACHE", "pagecache"))

    # LLM
    llm_provider: Literal["openai", "offline"] | None = Field(
        default=None, validation_alias=_env("GRAPHMEM_LLM_PROVIDER", "llm_provider")
    )
    llm_model: str = Field(default="gpt-4o-mini", validation_alias=_env("GRAPHMEM_LLM_MODEL", "llm_model"))
    openai_api_key: str | None = Field(
        default=None, repr=False, validation_alias=_env("OPENAI_API_KEY", "openai_api_key")
    )
    openai_base_url: str | None = Field(default=None, validation_alias=_env("OPENAI_BASE_URL", "openai_base_url"))
    llm_timeout: float = Field(default=60.0, gt=0, validation_alias=_env("GRAPHMEM_LLM_TIMEOUT", "llm_timeout"))
    llm_max_retries: int = Field(default=4, ge=0, validation_alias=_env("GRAPHMEM_LLM_MAX_RETRIES", "llm_max_retries"))
    llm_rate_limit_patience: float = Field(
        default=120.0, ge=0, validation_alias=_env("GRAPHMEM_LLM_RATE_LIMIT_PATIENCE", "llm_rate_limit_patience")
    )
    llm_cache_dir: Path | None = Field(default=None, validation_alias=_env("GRAPHMEM_LLM_CACHE", "llm_cache_dir"))
    extraction: Literal["two_pass", "single_pass"] = Field(
        default="two_pass", validation_alias=_env("GRAPHMEM_EXTRACTION", "extraction")
    )
    # the entity types and relations the memory holds: a TOML or YAML file, or a built-in name
    # (`personal`); unset: whatever the extractor finds, the LLM deciding every conflict
    ontology: str | None = Field(default=None, validation_alias=_env("GRAPHMEM_ONTOLOGY", "ontology"))

    # Embedder: `minilm` (all-MiniLM-L6-v2 through ONNX Runtime, the default), `openai` (any
    # OpenAI-compatible /embeddings endpoint), `sentence-transformers` (a local model through
    # torch: the `sentence-transformers` extra), `hashing` (a model-free test double)
    embedder: Literal["minilm", "openai", "sentence-transformers", "hashing"] = Field(
        default="minilm", validation_alias=_env("GRAPHMEM_EMBEDDER", "embedder")
    )
    # minilm / sentence-transformers: a model folder (default: the bundled all-MiniLM-L6-v2);
    # openai: the model name (default text-embedding-3-small)
    embedding_model: str | None = Field(
        default=None, validation_alias=_env("GRAPHMEM_EMBEDDING_MODEL", "embedding_model")
    )
    # the vectors' length: hashing's (default 384) or the endpoint's (default: the known
    # OpenAI models' own); a local model's comes from its folder
    embedding_dim: int | None = Field(
        default=None, ge=8, le=4096, validation_alias=_env("GRAPHMEM_EMBEDDING_DIM", "embedding_dim")
    )
    # the embeddings endpoint, when it is not the LLM's (OPENAI_BASE_URL / OPENAI_API_KEY)
    embedding_base_url: str | None = Field(
        default=None, validation_alias=_env("GRAPHMEM_EMBEDDING_BASE_URL", "embedding_base_url")
    )
    embedding_api_key: str | None = Field(
        default=None, repr=False, validation_alias=_env("GRAPHMEM_EMBEDDING_API_KEY", "embedding_api_key")
    )
    embedding_timeout: float = Field(
        default=30.0, gt=0, validation_alias=_env("GRAPHMEM_EMBEDDING_TIMEOUT", "embedding_timeout")
    )

    # Pipeline
    match_threshold: float = Field(
        default=0.8, ge=0.0, le=1.0, validation_alias=_env("GRAPHMEM_MATCH_THRESHOLD", "match_threshold")
    )
    # a stored fact whose sentence is this near a new one's is a conflict candidate (besides
    # same source and relation, or same pair); lower sends more candidates to the LLM resolver
    conflict_threshold: float = Field(
        default=0.85, ge=0.0, le=1.0, validation_alias=_env("GRAPHMEM_CONFLICT_THRESHOLD", "conflict_threshold")
    )
    # search: the recently searched scopes' embeddings kept in this process (0 turns it off)
    search_cache_mb: int = Field(
        default=256, ge=0, validation_alias=_env("GRAPHMEM_SEARCH_CACHE_MB", "search_cache_mb")
    )
    # the async API's lanes (graphmem/_lanes.py): adds' Neo4j halves at once, adds' LLM and
    # embedding halves at once (waiting on a model: many), reads at once; adds accepted and not
    # yet stored, per memory and per scope, past which an add is refused (BusyError, HTTP 429)
    max_concurrency: int = Field(default=4, ge=1, validation_alias=_env("GRAPHMEM_MAX_CONCURRENCY", "max_concurrency"))
    prepare_concurrency: int = Field(
        default=16, ge=1, validation_alias=_env("GRAPHMEM_PREPARE_CONCURRENCY", "prepare_concurrency")
    )
    read_concurrency: int = Field(
        default=4, ge=1, validation_alias=_env("GRAPHMEM_READ_CONCURRENCY", "read_concurrency")
    )
    max_pending_adds: int = Field(
        default=64, ge=1, validation_alias=_env("GRAPHMEM_MAX_PENDING_ADDS", "max_pending_adds")
    )
    max_pending_per_scope: int = Field(
        default=8, ge=1, validation_alias=_env("GRAPHMEM_MAX_PENDING_PER_SCOPE", "max_pending_per_scope")
    )

    # graphmem serve / graphmem mcp --http: the bearer token clients send (unset: one is
    # generated into api_token_file)
    api_token: str | None = Field(default=None, repr=False, validation_alias=_env("GRAPHMEM_API_TOKEN", "api_token"))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = Path(os.environ.get("GRAPHMEM_CONFIG", "graphmem.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        elif "GRAPHMEM_CONFIG" in os.environ:
            raise ConfigError(f"GRAPHMEM_CONFIG points to {config_file}, which is not a file: fix the path or unset it")
        return tuple(sources)

    @field_validator("home")
    @classmethod
    def _expand_home(cls, value: Path) -> Path:
        return Path(value).expanduser()

    @field_validator("neo4j_uri")
    @classmethod
    def _uri_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        schemes = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")
        if not value.startswith(schemes):
            raise ValueError(f"must start with one of {', '.join(schemes)} (got {value!r})")
        return value

    # Derived values
    @property
    def managed(self) -> bool:
        """True when no server is configured and the managed local Neo4j is used."""
        return self.neo4j_uri is None

    @property
    def password_file(self) -> Path:
        return self.home / "neo4j" / "password"

    @property
    def api_token_file(self) -> Path:
        return self.home / "api-token"

    @property
    def bolt_uri(self) -> str:
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.bolt_port}"

    def password(self) -> str:
        if self.neo4j_password:
            return self.neo4j_password
        if self.password_file.is_file():
            return self.password_file.read_text().strip()
        if self.managed:
            raise ConfigError(
                f"no Neo4j password: the managed server has not been set up ({self.password_file} is missing); "
                "run `graphmem neo4j start`, or set NEO4J_URI and NEO4J_PASSWORD for your own server"
            )
        raise ConfigError("NEO4J_PASSWORD is not set: set it to the password of the server in NEO4J_URI")

    @property
    def resolved_llm_provider(self) -> Literal["openai", "offline"]:
        if self.llm_provider:
            return self.llm_provider
        return "openai" if (self.openai_api_key or self.openai_base_url) else "offline"


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation failures into one ConfigError naming the setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env_name = _ENV_NAMES.get(field, field)
            problems.append(f"{env_name}: {err['msg']}")
        raise ConfigError("bad setting " + "; ".join(problems)) from None


_ENV_NAMES = {
    name: (field.validation_alias.choices[0] if isinstance(field.validation_alias, AliasChoices) else name)
    for name, field in Settings.model_fields.items()
}
for _name, _field in Settings.model_fields.items():
    if isinstance(_field.validation_alias, AliasChoices):
        for _choice in _field.validation_alias.choices:
            _ENV_NAMES[str(_choice)] = str(_field.validation_alias.choices[0])
