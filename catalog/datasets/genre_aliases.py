"""Default genre aliases per source: the seed of the editable GenreAlias table.

`genre_aliases_seed` copies a source's defaults into the table the first time that source is
imported; after that the table (admin: Catalogue → Genre aliases) is what counts, and edits
or deletions there are kept. `None` means "ignore this name". Names that have no alias are
still matched to a genre by its code or its English / Russian name, and then by a genre
name inside a longer one ("album rock" → rock), see catalog/feeds/genres.py.
"""

DEFAULT_ALIASES: dict[str, dict[str, dict[str, str | None]]] = {
    # IMDb's genre words, used by the Wikidata table, IMDb top-1000 and IMDb 5000.
    "imdb": {
        "film": {
            "Sci-Fi": "sci_fi", "Science Fiction": "sci_fi", "Biography": "biography", "Music": "musical",
            "Film-Noir": "crime", "Animation": "animation", "Family": "family", "Sport": "sport",
            "Documentary": "documentary", "News": "documentary", "Short": None, "Reality-TV": None,
            "Game-Show": None, "Talk-Show": None, "Adult": None,
        },
    },
    # Goodreads shelves (goodbooks-10k extended genres).
    "goodreads": {
        "book": {
            "fiction": None, "contemporary": "literary_fiction", "young-adult": "young_adult",
            "historical-fiction": "historical_fiction", "nonfiction": "popular_science", "science": "popular_science",
            "science-fiction": "science_fiction", "paranormal": "fantasy", "crime": "detective",
            "mystery": "detective", "suspense": "thriller", "chick-lit": "feel_good", "memoir": "biography",
            "psychology": "popular_science", "self-help": "self_help", "spirituality": "philosophy",
            "religion": "philosophy", "christian": None, "graphic-novels": None, "comics": "humour",
            "manga": None, "business": "self_help", "travel": "adventure", "art": None, "music": None,
            "sports": None, "cookbooks": None, "classics": "classics", "horror": "horror", "poetry": "poetry",
            "romance": "romance", "fantasy": "fantasy", "thriller": "thriller", "biography": "biography",
            "history": "history", "philosophy": "philosophy", "children": "children", "humor": "humour",
            "cozy-mystery": "cozy_mystery",
        },
    },
    # Spotify playlist genres and "top genre" words.
    "spotify": {
        "track": {
            "r&b": "rnb", "hip-hop": "hip_hop", "hip hop": "hip_hop", "rap": "hip_hop", "gangster rap": "hip_hop",
            "lofi": "lofi", "lo-fi": "lofi", "edm": "electronic", "electro": "electronic", "techno": "electronic",
            "trance": "electronic", "house": "electronic", "big beat": "electronic", "downtempo": "ambient",
            "electronica": "electronic", "post-rock": "post_rock", "neo-classical": "neoclassical",
            "adult standards": "jazz", "soundtracks": "soundtrack", "classic soundtrack": "soundtrack",
            "cinematic": "soundtrack", "gaming": "soundtrack", "wellness": "ambient", "chanson": "folk",
            "britpop": "indie", "permanent wave": "rock", "motown": "soul", "bebop": "jazz",
            "afrobeats": "dance", "k-pop": "pop", "j-pop": "pop", "mandopop": "pop", "cantopop": "pop",
            "europop": "pop", "nederpop": "pop", "reggaeton": "latin", "brazilian": "latin", "soca": "latin",
            "gospel": "soul", "world": None, "arabic": None, "indian": None, "korean": None, "turkish": None,
            "mellow gold": "rock", "neo mellow": "pop", "levenslied": "folk", "boy band": "pop",
        },
    },
    # Partner feed categories (YML <categories>, CSV/JSON "genres"), usually in Russian.
    "feed": {
        "film": {
            "Боевики": "action", "Боевик": "action", "Приключения": "adventure", "Мультфильмы": "animation",
            "Мультфильм": "animation", "Комедии": "comedy", "Комедия": "comedy", "Криминал": "crime",
            "Документальные": "documentary", "Документальный": "documentary", "Драмы": "drama",
            "Драма": "drama", "Семейные": "family", "Фэнтези": "fantasy", "Исторические": "history",
            "Ужасы": "horror", "Мюзиклы": "musical", "Детективы": "mystery", "Мелодрамы": "romance",
            "Мелодрама": "romance", "Фантастика": "sci_fi", "Спорт": "sport", "Триллеры": "thriller",
            "Триллер": "thriller", "Военные": "war", "Вестерны": "western", "Биография": "biography",
            "Артхаус": "arthouse", "Фильмы": None, "Кино": None,
        },
        "book": {
            "Фантастика": "science_fiction", "Научная фантастика": "science_fiction", "Фэнтези": "fantasy",
            "Детективы": "detective", "Детектив": "detective", "Иронический детектив": "cozy_mystery",
            "Триллеры": "thriller", "Любовные романы": "romance", "Классическая литература": "classics",
            "Классика": "classics", "Современная проза": "literary_fiction", "Поэзия": "poetry",
            "Стихи": "poetry", "Юмор": "humour", "Ужасы": "horror", "Приключения": "adventure",
            "Биографии": "biography", "Биографии и мемуары": "biography", "История": "history",
            "Исторические романы": "historical_fiction", "Философия": "philosophy",
            "Научно-популярная литература": "popular_science", "Нон-фикшн": "popular_science",
            "Психология": "self_help", "Саморазвитие": "self_help", "Детские книги": "children",
            "Детская литература": "children", "Подростковая литература": "young_adult", "Книги": None,
            "Аудиокниги": None, "Электронные книги": None,
        },
        "track": {
            "Поп": "pop", "Рок": "rock", "Русский рок": "russian_rock", "Джаз": "jazz", "Блюз": "blues",
            "Классика": "classical", "Классическая музыка": "classical", "Электроника": "electronic",
            "Электронная музыка": "electronic", "Хип-хоп": "hip_hop", "Рэп": "hip_hop", "Метал": "metal",
            "Панк": "punk", "Фолк": "folk", "Кантри": "country", "Регги": "reggae", "Соул": "soul",
            "Фанк": "funk", "Диско": "disco", "Эмбиент": "ambient", "Инди": "indie", "Саундтреки": "soundtrack",
            "Танцевальная": "dance", "Латина": "latin", "Музыка": None,
        },
    },
}
