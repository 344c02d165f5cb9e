"""Conversation state and update de-duplication, kept in the database so any process can continue a chat."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChatState(models.Model):
    """Where one chat is in the bot's flow and the selections in progress."""

    chat_id = models.BigIntegerField(verbose_name=_("chat id"), unique=True)
    profile = models.OneToOneField("users.Profile", verbose_name=_("profile"), on_delete=models.CASCADE, related_name="chat_state")
    screen = models.CharField(verbose_name=_("screen"), max_length=40, default="main")
    data = models.JSONField(verbose_name=_("data"), default=dict, blank=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("chat state")
        verbose_name_plural = _("chat states")

    def __str__(self):
        return f"chat {self.chat_id}: {self.screen}"


class ProcessedUpdate(models.Model):
    """A Telegram update already handled; a repeat of its id is ignored."""

    update_id = models.BigIntegerField(verbose_name=_("update id"), primary_key=True)
    received_at = models.DateTimeField(verbose_name=_("received at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("processed update")
        verbose_name_plural = _("processed updates")
