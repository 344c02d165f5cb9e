"""load_demo: English titles and mood words, added to what exists without overwriting staff edits."""

from catalog.demo import demo_load
from catalog.models import ContentItem, Mood, MoodPhrase


def test_load_demo_fills_missing_english_titles_and_mood_words_and_keeps_edits(db):
    demo_load()
    assert not ContentItem.objects.filter(title_en="").exists()
    assert ContentItem.objects.get(title="Могила светлячков").title_en == "Grave of the Fireflies"
    melancholic = Mood.objects.get(code="melancholic")
    assert {"грустно", "sad"} <= set(melancholic.phrases.values_list("text", flat=True))

    # An older database: items without English titles, a mood without words; and some staff edits.
    ContentItem.objects.filter(title="Тайна третьей планеты").update(title_en="")
    ContentItem.objects.filter(title="Сталкер").update(title_en="Stalker (staff)")
    MoodPhrase.objects.filter(mood=melancholic, language="en").delete()
    MoodPhrase.objects.filter(mood=melancholic, language="ru").exclude(text="грустно").delete()

    demo_load()
    assert ContentItem.objects.get(title="Тайна третьей планеты").title_en == "The Mystery of the Third Planet"
    assert ContentItem.objects.get(title="Сталкер", kind="film").title_en == "Stalker (staff)"
    assert melancholic.phrases.filter(language="en", text="sad").exists()
    assert list(melancholic.phrases.filter(language="ru").values_list("text", flat=True)) == ["грустно"]
