"""Reading a PNG back as its reader would: the signature, the size in its header, the colours."""

from __future__ import annotations

import io
import struct

import numpy
from matplotlib import image

from panel.report_chart import CHART_SIZE_PX

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, the first chunk of every PNG."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def pixels(png: bytes) -> numpy.ndarray:
    """The decoded picture: rows of RGBA values from 0 to 1."""
    return numpy.asarray(image.imread(io.BytesIO(png), format="png"))


def colours(png: bytes) -> int:
    """How many different colours the picture has."""
    picture = pixels(png)
    return len(numpy.unique(picture.reshape(-1, picture.shape[-1]), axis=0))


def assert_readable_chart(png: bytes) -> None:
    """A PNG of `CHART_SIZE_PX` that is not one flat colour."""
    assert png_size(png) == CHART_SIZE_PX
    assert colours(png) > 1
