"""Writes to profiles and ratings, shared by the bot and the REST API."""

from django.db import transaction

from catalog.models import ContentItem, Genre
from moodstream.tokens import issue_secret

from .models import ApiKey, Profile, Rating


def profile_get_or_create_for_telegram(
    *, telegram_id: int, first_name: str = "", username: str = "", language_code: str | None = None
) -> tuple[Profile, bool]:
    """The profile of a Telegram user, created on first contact. Language: en for English users, else ru."""
    language = "en" if (language_code or "").lower().startswith("en") else "ru"
    profile, created = Profile.objects.get_or_create(
        telegram_id=telegram_id,
        defaults={"first_name": first_name[:128], "username": (username or "")[:64], "language": language},
    )
    return profile, created


def profile_set_genres(*, profile: Profile, genres: list[Genre], kind: str | None = None) -> None:
    """Replace the profile's chosen genres (only those of `kind` when given)."""
    with transaction.atomic():
        if kind is None:
            profile.genres.set(genres)
            return
        keep = [g for g in profile.genres.all() if g.kind != kind]
        profile.genres.set(keep + [g for g in genres if g.kind == kind])


def profile_toggle_genre(*, profile: Profile, genre: Genre) -> bool:
    """Mark or unmark one genre; returns whether it is now chosen."""
    if profile.genres.filter(pk=genre.pk).exists():
        profile.genres.remove(genre)
        return False
    profile.genres.add(genre)
    return True


def rating_set(*, profile: Profile, item: ContentItem, value: int, source: str) -> Rating:
    """Record (or change) what the user thinks of an item."""
    if value not in Rating.Value.values:
        raise ValueError(f"value must be one of {Rating.Value.values}")
    rating, _created = Rating.objects.update_or_create(
        profile=profile, item=item, defaults={"value": value, "source": source}
    )
    return rating



def api_key_issue(*, name: str) -> tuple[ApiKey, str]:
    """Create a client API key. The key itself is returned to be shown once; only its hash is stored."""
    issued = issue_secret()
    api_key = ApiKey.objects.create(name=name, prefix=issued.prefix, key_hash=issued.digest)
    return api_key, issued.secret
