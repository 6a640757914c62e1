"""The headless core: domain types, the CodeService façade and its MongoDB and S3 adapters.

Nothing here imports textual or fastapi; a test proves it.
"""

from code_console.core.errors import (
    BadFile,
    Cancelled,
    CodeConsoleError,
    Forbidden,
    InvalidInput,
    NotFound,
    ObjectStoreUnavailable,
    StoreUnavailable,
)
from code_console.core.models import (
    LOCAL_OPERATOR,
    CampaignSummary,
    CodeRecord,
    CodeType,
    Principal,
    Status,
    StatusCounts,
    UpdateResult,
    UploadProgress,
    UploadResult,
)
from code_console.core.service import CodeService

__all__ = [
    "BadFile",
    "Cancelled",
    "CampaignSummary",
    "CodeConsoleError",
    "CodeRecord",
    "CodeService",
    "CodeType",
    "Forbidden",
    "InvalidInput",
    "LOCAL_OPERATOR",
    "NotFound",
    "ObjectStoreUnavailable",
    "Principal",
    "Status",
    "StatusCounts",
    "StoreUnavailable",
    "UpdateResult",
    "UploadProgress",
    "UploadResult",
]
