"""Conversation state and update de-duplication, kept in the database so any process can continue a chat."""

from django.db import models


class ChatState(models.Model):
    """Where one chat is in the bot's flow and the selections in progress."""

    chat_id = models.BigIntegerField(unique=True)
    profile = models.OneToOneField("users.Profile", on_delete=models.CASCADE, related_name="chat_state")
    screen = models.CharField(max_length=40, default="main")
    data = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"chat {self.chat_id}: {self.screen}"


class ProcessedUpdate(models.Model):
    """A Telegram update already handled; a repeat of its id is ignored."""

    update_id = models.BigIntegerField(primary_key=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
