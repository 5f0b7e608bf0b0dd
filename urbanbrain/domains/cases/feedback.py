"""The reporter's say on a fix: a key that is theirs alone.

When a case is resolved, a new random key is made and sent to the reporter's own contact (SMS to a phone,
e-mail to an address) with the link they answer at. Only the key's SHA-256 digest is stored, so no staff
response, event, audit row or database reader can give it away; the message itself is queued with its text
sealed. The key works once, for the resolution it was sent for: a case sent back and resolved again gets a
new one. A case whose reporter left no contact is verified by the centre's verifiers only.

The token of a case is something else: a reference for a case that has no number yet, which staff and
Open311 clients look cases up by. It grants nothing.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from urbanbrain.core import notify
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages
from urbanbrain.domains.cases import events
from urbanbrain.domains.cases.models import Case

register_messages(
    {
        "cases.feedback_key_unknown": (
            404,
            "该评价链接无效或已使用。每次办结时，系统会把新的链接发给反映人本人。",
            "This feedback link is unknown or used already. Each time a case is resolved, a new link is sent "
            "to the person who reported it.",
        ),
    }
)

PATH = "/m/feedback/"  # the citizens' page; it reads and answers /api/v1/cases/feedback/<key>


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def channel_for(contact: str) -> str:
    return "email" if "@" in contact else "sms"


def send_feedback_key(session: Session, platform: Platform, case: Case) -> str | None:
    """A new key for the case just resolved, sent to its reporter; the key, or None when there is nobody
    to send it to (no contact given)."""
    case.feedback_digest = None
    contact = platform.protector.open(case.reporter_contact) if case.reporter_contact else None
    if not contact:
        return None
    key = secrets.token_urlsafe(24)
    case.feedback_digest = digest(key)
    link = platform.settings.public_url.rstrip("/") + PATH + key
    ref = case.number or case.token
    text = (
        f"【UrbanBrain】您反映的问题（{ref}）已办结，请评价处理结果：{link} 。"
        f"Your report {ref} has been resolved; tell us if it is fixed: {link}"
    )
    notify.queue_message(
        session, platform, channel=channel_for(contact), target=contact,
        event_id=f"case-{case.id}-feedback-{case.version}", event_type=events.FEEDBACK_ASKED,
        data={"case_id": case.id, "number": case.number}, text=text,
    )  # fmt: skip
    return key


def case_for_key(session: Session, key: str) -> Case:
    """The resolved case a feedback key was sent for; the key is used up by the caller's transition."""
    case = session.scalar(select(Case).where(Case.feedback_digest == digest(key)))
    if case is None:
        raise UrbanBrainError("cases.feedback_key_unknown")
    return case
