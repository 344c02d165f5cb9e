"""Template filters for the admin pages: money with its currency, in the page's language."""

from django import template

from moodstream.money import money as format_money

register = template.Library()


@register.filter
def money(amount, currency):
    return format_money(amount, currency)
