"""Persistent UI settings (QSettings): window geometry and layout, last model, pen width.

A broken or foreign settings file must never keep the app from starting: every read falls back
to a default.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "digitpad"
APPLICATION = "digitpad"


def open_settings() -> QSettings:
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def read(settings: QSettings, key: str, default, kind=None):
    try:
        value = settings.value(key, default)
        if value is None:
            return default
        if kind is QByteArray:
            return value if isinstance(value, QByteArray) else default
        return kind(value) if kind else value
    except (TypeError, ValueError):
        return default


def read_flag(settings: QSettings, key: str, default: bool) -> bool:
    """A check box's state: an INI file keeps it as the text "true" or "false" (bool("false") is True)."""
    value = read(settings, key, default)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes") if value.strip() else default
    return bool(value)
