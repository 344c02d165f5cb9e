"""The admin as staff use it: every page renders, items are found, moods are edited."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from catalog.models import ContentItem, Mood, Partner
from catalog.services import item_refresh_derived_fields
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    call_command("load_demo", verbosity=0)
    user = User.objects.create_superuser("boss", password="pw-boss-123")
    client.force_login(user)
    return client


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_admin_page_renders(staff_client, model, rf):
    changelist = staff_client.get(admin_url(model, "changelist"))
    assert changelist.status_code == 200
    assert staff_client.get(admin_url(model, "changelist"), {"q": "a"}).status_code == 200
    request = rf.get("/")
    request.user = changelist.wsgi_request.user
    # Some records (clicks, conversions) are only ever written by the system: no add page.
    model_admin = admin.site._registry[model]
    add_routed = any(url.name and url.name.endswith("_add") for url in model_admin.get_urls())
    if add_routed:
        can_add = model_admin.has_add_permission(request)
        assert staff_client.get(admin_url(model, "add")).status_code == (200 if can_add else 403)
    obj = model._default_manager.first()
    if obj is not None:
        assert staff_client.get(admin_url(model, "change", obj.pk)).status_code == 200


@pytest.mark.parametrize("query", ["Interstellar", "interstellar", "Интерстеллар", "интерстеллар", "ИНТЕРСТЕЛЛАР",
                                   "tt0816692", "Nolan"])
def test_staff_find_interstellar(staff_client, query):
    response = staff_client.get(admin_url(ContentItem, "changelist"), {"q": query})
    assert response.status_code == 200
    item = ContentItem.objects.get(imdb_id="tt0816692")
    assert item in response.context["cl"].result_list


def test_item_page_shows_its_offers(staff_client):
    item = ContentItem.objects.get(imdb_id="tt0816692")
    offer = item.offers.get()
    response = staff_client.get(admin_url(ContentItem, "change", item.pk))
    assert offer.sku in response.content.decode()
    assert offer.url in response.content.decode()


def test_filters_by_kind_mood_and_partner(staff_client):
    response = staff_client.get(admin_url(ContentItem, "changelist"),
                                {"kind__exact": "film", "moods__id__exact": Mood.objects.get(code="calm").pk,
                                 "offers__partner__id__exact": Partner.objects.get(code="kinoport").pk, "available": "yes"})
    assert response.status_code == 200
    assert all(item.kind == "film" for item in response.context["cl"].result_list)


def test_staff_edit_a_moods_genre_weights(staff_client):
    mood = Mood.objects.get(code="joyful")
    weights = list(mood.genre_weights.order_by("genre__kind", "-weight"))
    data = {
        "code": mood.code, "name_ru": mood.name_ru, "name_en": mood.name_en, "emoji": mood.emoji,
        "position": mood.position, "is_active": "on", "valence": mood.valence, "arousal": mood.arousal,
        "tempo_min": mood.tempo_min, "tempo_max": mood.tempo_max, "energy_min": mood.energy_min,
        "energy_max": mood.energy_max, "mode": mood.mode,
        "genre_weights-TOTAL_FORMS": len(weights), "genre_weights-INITIAL_FORMS": len(weights),
        "genre_weights-MIN_NUM_FORMS": 0, "genre_weights-MAX_NUM_FORMS": 1000,
    }
    for i, weight in enumerate(weights):
        data.update({f"genre_weights-{i}-id": weight.pk, f"genre_weights-{i}-mood": mood.pk,
                     f"genre_weights-{i}-genre": weight.genre_id, f"genre_weights-{i}-weight": weight.weight})
    data["genre_weights-0-weight"] = 0.25
    # The mood's words are edited beside it (an inline): the existing ones kept, one added.
    phrases = list(mood.phrases.order_by("language", "text"))
    data.update({"phrases-TOTAL_FORMS": len(phrases) + 1, "phrases-INITIAL_FORMS": len(phrases),
                 "phrases-MIN_NUM_FORMS": 0, "phrases-MAX_NUM_FORMS": 1000})
    for i, phrase in enumerate(phrases):
        data.update({f"phrases-{i}-id": phrase.pk, f"phrases-{i}-mood": mood.pk,
                     f"phrases-{i}-language": phrase.language, f"phrases-{i}-text": phrase.text})
    data.update({f"phrases-{len(phrases)}-mood": mood.pk, f"phrases-{len(phrases)}-language": "ru",
                 f"phrases-{len(phrases)}-text": "хочется улыбаться"})
    response = staff_client.post(admin_url(Mood, "change", mood.pk), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    weights[0].refresh_from_db()
    assert weights[0].weight == 0.25
    assert mood.phrases.filter(language="ru", text="хочется улыбаться").exists()
    assert mood.phrases.count() == len(phrases) + 1


def test_weights_outside_zero_to_one_are_refused(staff_client):
    mood = Mood.objects.get(code="calm")
    response = staff_client.post(admin_url(Mood, "change", mood.pk), {
        "code": mood.code, "name_ru": mood.name_ru, "name_en": mood.name_en, "position": 1, "valence": 1.5,
        "arousal": mood.arousal, "genre_weights-TOTAL_FORMS": 0, "genre_weights-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200
    assert "valence" in response.context["adminform"].form.errors
    mood.refresh_from_db()
    assert mood.valence == 0.7


def _change_form_data(response) -> dict:
    """The change page's form as the browser would post it back unchanged (main form and inlines)."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({f"{formset.prefix}-{name}": value for name, value in formset.management_form.initial.items()})
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = field.prepare_value(form[name].value())
            if value is None or value is False:
                continue
            if isinstance(value, list):
                data[form.add_prefix(name)] = [str(v) for v in value]
            else:
                data[form.add_prefix(name)] = "on" if value is True else str(value)
    return data


def test_staff_edit_creators_one_per_line(staff_client):
    item = ContentItem.objects.get(imdb_id="tt0816692")
    page = staff_client.get(admin_url(ContentItem, "change", item.pk))
    # Shown as names, one per line — not as JSON.
    assert 'name="creators"' in page.content.decode()
    assert '>\nChristopher Nolan</textarea>' in page.content.decode()

    data = _change_form_data(page)
    data["creators"] = "  Jonathan Nolan \r\n\r\nChristopher Nolan\r\nJonathan Nolan\r\n"
    response = staff_client.post(admin_url(ContentItem, "change", item.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    item.refresh_from_db()
    assert item.creators == ["Jonathan Nolan", "Christopher Nolan"]
    assert item.primary_creator == "Jonathan Nolan"  # the search and the diversity rule follow the edit


def test_search_ignores_accents_and_punctuation(staff_client):
    item = ContentItem.objects.filter(kind="film").first()
    item.title = "Le Fabuleux Destin d'Amélie Poulain"
    item_refresh_derived_fields(item=item)
    item.save()
    response = staff_client.get(admin_url(ContentItem, "changelist"), {"q": "destin d amelie"})
    assert list(response.context["cl"].result_list) == [item]
