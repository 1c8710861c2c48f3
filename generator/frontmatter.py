"""Read a digest's front matter: a strict YAML mapping of known keys, every problem as PATH:LINE."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo

from .markup import clean_text, slugify
from .problems import Problem

MAX_FRONT_MATTER_BYTES = 16 * 1024
FRONT_MATTER_KEYS = ("title", "date", "lang", "tags", "draft", "description")

# The front matter pipelines write (`title: Daily Papers (2024-03-15)`, `date: 2024-03-15`,
# `tags: [mamba, vision]`) read without YAML, whose import and pure-Python parser cost more
# than the rest of such a digest's parse. A text value is taken only in the one form for
# which YAML gives the same string: starting with a letter, holding no YAML indicator and
# no character YAML refuses, and not a word YAML reads as true, false or null.
# tests/test_parse.py holds the two readings equal; anything else goes to YAML.
_SIMPLE_LINE = re.compile(rf"({'|'.join(FRONT_MATTER_KEYS)}): +(.*?) *")
_SIMPLE_TEXT = re.compile(r"[^\W\d_](?:[^\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff:#\[\]{}\\\"'`|>&*!%@]*[^\s\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff:#\[\]{}\\\"'`|>&*!%@])?")
_SIMPLE_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_YAML_WORDS = frozenset("yes no true false on off null".split())


@functools.cache
def _strict_loader() -> type:
    """Return a safe YAML loader class that refuses aliases and duplicate keys (YAML loads only when needed)."""
    import yaml

    class _StrictLoader(yaml.SafeLoader):
        def compose_node(self, parent, index):  # noqa: D102
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(None, None, "aliases are not allowed", event.start_mark)
            return super().compose_node(parent, index)

        def construct_mapping(self, node, deep=False):  # noqa: D102
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    raise yaml.constructor.ConstructorError(None, None, "keys must be plain values", key_node.start_mark)
                if duplicate:
                    raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            return super().construct_mapping(node, deep=deep)

    return _StrictLoader


def split_front_matter(lines: list[str], path: str, problems: list[Problem]) -> tuple[dict, int]:
    """Return the checked front matter {key: (value, line)} and the index of the body's first line."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or lines[start].rstrip() != "---":
        return {}, 0
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if end is None:
        problems.append(Problem(path, start + 1, "unterminated front matter (no closing '---')"))
        return {}, len(lines)
    block = "\n".join(lines[start + 1:end])
    first_line = start + 2
    if len(block.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        problems.append(Problem(path, first_line, f"front matter larger than {MAX_FRONT_MATTER_BYTES // 1024} KiB"))
        return {}, end + 1
    simple = _simple_front_matter(block)
    if simple is not None:
        return _check_front_matter(simple, block, first_line, path, problems), end + 1
    import yaml  # most digests have no front matter or a simple one: only the others pay for YAML

    try:
        loader = _strict_loader()(block)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        # a scanner error's context is where the token began (an unclosed quote's opening line)
        mark = (exc.context_mark if isinstance(exc, yaml.scanner.ScannerError) else None) or exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark else 0)
        problems.append(Problem(path, line, f"invalid front matter: {exc.problem or exc.context}"))
        return {}, end + 1
    except (yaml.YAMLError, RecursionError) as exc:
        problems.append(Problem(path, first_line, f"invalid front matter: {type(exc).__name__}"))
        return {}, end + 1
    except ValueError as exc:  # YAML read a value it cannot make: an impossible date (2024-02-30), say
        line, message = _impossible_date(block) or (0, f"invalid front matter: {exc}")
        problems.append(Problem(path, first_line + line, message))
        return {}, end + 1
    if data is None:
        return {}, end + 1
    if not isinstance(data, dict):
        problems.append(Problem(path, first_line, "front matter must be a mapping of keys to values"))
        return {}, end + 1
    return _check_front_matter(data, block, first_line, path, problems), end + 1


_YAML_DATE_VALUE = re.compile(r"([A-Za-z_][\w-]*):[ \t]+(\d{4})-(\d{1,2})-(\d{1,2})(?![\d])")


def _impossible_date(block: str) -> tuple[int, str] | None:
    """Return (line index in block, message) of the first key whose unquoted value is a date that does not exist."""
    for index, line in enumerate(block.split("\n")):
        match = _YAML_DATE_VALUE.match(line)
        if match:
            try:
                dt.date(*map(int, match.groups()[1:]))
            except ValueError:
                return index, f"'{match[1]}' is not a real date: {match[2]}-{match[3]}-{match[4]}"
    return None


def _simple_front_matter(block: str) -> dict | None:
    """Return the mapping YAML reads from block if block has only the simple forms (see _SIMPLE_TEXT), else None."""
    data: dict = {}
    for line in block.split("\n"):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None or match[1] in data:
            return None
        key, value = match[1], match[2]
        if key == "date":
            found = _SIMPLE_DATE.fullmatch(value)
            try:
                data[key] = dt.date(*map(int, found.groups())) if found else None
            except ValueError:
                return None
        elif key == "draft":
            data[key] = {"true": True, "false": False}.get(value)
        elif key == "tags":
            if value[:1] != "[" or value[-1:] != "]":
                return None
            inside = value[1:-1].strip(" ")
            data[key] = [_simple_text(item.strip(" ")) for item in inside.split(",")] if inside else []
        else:
            data[key] = _simple_text(value)
        if data[key] is None or (key == "tags" and None in data[key]):
            return None
    return data


def _simple_text(value: str) -> str | None:
    """Return value if YAML reads it as this very string in the simple form, else None."""
    if _SIMPLE_TEXT.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return None


def _check_front_matter(data: dict, block: str, first_line: int, path: str, problems: list[Problem]) -> dict:
    """Return {key: (value, line)} for the valid keys of data; report the rest."""
    meta = {}
    for key, value in data.items():
        line = _front_matter_line(block, key, first_line)
        if not isinstance(key, str) or key not in FRONT_MATTER_KEYS:
            problems.append(Problem(path, line, f"unknown front matter key {str(key)[:40]!r} "
                                                f"(known: {', '.join(FRONT_MATTER_KEYS)})", "warning"))
            continue
        if key in ("title", "lang", "description"):
            if not isinstance(value, str):
                problems.append(Problem(path, line, f"'{key}' must be text, got {_yaml_type(value)} "
                                                    "(quote it)"))
                continue
            if key == "title" and not clean_text(value).strip():
                problems.append(Problem(path, line, "'title' must not be empty (leave it out to use the heading)"))
                continue
            if key == "lang" and not re.fullmatch(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*", value):
                problems.append(Problem(path, line, f"'lang' must be a language tag such as 'ko' or 'en', got {value[:40]!r}"))
                continue
        elif key == "draft" and not isinstance(value, bool):
            problems.append(Problem(path, line, f"'draft' must be true or false, got {_yaml_type(value)}"))
            continue
        elif key == "tags":
            if isinstance(value, str):
                value = [t.strip() for t in value.split(",") if t.strip()]
            if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
                problems.append(Problem(path, line, "'tags' must be a list of text, such as [multimodal, mamba]"))
                continue
            if any(clean_text(t) != t for t in value):
                problems.append(Problem(path, line, "invisible or bidirectional control characters removed from 'tags'",
                                        "warning"))
            value = tuple(dict.fromkeys(clean_text(t).strip() for t in value if slugify(t)))
        if key == "title" and clean_text(value) != value:
            problems.append(Problem(path, line, "invisible or bidirectional control characters removed from 'title'",
                                    "warning"))
        meta[key] = (value, line)
    return meta


def _front_matter_line(block: str, key: object, first_line: int) -> int:
    if isinstance(key, str):
        match = re.search(rf"^{re.escape(key)}[ \t]*:", block, re.MULTILINE)
        if match:
            return first_line + block.count("\n", 0, match.start())
    return first_line


def _yaml_type(value: object) -> str:
    names = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a mapping",
             dt.date: "a date", dt.datetime: "a date-time", type(None): "nothing"}
    return names.get(type(value), type(value).__name__)


def front_matter_datetime(value: object, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """Return value as an aware datetime, or None if it is no date: one with no offset is read in tz,
    one with an offset keeps it, so that its date is the one written."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0, 0), tz)
    return None
