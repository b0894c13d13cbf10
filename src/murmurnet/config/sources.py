"""The YAML file as a pydantic-settings source, below flags and environment.

`load_config` reads and checks the file first (so errors name the file and key), then sets
its values here for the one `RunConfig(...)` call that needs them.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar("murmurnet_file_data", default=None)


class FileSource(PydanticBaseSettingsSource):
    """Values from the YAML file, below flags and environment in precedence."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)
