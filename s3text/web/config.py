"""Settings of the review server (``s3text serve``) and the reviewers allowed to decide.

:class:`WebConfig` is the ``web`` section of :class:`s3text.config.PipelineConfig`;
``s3text serve --web-config FILE`` can take it from the ``web:`` section of another YAML file, so the
reviewer list may live apart from the shared config.
Tokens are :class:`pydantic.SecretStr` (they print as ``**********``); a token written as
``env:NAME`` is read from the environment variable ``NAME`` when the server starts, so the YAML
file need not hold secrets.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path

import yaml
from pydantic import SecretStr, ValidationError

from s3text.config import WebConfig
from s3text.errors import ConfigError

MIN_TOKEN_CHARS = 12  # a shorter token is guessable; refuse it at start-up
ENV_PREFIX = "env:"


def is_loopback(host: str) -> bool:
    """Whether a listening address is this machine only (127.0.0.0/8, ::1, localhost)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def resolve_tokens(cfg: WebConfig, environ: Mapping[str, str] | None = None) -> dict[str, SecretStr]:
    """Each reviewer's token, with ``env:NAME`` read from the environment. Errors name the reviewer
    and the variable, never a token."""
    env = os.environ if environ is None else environ
    tokens: dict[str, SecretStr] = {}
    for name, secret in cfg.reviewers.items():
        value = secret.get_secret_value()
        if value.startswith(ENV_PREFIX):
            var = value[len(ENV_PREFIX):]
            if var not in env:
                raise ConfigError(f"reviewer {name!r}: environment variable {var} is not set")
            value = env[var]
        if len(value.strip()) < MIN_TOKEN_CHARS:
            raise ConfigError(f"reviewer {name!r}: token shorter than {MIN_TOKEN_CHARS} characters")
        tokens[name] = SecretStr(value.strip())
    return tokens


def load_web_config(path: Path | str | None) -> WebConfig:
    """The ``web:`` section of a YAML file (defaults when ``path`` is None or has no such section)."""
    if path is None:
        return WebConfig()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read web config: {exc}") from exc
    section = data.get("web", {}) if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: 'web' must be a mapping")
    try:
        return WebConfig.model_validate(section)
    except ValidationError as exc:
        lines = [f"web.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{path}: invalid web config:\n  " + "\n  ".join(lines)) from exc
