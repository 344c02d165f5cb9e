"""Registration's warm-up cards come from the recommender's warm-up picker: the chosen genres first (issue 11)."""

from catalog.models import ContentItem, Genre
from telegram_bot.local_bot_api import plain


def test_the_first_warmup_cards_are_of_the_chosen_genres(user, catalogue):
    user.send("/start")
    for label in ("Драма", "Джаз", "Детектив"):
        user.press(label)
        user.press("Готово")
    chosen = {g.pk for g in Genre.objects.filter(name_ru__in=["Драма", "Джаз", "Детектив"])}
    shown = []
    for _card in range(3):
        card = user.messages()[-1]
        text = plain(card.get("caption") or card.get("text"))
        item = next(i for i in ContentItem.objects.prefetch_related("genres") if i.title in text)
        shown.append(item)
        user.press("Не знаю", message=card)
    assert [i.kind for i in shown] == ["film", "track", "book"]
    assert all(chosen & {g.pk for g in item.genres.all()} for item in shown), [i.title for i in shown]
