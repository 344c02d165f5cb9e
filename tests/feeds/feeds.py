"""Builders of small feeds in each format for the tests."""

import csv
import io
import json
from xml.sax.saxutils import escape, quoteattr

BOOKS = [
    {"sku": "B-1", "kind": "book", "title": "The Master and Margarita", "creators": ["Mikhail Bulgakov"],
     "year": "1967", "isbn": "9780141180144", "pages": "412", "price": "399", "currency": "RUB",
     "url": "https://bookshop.example/b/1", "genres": ["Классика"]},
    {"sku": "B-2", "kind": "book", "title": "Roadside Picnic", "creators": ["Arkady Strugatsky", "Boris Strugatsky"],
     "year": "1972", "pages": "224", "price": "299.50", "currency": "RUB", "url": "https://bookshop.example/b/2",
     "genres": ["Фантастика"]},
    {"sku": "F-1", "kind": "film", "title": "Interstellar", "creators": ["Christopher Nolan"], "year": "2014",
     "imdb_id": "tt0816692", "runtime_minutes": "169", "price": "199", "currency": "RUB", "offer_type": "rent",
     "url": "https://bookshop.example/f/1", "genres": ["Фантастика", "Драмы"]},
    {"sku": "T-1", "kind": "track", "title": "Bohemian Rhapsody", "creators": ["Queen"], "year": "1975",
     "duration_seconds": "355", "tempo": "72", "energy": "0.4", "price": "0", "currency": "RUB", "offer_type": "free",
     "url": "https://bookshop.example/t/1", "genres": ["Рок"]},
]


def offers(n: int, prefix: str = "S", kind: str = "book", price: str = "100") -> list[dict]:
    return [{"sku": f"{prefix}-{i}", "kind": kind, "title": f"{prefix} Title {i}", "creators": [f"Author {i}"],
             "year": "2001", "price": price, "currency": "RUB", "url": f"https://bookshop.example/{prefix}/{i}"}
            for i in range(n)]


def yml(rows: list[dict], encoding: str = "utf-8") -> bytes:
    categories, offers_xml = {}, []
    for row in rows:
        children = []
        kind = row.get("kind", "")
        for genre in row.get("genres", []):
            categories.setdefault(genre, str(len(categories) + 1))
            children.append(f"<categoryId>{categories[genre]}</categoryId>")
        for key, tag in (("url", "url"), ("price", "price"), ("currency", "currencyId"), ("year", "year"),
                         ("description", "description"), ("isbn", "ISBN"), ("pages", "page_extent"),
                         ("picture", "picture")):
            if key in row:
                children.append(f"<{tag}>{escape(row[key])}</{tag}>")
        creators = ", ".join(row.get("creators", []))
        if kind in ("book", "audiobook"):
            offer_type = kind
            children.append(f"<name>{escape(row['title'])}</name><author>{escape(creators)}</author>")
        elif kind == "film":
            offer_type = "artist.title"
            children.append(f"<title>{escape(row['title'])}</title><director>{escape(creators)}</director>")
        elif kind == "track":
            offer_type = "artist.title"
            children.append(f"<title>{escape(row['title'])}</title><artist>{escape(creators)}</artist>")
        else:
            offer_type = ""
            children.append(f"<name>{escape(row['title'])}</name>")
        for key, name in (("imdb_id", "IMDb"), ("runtime_minutes", "runtime"), ("duration_seconds", "duration_seconds"),
                          ("tempo", "tempo"), ("energy", "energy"), ("offer_type", "offer_type"), ("isrc", "ISRC")):
            if key in row:
                children.append(f'<param name="{name}">{escape(row[key])}</param>')
        type_attr = f" type={quoteattr(offer_type)}" if offer_type else ""
        available = row.get("available", "true")
        offers_xml.append(f"<offer id={quoteattr(row['sku'])}{type_attr} available=\"{available}\">{''.join(children)}</offer>")
    cats = "".join(f'<category id="{cid}">{escape(name)}</category>' for name, cid in categories.items())
    text = (f'<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE yml_catalog SYSTEM "shops.dtd">\n'
            f'<yml_catalog date="2026-11-28 10:00"><shop><name>Shop</name><currencies><currency id="RUR" rate="1"/>'
            f"</currencies><categories>{cats}</categories><offers>\n" + "\n".join(offers_xml)
            + "\n</offers></shop></yml_catalog>\n")
    return text.encode(encoding)


COLUMNS = ["sku", "kind", "title", "creators", "year", "price", "currency", "offer_type", "url", "isbn", "imdb_id",
           "pages", "runtime_minutes", "duration_seconds", "tempo", "energy", "genres", "description", "available"]


def csv_feed(rows: list[dict], columns=COLUMNS, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["|".join(row[c]) if isinstance(row.get(c), list) else row.get(c, "") for c in columns])
    return out.getvalue().encode()


def json_feed(rows: list[dict]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, indent=1).encode()


def json_lines(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
