"""Reading a service's environment with pydantic-settings, and saying what is wrong in one line.

Both services parse their environment once at start-up into pydantic-settings models whose fields
carry the contract's variable names (`validation_alias=Env.…`, or an `env_prefix`). A mistake
becomes one `SettingsError` naming the variable and what it should hold; the services print that
line and exit 2, with no traceback.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars


class SettingsError(ValueError):
    """A missing or malformed environment variable; str() is the one line shown to the user."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"environment variable {variable} {problem}")
        self.variable = variable


# The mapping the next model reads instead of os.environ (tests pass their own environment).
_ENVIRON: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "meridian_environ", default=None
)


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading a given mapping, and leaving malformed JSON as text so
    validation reports it against the variable (instead of a generic parse error)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._environ, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:
            return value


class EnvSettings(BaseSettings):
    """Base for settings read from the environment: empty variables count as unset, values are
    stripped, and only the environment (no .env file, no secrets directory) is read."""

    model_config = SettingsConfigDict(
        env_ignore_empty=True,
        str_strip_whitespace=True,
        case_sensitive=True,
        extra="ignore",
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        environ = _ENVIRON.get()
        return (
            init_settings,
            _MappingEnvSource(settings_cls, os.environ if environ is None else environ),
        )


_S = TypeVar("_S", bound=BaseSettings)


def read_env(cls: type[_S], environ: Mapping[str, str] | None = None) -> _S:
    """`cls` read from `environ` (default os.environ); raises SettingsError for the first mistake."""
    token = _ENVIRON.set(environ)
    try:
        return cls()
    except ValidationError as exc:
        raise settings_error(exc, cls) from None
    finally:
        _ENVIRON.reset(token)


def _variable(cls: type[BaseSettings], name: str) -> tuple[str, FieldInfo | None]:
    """The environment variable behind a field (named by field name or alias), and the field."""
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str) and name in (alias, field_name):
            return alias, field
        if name == field_name:
            prefix = cls.model_config.get("env_prefix", "")
            return f"{prefix}{field_name}".upper(), field
    return name, None


def _path(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


_CONTAINER_TYPES = {"tuple_type", "list_type", "dict_type", "model_type", "model_attributes_type"}


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or any(_is_secret(arg) for arg in get_args(annotation))


def describe_error(error: Mapping[str, Any], expected: str | None, *, secret: bool = False) -> str:
    """What is wrong with one value, after its variable's name: 'is not set; expected …' or
    "is 'x'; expected …". `expected` describes a valid value, if the field says; a `secret`
    value is never shown."""
    kind, value = error["type"], error.get("input")
    message = str(error["msg"])
    if kind == "missing":
        return f"is not set; expected {expected}" if expected else "is not set"
    if secret:
        return f"is set but invalid; expected {expected or message[0].lower() + message[1:]}"
    if kind == "value_error":
        return f"is {value!r}; {message.removeprefix('Value error, ')}"
    if kind in _CONTAINER_TYPES and isinstance(value, str):
        shape = "array" if kind in ("tuple_type", "list_type") else "object"
        return f"is {value!r}; expected a JSON {shape}"
    if kind == "json_invalid":
        return f"is not valid JSON ({error.get('ctx', {}).get('error', message)})"
    if expected:
        return f"is {value!r}; expected {expected}"
    return f"is {value!r}; {message[0].lower()}{message[1:]}"


def settings_error(exc: ValidationError, cls: type[BaseSettings]) -> SettingsError:
    """The first error of a settings model's validation, as one line naming its variable."""
    error = exc.errors()[0]
    loc = tuple(error["loc"])
    if not loc:
        return SettingsError(cls.__name__, describe_error(error, None))
    variable, field = _variable(cls, str(loc[0]))
    expected = field.description if field is not None and len(loc) == 1 else None
    secret = field is not None and _is_secret(field.annotation)
    return SettingsError(variable + _path(loc[1:]), describe_error(error, expected, secret=secret))
