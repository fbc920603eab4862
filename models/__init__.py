"""The tables of Broadcast Panel (SQLAlchemy 2 typed models)."""

from models.base import Base, UTCDateTime, utcnow
from models.tables import (
    ACTIVE_CAMPAIGN_STATUSES,
    FINAL_DELIVERY_STATUSES,
    Admin,
    Campaign,
    CampaignStatus,
    Delivery,
    DeliveryStatus,
    TargetBot,
    User,
)

__all__ = [
    "ACTIVE_CAMPAIGN_STATUSES",
    "FINAL_DELIVERY_STATUSES",
    "Admin",
    "Base",
    "Campaign",
    "CampaignStatus",
    "Delivery",
    "DeliveryStatus",
    "TargetBot",
    "UTCDateTime",
    "User",
    "utcnow",
]
