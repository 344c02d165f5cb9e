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
            "Видеофильмы": None, "Зарубежные фильмы": None, "Отечественные фильмы": None, "Сериалы": None,
            "Фантастические фильмы": "sci_fi", "Комедийные фильмы": "comedy", "Семейное кино": "family",
            "Детское кино": "family", "Военные фильмы": "war", "Исторические фильмы": "history",
            "Action & Adventure": "action", "Action": "action", "Adventure": "adventure", "Animation": "animation",
            "Cartoons": "animation", "Anime": "animation", "Comedies": "comedy", "Crime": "crime",
            "Documentaries": "documentary", "Dramas": "drama", "Family": "family", "Kids & Family": "family",
            "Horror": "horror", "Musicals": "musical", "Mystery & Suspense": "mystery", "Mysteries": "mystery",
            "Romance": "romance", "Romantic comedies": "romance", "Science Fiction": "sci_fi",
            "Sci-Fi & Fantasy": "sci_fi", "Sports": "sport", "Thrillers": "thriller", "Westerns": "western",
            "War": "war", "Biopics": "biography", "Independent": "arthouse", "Arthouse": "arthouse",
            "Movies": None, "Films": None, "Movies & TV": None, "TV Shows": None, "Feature films": None,
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
            "Художественная литература": None, "Литература": None, "Нехудожественная литература": None,
            "Зарубежная литература": None, "Русская литература": None, "Зарубежная проза": "literary_fiction",
            "Русская проза": "literary_fiction", "Проза": "literary_fiction", "Русская классика": "classics",
            "Зарубежная классика": "classics", "Классическая проза": "classics", "Фантастика и фэнтези": "science_fiction",
            "Боевая фантастика": "science_fiction", "Любовный роман": "romance", "Романы о любви": "romance",
            "Мистика": "horror", "Детективы и триллеры": "detective", "Мемуары": "biography",
            "Научно-популярные книги": "popular_science", "Научпоп": "popular_science", "Бизнес-книги": "self_help",
            "Книги для детей": "children", "Детям": "children", "Young adult": "young_adult",
            "Books": None, "eBooks": None, "Audiobooks": None, "Fiction": None, "Literature": None,
            "Nonfiction": "popular_science", "Non-fiction": "popular_science", "Mystery": "detective",
            "Mystery & Thrillers": "detective", "Mystery, Thriller & Suspense": "thriller",
            "Crime fiction": "detective", "Detective fiction": "detective", "Thrillers": "thriller",
            "Science Fiction & Fantasy": "science_fiction", "Sci-fi": "science_fiction", "Romance novels": "romance",
            "Literary Fiction": "literary_fiction", "Contemporary fiction": "literary_fiction",
            "Classic literature": "classics", "Biographies & Memoirs": "biography", "Biographies": "biography",
            "Memoirs": "biography", "Self-help": "self_help", "Business": "self_help", "Children's books": "children",
            "Kids": "children", "Teen & Young Adult": "young_adult", "Humor": "humour", "Comics": "humour",
            "Horror": "horror", "Poetry": "poetry", "History": "history", "Historical fiction": "historical_fiction",
            "Philosophy": "philosophy", "Science": "popular_science", "Popular science": "popular_science",
        },
        "track": {
            "Поп": "pop", "Рок": "rock", "Русский рок": "russian_rock", "Джаз": "jazz", "Блюз": "blues",
            "Классика": "classical", "Классическая музыка": "classical", "Электроника": "electronic",
            "Электронная музыка": "electronic", "Хип-хоп": "hip_hop", "Рэп": "hip_hop", "Метал": "metal",
            "Панк": "punk", "Фолк": "folk", "Кантри": "country", "Регги": "reggae", "Соул": "soul",
            "Фанк": "funk", "Диско": "disco", "Эмбиент": "ambient", "Инди": "indie", "Саундтреки": "soundtrack",
            "Танцевальная": "dance", "Латина": "latin", "Музыка": None,
            "Поп-музыка": "pop", "Рок-музыка": "rock", "Джаз и блюз": "jazz", "Электронная": "electronic",
            "Танцевальная музыка": "dance", "Хип-хоп и рэп": "hip_hop", "Рэп и хип-хоп": "hip_hop",
            "Музыка из фильмов": "soundtrack", "Саундтрек": "soundtrack", "Шансон": "folk", "Авторская песня": "folk",
            "Бард": "folk", "Народная музыка": "folk", "Релакс": "ambient", "Инструментальная": "neoclassical",
            "Music": None, "Digital music": None, "Albums": None, "Singles": None, "Pop": "pop", "Rock": "rock",
            "Alternative": "indie", "Alternative rock": "indie", "Hip-Hop/Rap": "hip_hop", "Rap": "hip_hop",
            "R&B/Soul": "rnb", "Electronic/Dance": "electronic", "Dance": "dance", "Classical": "classical",
            "Soundtracks": "soundtrack", "Film scores": "soundtrack", "Jazz": "jazz", "Blues": "blues",
            "Country": "country", "Folk": "folk", "Metal": "metal", "Heavy metal": "metal", "Punk": "punk",
            "Reggae": "reggae", "Latin": "latin", "World": None, "Chill": "lofi", "Lo-fi": "lofi",
        },
    },
}
