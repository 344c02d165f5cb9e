"""Every text the bot shows, one table per language (Russian is the default).

Texts are Telegram HTML: placeholders are filled by `t()` with values the caller has already
escaped (catalogue text always goes through `formatting.esc`).
"""

from decimal import Decimal

RU = {
    # Registration
    "greeting": "Привет, {name}! 👋 Я <b>MoodStream</b> — подбираю фильм, книгу и музыку под настроение "
                "и свободное время.\n\nЧтобы давать хорошие рекомендации, нам нужно познакомиться.",
    "genres_q_film": "🎬 <b>Какие жанры фильмов тебе нравятся?</b>",
    "genres_q_track": "🎵 <b>Какую музыку ты любишь?</b>",
    "genres_q_book": "📚 <b>Какие книги ты любишь?</b>",
    "genres_hint": "Отметь несколько и нажми «Готово». Повторное нажатие снимает отметку.",
    "genres_step": "Шаг {n} из 3",
    "genres_done": "Готово ➡️",
    "genres_save": "✅ Готово",
    "genres_summary": "Запомнил твои вкусы:\n🎬 {film}\n🎵 {track}\n📚 {book}",
    "genres_none": "пока ничего",
    "warmup_intro": "Давай проверим ещё раз: я покажу названия фильмов, книг и треков, а ты скажи, "
                    "нравятся они тебе или нет. Если не знаешь — так и скажи.",
    "warmup_progress": "Карточка {n} из {total}",
    "warmup_done": "Спасибо! Теперь я знаю тебя лучше 🙌",
    "finish_registration_first": "Сначала давай закончим знакомство — это займёт минуту 🙂",
    "like": "👍 Нравится",
    "unknown": "🤷 Не знаю",
    "dislike": "👎 Не нравится",
    "rating_saved": "Запомнил",
    # Main screen and about
    "main": "Давай поищем что-то, что поможет тебе скрасить время?",
    "more": "ℹ️ Подробнее",
    "search": "🔍 Поиск",
    "back": "⬅️ Назад",
    "about": "<b>Что я умею</b>\nПодбираю фильм, музыку и книгу под твоё настроение и свободное время — "
             "и показываю, где их посмотреть, послушать или прочитать.\n\n"
             "<b>Как это работает</b>\n"
             "1. Ты выбираешь настроение и сколько у тебя времени.\n"
             "2. Я подбираю то, что подходит по настроению, помещается во время и похоже на то, "
             "что тебе нравится: учитываю выбранные жанры и твои оценки.\n"
             "3. Под каждой карточкой — «Нравится / Не знаю / Не нравится»: с каждой оценкой "
             "подборки точнее. Кнопка магазина ведёт к предложению партнёра.\n\n"
             "Можно и просто написать: «грустно, пара часов», «хочу драйва на вечер».\n\n"
             "Команды: /search — поиск, /saved — сохранённое, /settings — жанры и язык, /about — о боте.",
    # Search
    "mood_q": "<b>Какое у тебя настроение?</b>",
    "time_q": "Настроение: {mood}\n\n<b>Сколько у тебя времени?</b>\nВыбери или напиши число минут "
              "(от {min} до {max}).",
    "time_more": "3 ч и больше",
    "time_invalid": "Не понял время 🙈 Напиши число минут от {min} до {max} — например, 45 — "
                    "или часы: «2 ч». Или выбери кнопку выше.",
    "searching": "{mood} · {time}\nПодбираю…",
    "search_summary": "{mood} · {time}",
    "results_footer": "Что дальше?",
    "more_results": "🔄 Ещё варианты",
    "new_search": "🔍 Новый поиск",
    "no_more_results": "Больше вариантов под это настроение и время нет. Попробуй другое настроение или время.",
    "nothing_found": "Под это настроение и время ничего не нашлось. Попробуй другое настроение или время.",
    "empty_kind": "{icon} {reason}",
    "why": "Почему: {reasons}",
    "playlist_title": "🎧 <b>Плейлист на {time}</b> ({total})",
    "playlist_more": "…и ещё {n}",
    # Cards
    "pages": "{n} стр.",
    "reading_time": "≈ {time} чтения",
    "free": "бесплатно",
    "rent": "аренда {price}",
    "subscription": "подписка {price}",
    "shop_line": "🛒 {shop} — {price}",
    "shop_button": "🛒 {shop} · {price}",
    "hours_minutes": "{h} ч {m} мин",
    "hours": "{h} ч",
    "minutes": "{m} мин",
    # Typed words
    "understood": "{mood} · {time}",
    "time_q_for_typed": "Время: {time}\n\n<b>Какое у тебя настроение?</b>",
    "words_help": "Не совсем понял 🙈 Напиши настроение и сколько у тебя времени — например, "
                  "«грустно, пара часов» или «хочу драйва на вечер». Или выбери настроение:",
    # Saved for later
    "save": "🔖 Сохранить",
    "saved_mark": "🔖 Сохранено ✓",
    "save_done": "Сохранил — всё сохранённое в /saved",
    "save_removed": "Убрал из сохранённого",
    "saved_title": "🔖 <b>Сохранённое</b> ({total})",
    "saved_page": "Страница {page} из {pages}",
    "saved_empty": "🔖 Здесь пока пусто. Нажми «🔖 Сохранить» под карточкой — она появится здесь.",
    "saved_no_offer": "сейчас нет в магазинах",
    "saved_remove": "✖️ Убрать {n}",
    "saved_prev": "◀️ Назад",
    "saved_next": "Дальше ▶️",
    "saved_open": "🔖 Сохранённое",
    # Language
    "settings_language": "🌐 Язык: Русский",
    "language_q": "<b>На каком языке говорить?</b>",
    "language_set": "Теперь говорю по-русски",
    # Settings
    "settings_q": "<b>Что хочешь изменить?</b>",
    "settings_films": "🎬 Фильмы",
    "settings_music": "🎵 Музыка",
    "settings_books": "📚 Книги",
    "saved": "Сохранено",
    # Faults and help
    "stale": "Эта кнопка устарела — вот главное меню.",
    "stale_toast": "Кнопка устарела",
    "error": "Что-то пошло не так 😔 Попробуй ещё раз.",
    "help": "Я понимаю кнопки, команды и обычные слова — например, «грустно, пара часов».\n"
            "/search — найти фильм, музыку и книгу\n/saved — сохранённое\n/settings — жанры и язык\n"
            "/about — как я работаю",
    "private_only": "Я работаю только в личных сообщениях — напиши мне напрямую.",
    # Command menu
    "cmd_search": "Найти фильм, музыку и книгу",
    "cmd_saved": "Сохранённое",
    "cmd_settings": "Жанры и язык",
    "cmd_about": "Как работает бот",
    "cmd_start": "Начать / главное меню",
}

EN = {
    "greeting": "Hi, {name}! 👋 I'm <b>MoodStream</b>: I pick a film, a book and music for your mood "
                "and your free time.\n\nTo give you good recommendations we need to get to know you.",
    "genres_q_film": "🎬 <b>Which film genres do you like?</b>",
    "genres_q_track": "🎵 <b>What music do you like?</b>",
    "genres_q_book": "📚 <b>Which books do you love?</b>",
    "genres_hint": "Tick a few and press “Done”. A second tap unticks.",
    "genres_step": "Step {n} of 3",
    "genres_done": "Done ➡️",
    "genres_save": "✅ Done",
    "genres_summary": "Got your tastes:\n🎬 {film}\n🎵 {track}\n📚 {book}",
    "genres_none": "nothing yet",
    "warmup_intro": "Let's check once more: I'll show you titles of films, books and tracks, and you tell me "
                    "whether you like them or not; if you don't know, say so.",
    "warmup_progress": "Card {n} of {total}",
    "warmup_done": "Thank you! Now I know you better 🙌",
    "finish_registration_first": "Let's finish getting to know each other first — it takes a minute 🙂",
    "like": "👍 Like",
    "unknown": "🤷 Don't know",
    "dislike": "👎 Dislike",
    "rating_saved": "Saved",
    "main": "Shall we find something to brighten your time?",
    "more": "ℹ️ More",
    "search": "🔍 Search",
    "back": "⬅️ Back",
    "about": "<b>What I do</b>\nI pick a film, music and a book for your mood and your free time — "
             "and show where to watch, listen or read them.\n\n"
             "<b>How it works</b>\n"
             "1. You choose a mood and how much time you have.\n"
             "2. I pick what suits the mood, fits the time and resembles what you like: "
             "your chosen genres and your ratings.\n"
             "3. Every card has “Like / Don't know / Dislike”: each answer makes the picks better. "
             "The shop button opens a partner's offer.\n\n"
             "You can also just write: “sad, a couple of hours”, “something upbeat for 20 minutes”.\n\n"
             "Commands: /search — search, /saved — saved for later, /settings — genres and language, "
             "/about — about the bot.",
    "mood_q": "<b>What's your mood?</b>",
    "time_q": "Mood: {mood}\n\n<b>How much time do you have?</b>\nChoose or type a number of minutes "
              "({min} to {max}).",
    "time_more": "3 h or more",
    "time_invalid": "I didn't get the time 🙈 Type a number of minutes from {min} to {max} — for example, 45 — "
                    "or hours: “2 h”. Or choose a button above.",
    "searching": "{mood} · {time}\nSearching…",
    "search_summary": "{mood} · {time}",
    "results_footer": "What next?",
    "more_results": "🔄 More options",
    "new_search": "🔍 New search",
    "no_more_results": "No more options for this mood and time. Try another mood or time.",
    "nothing_found": "Nothing found for this mood and time. Try another mood or time.",
    "empty_kind": "{icon} {reason}",
    "why": "Why: {reasons}",
    "playlist_title": "🎧 <b>Playlist for {time}</b> ({total})",
    "playlist_more": "…and {n} more",
    "pages": "{n} pages",
    "reading_time": "≈ {time} of reading",
    "free": "free",
    "rent": "rent {price}",
    "subscription": "subscription {price}",
    "shop_line": "🛒 {shop} — {price}",
    "shop_button": "🛒 {shop} · {price}",
    "hours_minutes": "{h} h {m} min",
    "hours": "{h} h",
    "minutes": "{m} min",
    "understood": "{mood} · {time}",
    "time_q_for_typed": "Time: {time}\n\n<b>What's your mood?</b>",
    "words_help": "I didn't quite get that 🙈 Tell me your mood and how much time you have — for example, "
                  "“sad, a couple of hours” or “something exciting for the evening”. Or choose a mood:",
    "save": "🔖 Save",
    "saved_mark": "🔖 Saved ✓",
    "save_done": "Saved — everything you saved is in /saved",
    "save_removed": "Removed from saved",
    "saved_title": "🔖 <b>Saved for later</b> ({total})",
    "saved_page": "Page {page} of {pages}",
    "saved_empty": "🔖 Nothing here yet. Press “🔖 Save” under a card and it will be here.",
    "saved_no_offer": "not in the shops right now",
    "saved_remove": "✖️ Remove {n}",
    "saved_prev": "◀️ Back",
    "saved_next": "Next ▶️",
    "saved_open": "🔖 Saved",
    "settings_language": "🌐 Language: English",
    "language_q": "<b>Which language shall I speak?</b>",
    "language_set": "I speak English now",
    "settings_q": "<b>What would you like to change?</b>",
    "settings_films": "🎬 Films",
    "settings_music": "🎵 Music",
    "settings_books": "📚 Books",
    "saved": "Saved",
    "stale": "This button is out of date — here is the main menu.",
    "stale_toast": "This button is out of date",
    "error": "Something went wrong 😔 Please try again.",
    "help": "I understand buttons, commands and plain words — for example, “sad, a couple of hours”.\n"
            "/search — find a film, music and a book\n/saved — saved for later\n/settings — genres and language\n"
            "/about — how I work",
    "private_only": "I only work in private chats — message me directly.",
    "cmd_search": "Find a film, music and a book",
    "cmd_saved": "Saved for later",
    "cmd_settings": "Genres and language",
    "cmd_about": "How the bot works",
    "cmd_start": "Start / main menu",
}

TABLES = {"ru": RU, "en": EN}
LANGUAGES = tuple(TABLES)
COMMANDS = ("search", "saved", "settings", "about", "start")
_CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€"}


def t(language: str, key: str, **values) -> str:
    """The text `key` in `language` (Russian when the language is not English)."""
    table = EN if language == "en" else RU
    text = table[key]
    return text.format(**values) if values else text


def duration(language: str, minutes: int) -> str:
    """45 → "45 мин", 120 → "2 ч", 130 → "2 ч 10 мин"."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return t(language, "minutes", m=rest)
    if not rest:
        return t(language, "hours", h=hours)
    return t(language, "hours_minutes", h=hours, m=rest)


def money(language: str, amount: Decimal, currency: str) -> str:
    """299.00 RUB → "299 ₽", 4.99 USD → "4.99 $"."""
    value = amount.quantize(Decimal("1")) if amount == amount.to_integral_value() else amount
    number = f"{value:,}".replace(",", "\u00a0")
    if language != "en":
        number = number.replace(".", ",")
    return f"{number}\u00a0{_CURRENCY_SIGNS.get(currency, currency)}"
