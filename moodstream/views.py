"""Public pages: the landing page at `/` (what MoodStream is, the bot, how shops connect)."""

from django.conf import settings
from django.shortcuts import render


def landing(request):
    username = settings.TELEGRAM_BOT_USERNAME
    return render(request, "landing.html", {"bot_url": f"https://t.me/{username}" if username else "",
                                            "bot_username": username})
