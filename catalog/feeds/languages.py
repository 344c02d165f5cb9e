"""Language codes and names to ISO 639-1 ("rus", "RU-ru", "Русский", "English" -> "ru", "en")."""

# Every ISO 639-1 code.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en
eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka
kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())

# ISO 639-2 (bibliographic and terminology) and 639-3 codes of the languages shops sell in,
# and their names in English and Russian.
_OTHER_NAMES: dict[str, str] = {}
for _code, _names in {
    "ru": "rus russian русский русском рус", "en": "eng english английский английском англ",
    "uk": "ukr ukrainian українська украинский украинском", "be": "bel belarusian белорусский", "kk": "kaz kazakh казахский",
    "de": "deu ger german deutsch немецкий", "fr": "fra fre french français francais французский", "es": "spa spanish español espanol испанский",
    "it": "ita italian italiano итальянский", "pt": "por portuguese português portugues португальский", "pl": "pol polish polski польский",
    "cs": "ces cze czech чешский", "sk": "slk slo slovak словацкий", "nl": "nld dut dutch нидерландский голландский",
    "sv": "swe swedish шведский", "no": "nor norwegian норвежский", "nb": "nob", "nn": "nno",
    "da": "dan danish датский", "fi": "fin finnish финский", "et": "est estonian эстонский",
    "lv": "lav latvian латышский", "lt": "lit lithuanian литовский", "hu": "hun hungarian венгерский",
    "ro": "ron rum romanian румынский", "bg": "bul bulgarian болгарский", "sr": "srp serbian сербский",
    "hr": "hrv croatian хорватский", "sl": "slv slovenian словенский", "bs": "bos bosnian",
    "mk": "mkd mac macedonian", "sq": "sqi alb albanian", "el": "ell gre greek греческий",
    "tr": "tur turkish турецкий", "he": "heb hebrew иврит", "yi": "yid yiddish идиш", "ar": "ara arabic арабский",
    "fa": "fas per persian farsi персидский фарси", "hi": "hin hindi хинди", "bn": "ben bengali",
    "ur": "urd urdu", "zh": "zho chi chinese китайский", "ja": "jpn japanese японский",
    "ko": "kor korean корейский", "vi": "vie vietnamese вьетнамский", "th": "tha thai тайский",
    "id": "ind indonesian индонезийский", "ms": "msa may malay", "hy": "hye arm armenian армянский",
    "ka": "kat geo georgian грузинский", "az": "aze azerbaijani азербайджанский", "uz": "uzb uzbek узбекский",
    "tt": "tat tatar татарский", "ky": "kir kyrgyz киргизский", "tg": "tgk tajik таджикский",
    "tk": "tuk turkmen туркменский", "mn": "mon mongolian монгольский", "la": "lat latin латинский латынь",
    "ga": "gle irish", "cy": "cym wel welsh", "is": "isl ice icelandic исландский", "ca": "cat catalan каталанский",
    "eu": "eus baq basque", "gl": "glg galician", "eo": "epo esperanto эсперанто", "af": "afr afrikaans",
    "sw": "swa swahili", "ba": "bak bashkir башкирский", "cv": "chv chuvash чувашский", "ce": "che chechen чеченский",
}.items():
    for _name in _names.split():
        _OTHER_NAMES[_name] = _code


def iso_639_1(value: str) -> str | None:
    """The ISO 639-1 code of a language code or name, or None if it is not one we know."""
    text = value.strip().casefold().replace("_", "-")
    if not text:
        return None
    base = text.split("-")[0].strip() if "-" in text and len(text.split("-")[0]) in (2, 3) else text
    if base in ISO_639_1:
        return base
    base = base.rstrip(".")
    return _OTHER_NAMES.get(base) or _OTHER_NAMES.get(text.split()[0] if " " in text else text)
