"""Read site.toml into a typed, frozen Config; every problem names the file, line and key."""

from __future__ import annotations

import difflib
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from .problems import BuildError, Problem

DEFAULT_CONFIG = "site.toml"


@dataclass(frozen=True)
class Config:
    """The site's settings; paths are absolute, resolved against the config file's folder."""

    title: str
    base_url: str
    root: Path
    description: str = ""
    author: str = ""
    language: str = "ko"
    timezone: str = "UTC"
    paginate: int = 10
    feed_limit: int = 20
    content_dir: Path = Path("content")
    templates_dir: Path = Path("templates")
    output_dir: Path = Path("_site")
    cache_dir: Path = Path(".digest-cache")
    cname: str | None = None
    search: bool = True
    paper_pages: bool = True
    config_path: Path = Path(DEFAULT_CONFIG)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        """Return the site's time zone."""
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def base_path(self) -> str:
        """Return the path part of base_url, with a leading and trailing slash."""
        path = urlsplit(self.base_url).path or "/"
        return path if path.endswith("/") else path + "/"

    def with_base_url(self, url: str) -> "Config":
        """Return a copy with another base_url, validated like the file's."""
        problem = _check_base_url(url)
        if problem:
            raise BuildError([Problem("--base-url", 1, problem)])
        return replace(self, base_url=_normalize_base_url(url))


# key -> (type, required)
_KEYS: dict[str, tuple[type, bool]] = {
    "title": (str, True),
    "base_url": (str, True),
    "description": (str, False),
    "author": (str, False),
    "language": (str, False),
    "timezone": (str, False),
    "paginate": (int, False),
    "feed_limit": (int, False),
    "content_dir": (str, False),
    "templates_dir": (str, False),
    "output_dir": (str, False),
    "cache_dir": (str, False),
    "cname": (str, False),
    "search": (bool, False),
    "paper_pages": (bool, False),
}
_PATH_KEYS = ("content_dir", "templates_dir", "output_dir", "cache_dir")


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Return the Config read from the TOML file at path, or raise BuildError."""
    path = Path(path)
    shown = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BuildError([Problem(shown, 1, "no such config file (run 'digest init' to make a site)")])
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError([Problem(shown, 1, f"cannot read config: {exc}")])
    return parse_config(text, shown, path.resolve().parent)


def parse_config(text: str, shown: str, root: Path) -> Config:
    """Return the Config in TOML text; shown names the file in messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise BuildError([Problem(shown, line, f"invalid TOML: {exc}")])

    problems: list[Problem] = []

    def err(key: str, message: str) -> None:
        problems.append(Problem(shown, _key_line(text, key), message))

    values: dict[str, object] = {}
    for key, value in data.items():
        if key not in _KEYS:
            hint = difflib.get_close_matches(key, _KEYS, n=1)
            more = f" (did you mean '{hint[0]}'?)" if hint else f"; known keys: {', '.join(_KEYS)}"
            err(key, f"unknown key '{key}'{more}")
            continue
        kind, _ = _KEYS[key]
        if type(value) is not kind:  # bool is an int subclass: compare exactly
            err(key, f"'{key}' must be {_type_name(kind)}, got {_type_name(type(value))}")
            continue
        values[key] = value
    for key, (_, required) in _KEYS.items():
        if required and key not in data:
            problems.append(Problem(shown, 1, f"missing required key '{key}'"))

    if "base_url" in values:
        message = _check_base_url(values["base_url"])
        if message:
            err("base_url", message)
        else:
            values["base_url"] = _normalize_base_url(values["base_url"])
    if "timezone" in values:
        try:
            zoneinfo.ZoneInfo(values["timezone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            hint = difflib.get_close_matches(values["timezone"], zoneinfo.available_timezones(), n=3)
            more = f" (did you mean {' or '.join(repr(h) for h in hint)}?)" if hint else " (use an IANA name such as 'Asia/Seoul' or 'UTC')"
            err("timezone", f"unknown timezone '{values['timezone']}'{more}")
    for key in ("paginate", "feed_limit"):
        if key in values and not 1 <= values[key] <= 10_000:
            err(key, f"'{key}' must be between 1 and 10000, got {values[key]}")
    if "cname" in values and not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", values["cname"]):
        err("cname", f"'cname' must be a bare host name such as 'papers.example.org', got {values['cname']!r}")
    if values.get("search", True) and values.get("paper_pages") is False:
        err("search", "search = true needs paper_pages = true (search results are paper pages); "
                      "set search = false or turn paper pages back on")
    for key in _PATH_KEYS:
        if key in values:
            values[key] = (root / Path(values[key]).expanduser()).resolve()
        else:
            values[key] = (root / _default(key)).resolve()

    if "output_dir" in values and not problems:
        message = _check_output_dir(values["output_dir"], root, values["content_dir"], values["templates_dir"],
                                    values["cache_dir"])
        if message:
            err("output_dir", message)
    if problems:
        raise BuildError(problems)
    return Config(root=root, config_path=root / Path(shown).name, **values)


def check_output_dir(config: Config, output_dir: Path) -> None:
    """Raise BuildError if building into output_dir could delete the site's sources."""
    message = _check_output_dir(output_dir.resolve(), config.root, config.content_dir, config.templates_dir,
                                config.cache_dir)
    if message:
        raise BuildError([Problem(str(output_dir), 1, message)])


def _check_output_dir(out: Path, root: Path, content: Path, templates: Path, cache: Path) -> str | None:
    out = out.resolve()
    protected = [root, content, templates, cache, Path.home().resolve(), Path("/")]
    for place in protected:
        if out == place or place.is_relative_to(out):
            return f"output dir {out} must not contain or equal {place} (a build removes every file in it that it did not make)"
    if out.is_relative_to(content) or out.is_relative_to(templates):
        return f"output dir {out} must not be inside the content or templates dir"
    return None


def _check_base_url(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"'base_url' must be an http(s) URL such as 'https://user.github.io/repo/', got {url!r}"
    if re.search(r"[\s\"'<>\\`]", url) or parts.query or parts.fragment:
        return f"'base_url' must be a plain URL without quotes, spaces, query or fragment, got {url!r}"
    return None


def _normalize_base_url(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def _default(key: str) -> Path:
    return next(f.default for f in fields(Config) if f.name == key)


def _type_name(kind: type) -> str:
    return {str: "a string", int: "an integer", bool: "true or false", float: "a number",
            list: "an array", dict: "a table"}.get(kind, kind.__name__)


def key_problem(config: Config, key: str, message: str) -> Problem:
    """Return a Problem with key of the config file, at the line that sets it (1 if none does)."""
    try:
        text = config.config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    return Problem(config.config_path.name, _key_line(text, key), message)  # in the site's folder, as all paths


def _key_line(text: str, key: str) -> int:
    """Return the line that sets key (key = ..., or a [key] table), 1 if there is none."""
    name = rf"[\"']?{re.escape(key)}[\"']?"
    match = re.search(rf"^[ \t]*(?:{name}[ \t]*=|\[\[?[ \t]*{name}[ \t]*[\].])", text, re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _toml_error_line(message: str) -> int:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else 1
