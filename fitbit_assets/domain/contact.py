"""Reminders a coordinator sends to a participant (pure: no database, no delivery).

The templates say what to do about the usual reasons for missing data; the coordinator may replace the wording
of the body before sending (``message``). ``email_hint`` is what the dashboard shows of an address.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    subject: str
    body: str


TEMPLATES = {
    t.key: t
    for t in (
        Template("not_wearing", "Not wearing the device", "Your study Fitbit: please wear it",
                 "Hello,\n\nwe have received little data from your Fitbit in the last days. Please wear it day and "
                 "night, snug above the wrist bone.\n\nThank you for taking part in the study."),
        Template("not_syncing", "Not syncing", "Your study Fitbit: please sync it",
                 "Hello,\n\nyour Fitbit has not synced for a while. Please open the Fitbit app on your phone once a "
                 "day, with Bluetooth on, so the data reaches the study.\n\nThank you for taking part in the study."),
        Template("charge_device", "Charge the device", "Your study Fitbit: please charge it",
                 "Hello,\n\nyour Fitbit seems to have run out of battery. Please charge it (about two hours) and "
                 "put it back on.\n\nThank you for taking part in the study."),
    )
}


class UnknownTemplate(KeyError):
    def __str__(self) -> str:
        return f"unknown template {self.args[0]!r}: use one of {', '.join(TEMPLATES)}"


@dataclass(frozen=True)
class Reminder:
    template: str
    subject: str
    text: str


def render(template: str, message: str | None = None) -> Reminder:
    """The reminder of ``template``, with the coordinator's own wording of the body when given."""
    if template not in TEMPLATES:
        raise UnknownTemplate(template)
    chosen = TEMPLATES[template]
    return Reminder(template, chosen.subject, (message or "").strip() or chosen.body)


def email_hint(address: str) -> str:
    """``jane.doe@example.org`` -> ``j***@example.org``: enough to recognise, not to use."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
