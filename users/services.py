"""Writes to profiles and ratings, shared by the bot and the REST API."""

from django.db import connection, transaction
from django.utils import timezone

from catalog.models import ContentItem, Genre
from moodstream.tokens import issue_secret
from recommender.models import Recommendation

from .models import ApiKey, Profile, Rating, SavedItem

LANGUAGES = ("ru", "en")


def profile_get_or_create_for_telegram(
    *, telegram_id: int, first_name: str = "", username: str = "", language_code: str | None = None
) -> tuple[Profile, bool]:
    """The profile of a Telegram user, created on first contact. Language: en for English users, else ru."""
    language = client_language(language_code)
    profile, created = Profile.objects.get_or_create(
        telegram_id=telegram_id,
        defaults={"first_name": first_name[:128], "username": (username or "")[:64], "language": language},
    )
    return profile, created


def client_language(language_code: str | None) -> str:
    """The bot's language for a Telegram client's language code: English for English clients, else Russian."""
    return "en" if (language_code or "").lower().startswith("en") else "ru"


def profile_follow_client_language(*, profile: Profile, language_code: str | None) -> None:
    """Until the user chooses a language in Settings, it follows their Telegram client's."""
    if profile.language_chosen or not language_code:
        return
    language = client_language(language_code)
    if language != profile.language:
        profile.language = language
        profile.save(update_fields=["language", "updated_at"])


def profile_set_language(*, profile: Profile, language: str) -> None:
    """The language chosen in Settings; it wins over the client's from now on."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")
    profile.language, profile.language_chosen = language, True
    profile.save(update_fields=["language", "language_chosen", "updated_at"])


def saved_item_add(*, profile: Profile, item_id: int, recommendation_id=None) -> bool:
    """Keep an item for later (again: nothing changes); False when the item does not exist.

    `recommendation_id` is kept only when it is one of this profile's recommendations (a forged
    button cannot attribute clicks to someone else's).
    """
    if not ContentItem.objects.filter(pk=item_id).exists():
        return False
    if recommendation_id is not None and not Recommendation.objects.filter(pk=recommendation_id,
                                                                             profile=profile).exists():
        recommendation_id = None
    SavedItem.objects.get_or_create(profile=profile, item_id=item_id,
                                    defaults={"recommendation_id": recommendation_id})
    return True


def saved_item_remove(*, profile: Profile, item_id: int) -> bool:
    """Forget a saved item; False when it was not saved."""
    return SavedItem.objects.filter(profile=profile, item_id=item_id).delete()[0] > 0


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


def rating_record(*, profile: Profile, item_id: int, value: int, source: str) -> bool:
    """Record (or change) what the user thinks of an item; False when there is no such item (an old button).

    One statement instead of `update_or_create`'s up to seven (savepoints, a SELECT … FOR UPDATE,
    an INSERT): an INSERT … SELECT from the item's row, so a missing item writes nothing, and
    ON CONFLICT DO UPDATE for a changed mind. A rating button is the bot's commonest update.
    """
    if value not in Rating.Value.values:
        raise ValueError(f"value must be one of {Rating.Value.values}")
    quote = connection.ops.quote_name
    ratings, items = quote(Rating._meta.db_table), quote(ContentItem._meta.db_table)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ratings} (profile_id, item_id, value, source, created_at, updated_at) "
            f"SELECT %s, id, %s, %s, %s, %s FROM {items} WHERE id = %s "
            "ON CONFLICT (profile_id, item_id) DO UPDATE "
            "SET value = EXCLUDED.value, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at",
            [profile.pk, value, source, now, now, item_id])
        return cursor.rowcount == 1


def rating_set(*, profile: Profile, item: ContentItem, value: int, source: str) -> Rating:
    """Record (or change) what the user thinks of an item, and return the stored rating."""
    rating_record(profile=profile, item_id=item.pk, value=value, source=source)
    return Rating.objects.get(profile=profile, item=item)


def api_key_issue(*, name: str) -> tuple[ApiKey, str]:
    """Create a client API key. The key itself is returned to be shown once; only its hash is stored."""
    issued = issue_secret()
    api_key = ApiKey.objects.create(name=name, prefix=issued.prefix, key_hash=issued.digest)
    return api_key, issued.secret


def admin_language_set(*, user, language: str) -> None:
    """Remember the admin language an admin user chose (English or Russian)."""
    from .models import AdminPreference

    AdminPreference.objects.update_or_create(user=user, defaults={"language": language})
