"""Identifiers shared by the messages we post and the app that handles their clicks.

A button's ``value`` carries the asset reference (``kind/name@version``); modals carry
the reference and the clicked message's place in ``private_metadata`` (JSON).
"""

from __future__ import annotations

from agent_registry.lifecycle.stages import Decision

APPROVE_ACTION = "agentreg_approve"
REJECT_ACTION = "agentreg_reject"
REQUEST_CHANGES_ACTION = "agentreg_request_changes"

ACTION_DECISIONS: dict[str, Decision] = {
    APPROVE_ACTION: Decision.APPROVE,
    REJECT_ACTION: Decision.REJECT,
    REQUEST_CHANGES_ACTION: Decision.REQUEST_CHANGES,
}

REASON_MODAL_CALLBACK = "agentreg_reason"
"""``callback_id`` of the modal that asks a reviewer why they reject or request changes."""

REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
"""Block and action ids of the reason's plain-text input inside the modal."""

ATTEST_ACTION = "agentreg_attest"
"""The owner team's Attest button on the re-certification DM."""

DEPRECATE_ACTION = "agentreg_deprecate"
"""The Deprecate button on a published version's review message."""

DEPRECATE_MODAL_CALLBACK = "agentreg_deprecate_form"
"""``callback_id`` of the modal that asks why a version is deprecated and what replaces it."""

DEPRECATE_REASON_BLOCK = "deprecate_reason"
DEPRECATE_REASON_INPUT = "deprecate_reason_input"
DEPRECATE_REPLACEMENT_BLOCK = "deprecate_replacement"
DEPRECATE_REPLACEMENT_INPUT = "deprecate_replacement_input"
"""Block and action ids of the deprecation modal's reason and replacement inputs."""

REVIEW_MESSAGE_EVENT = "agentreg_review"
"""``metadata.event_type`` of review request messages, so they can be found again."""
