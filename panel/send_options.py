"""How a campaign's message is sent: silently, protected, with which link preview, pinned after.

Stored with the campaign (`campaigns.send_options`); `panel.content.bot_api_call` turns it into
the Bot API parameters, and the workers pin each delivered message when `pin` is on.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any


class LinkPreview(enum.StrEnum):
    """How the first link of a text message is previewed."""

    ON = "on"
    """Telegram's default: nothing is sent."""
    OFF = "off"
    SMALL = "small"
    LARGE = "large"
    ABOVE = "above"
    """Above the text."""

    def next(self) -> LinkPreview:
        """The next choice in the cycle on → off → small → large → above → on."""
        order = list(LinkPreview)
        return order[(order.index(self) + 1) % len(order)]


LINK_ENTITY_TYPES = frozenset({"url", "text_link"})


def offers_link_preview(content: Mapping[str, Any]) -> bool:
    """Whether a stored message (`MessageContent.to_json()`) can have a link preview: a text
    message (not a caption) with a link in it, as Telegram marked it in the entities. A channel
    post goes as the channel has it (forwardMessage and copyMessage take no link preview)."""
    if isinstance(content.get("media"), dict) or isinstance(content.get("channel_post"), dict):
        return False
    return any(
        isinstance(entity, Mapping) and entity.get("type") in LINK_ENTITY_TYPES
        for entity in content.get("entities") or ()
    )


_PREVIEW_PARAMS: dict[LinkPreview, dict[str, bool]] = {
    LinkPreview.OFF: {"is_disabled": True},
    LinkPreview.SMALL: {"prefer_small_media": True},
    LinkPreview.LARGE: {"prefer_large_media": True},
    LinkPreview.ABOVE: {"show_above_text": True},
}


@dataclass(frozen=True, slots=True)
class SendOptions:
    """The admin's choices for every message of one campaign; the defaults change nothing."""

    silent: bool = False
    """`disable_notification`: the recipients get no sound."""
    protect: bool = False
    """`protect_content`: the message cannot be forwarded or saved."""
    link_preview: LinkPreview = LinkPreview.ON
    pin: bool = False
    """Each delivered message is pinned in its chat (silently)."""
    track_links: bool | None = None
    """Links go through the link service (`panel.links`); None: the default, on when
    LINKS_BASE_URL is set. A campaign keeps it in its own column (`campaigns.track_links`)."""

    def to_json(self) -> dict[str, Any]:
        """The form stored in `campaigns.send_options`."""
        return {
            "silent": self.silent,
            "protect": self.protect,
            "link_preview": self.link_preview.value,
            "pin": self.pin,
            **({"track_links": self.track_links} if self.track_links is not None else {}),
        }

    @classmethod
    def from_json(cls, payload: Mapping[str, Any] | None) -> SendOptions:
        """Read what `to_json` stored; missing or unknown values read as the defaults."""
        if not payload:
            return cls()
        try:
            preview = LinkPreview(str(payload.get("link_preview", LinkPreview.ON.value)))
        except ValueError:
            preview = LinkPreview.ON
        return cls(
            silent=payload.get("silent") is True,
            protect=payload.get("protect") is True,
            link_preview=preview,
            pin=payload.get("pin") is True,
            track_links=payload.get("track_links") if isinstance(payload.get("track_links"), bool) else None,
        )

    def toggled(self, option: str, *, tracking_default: bool = True) -> SendOptions:
        """These options with `option` flipped (`link_preview` moves to its next choice; tracked
        links from what they are now, `tracking_default` when not chosen yet)."""
        if option == "track_links":
            return replace(self, track_links=not self.tracks_links(tracking_default))
        if option == "link_preview":
            return replace(self, link_preview=self.link_preview.next())
        if option == "silent":
            return replace(self, silent=not self.silent)
        if option == "protect":
            return replace(self, protect=not self.protect)
        if option == "pin":
            return replace(self, pin=not self.pin)
        raise ValueError(f"unknown send option {option!r}")

    def tracks_links(self, default: bool) -> bool:
        """Whether links are tracked, `default` standing for the deployment's default."""
        return default if self.track_links is None else self.track_links

    def call_params(self, *, is_text: bool) -> dict[str, Any]:
        """The Bot API parameters these options add to a send (link previews: text only)."""
        params: dict[str, Any] = {}
        if self.silent:
            params["disable_notification"] = True
        if self.protect:
            params["protect_content"] = True
        preview = _PREVIEW_PARAMS.get(self.link_preview)
        if is_text and preview is not None:
            params["link_preview_options"] = dict(preview)
        return params
