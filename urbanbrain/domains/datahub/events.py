"""Event types the data hub emits, ``datahub.<noun>.<verb>``; must equal the manifest's list."""

DATASET_PUBLISHED = "datahub.dataset.published"
REQUEST_SUBMITTED = "datahub.request.submitted"
REQUEST_DECIDED = "datahub.request.decided"
GRANT_REVOKED = "datahub.grant.revoked"

EVENT_TYPES = frozenset({DATASET_PUBLISHED, REQUEST_SUBMITTED, REQUEST_DECIDED, GRANT_REVOKED})
