"""Mapping a source's genre and category names onto MoodStream's genres."""

import re

from catalog.models import Genre, GenreAlias
from catalog.services import normalize_title

_IGNORED = 0


class GenreMapper:
    """Resolves names for one source, in this order:

    1. the GenreAlias table for (source, kind, name) — an alias without a genre ignores the name;
    2. a genre of that kind whose code, English or Russian name equals the name;
    3. a genre whose code or name appears as whole words inside the name ("album rock" → rock),
       the longest such genre first.

    Loaded once per import (two queries); answers are cached per name.
    """

    def __init__(self, source: str):
        self.source = source
        self._exact: dict[tuple[str, str], int] = {}
        self._words: dict[str, list[tuple[re.Pattern, int]]] = {}
        for genre_id, kind, code, name_en, name_ru in Genre.objects.values_list("id", "kind", "code", "name_en", "name_ru"):
            for name in {normalize_title(code), normalize_title(name_en), normalize_title(name_ru)} - {""}:
                self._exact.setdefault((kind, name), genre_id)
                self._words.setdefault(kind, []).append((re.compile(rf"(?:^| ){re.escape(name)}(?: |$)"), genre_id, len(name)))
        for patterns in self._words.values():
            patterns.sort(key=lambda entry: -entry[2])
        self._aliases = {
            (kind, name): genre_id or _IGNORED
            for kind, name, genre_id in GenreAlias.objects.filter(source=source).values_list("kind", "name", "genre_id")
        }
        self._cache: dict[tuple[str, str], int] = {}

    def genre_ids(self, kind: str, names) -> list[int]:
        found: list[int] = []
        for name in names:
            genre_id = self.genre_id(kind, name)
            if genre_id and genre_id not in found:
                found.append(genre_id)
        return found

    def genre_id(self, kind: str, name: str) -> int:
        key = (kind, name)
        if key not in self._cache:
            self._cache[key] = self._resolve(kind, normalize_title(name))
        return self._cache[key]

    def _resolve(self, kind: str, name: str) -> int:
        if not name:
            return _IGNORED
        if (kind, name) in self._aliases:
            return self._aliases[(kind, name)]
        if (kind, name) in self._exact:
            return self._exact[(kind, name)]
        for pattern, genre_id, _length in self._words.get(kind, ()):
            if pattern.search(name):
                return genre_id
        return _IGNORED
