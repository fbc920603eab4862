"""The tables of Broadcast Panel (SQLAlchemy 2 typed models)."""

from models.base import Base, UTCDateTime, utcnow
from models.tables import (
    ACTIVE_CAMPAIGN_STATUSES,
    CANCELLABLE_CAMPAIGN_STATUSES,
    DELETABLE_CAMPAIGN_STATUSES,
    FINAL_CAMPAIGN_STATUSES,
    FINAL_DELIVERY_STATUSES,
    STOPPED_CAMPAIGN_STATUSES,
    UNFINISHED_DELIVERY_STATUSES,
    UNSTARTED_CAMPAIGN_STATUSES,
    UNSUCCESSFUL_DELIVERY_STATUSES,
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
    "CANCELLABLE_CAMPAIGN_STATUSES",
    "DELETABLE_CAMPAIGN_STATUSES",
    "FINAL_CAMPAIGN_STATUSES",
    "FINAL_DELIVERY_STATUSES",
    "STOPPED_CAMPAIGN_STATUSES",
    "UNFINISHED_DELIVERY_STATUSES",
    "UNSTARTED_CAMPAIGN_STATUSES",
    "UNSUCCESSFUL_DELIVERY_STATUSES",
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
