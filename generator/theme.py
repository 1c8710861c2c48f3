"""Where the theme lives: the site's templates folder over the built-in default theme."""

from __future__ import annotations

import hashlib
from pathlib import Path

from . import __version__
from .config import Config


def builtin_theme_dir() -> Path:
    """Return the folder of the default theme: inside the package, or the repository's templates/."""
    packaged = Path(__file__).parent / "theme"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "templates"


def theme_dirs(config: Config) -> list[Path]:
    """Return the template folders to search, the site's own first."""
    dirs = [config.templates_dir] if config.templates_dir.is_dir() else []
    builtin = builtin_theme_dir()
    if not dirs or dirs[0].resolve() != builtin.resolve():
        dirs.append(builtin)
    return dirs


def static_files(config: Config) -> dict[str, Path]:
    """Return the theme's static files by output path (the site's override the default)."""
    found: dict[str, Path] = {}
    for folder in reversed(theme_dirs(config)):
        static = folder / "static"
        if static.is_dir():
            for path in sorted(static.rglob("*")):
                if path.is_file() and not path.is_symlink() and not path.name.startswith("."):
                    found["static/" + path.relative_to(static).as_posix()] = path
    return found


def theme_fingerprint(config: Config) -> str:
    """Return a hash of every template and static file, for caches."""
    digest = hashlib.sha256(__version__.encode())
    for folder in theme_dirs(config):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()
