"""Files operators upload to the admin API (order imports, coupon code pools, trace
events): the request's body as it is (`application/json`, `text/csv`, …) or the first
file of a `multipart/form-data` form, copied in chunks into a sink under a size limit,
so a large upload is refused (413) after reading just over the limit, never held whole
before it is measured; and `InvalidRows`, the refusal of a file whose rows are checked
before any is used.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from aiohttp import BodyPartReader, web

from admin_api.errors import ApiError, BodyTooLarge, InputError

if TYPE_CHECKING:
    from handlers.order_csv import Checked

_CHUNK = 64 * 1024


class InvalidRows(ApiError):
    """A file refused whole for its bad rows (400 `invalid_rows`): how many rows are bad
    (`invalid`) and the first of them (`rows`), each by its `where` (a CSV line, or an
    index in a JSON list) with the field and the reason."""

    code = "invalid_rows"

    def __init__(self, checked: Checked, where: str = "line") -> None:
        super().__init__(
            f"{checked.invalid} of {checked.valid + checked.invalid} rows are invalid; "
            "nothing was imported", invalid=checked.invalid,
            rows=[{where: e.position, "field": e.field, "message": e.reason}
                  for e in checked.errors])


@dataclass(frozen=True)
class Upload:
    """What was uploaded: its media type (a multipart file's own; "" when the part names
    none) and file name ("" for a plain body)."""

    media_type: str
    filename: str = ""


async def receive(request: web.Request, sink: IO[bytes], *, accepted: Sequence[str],
                  max_bytes: int, too_large: str, expected: str) -> Upload:
    """Copy the upload into `sink`. A plain body must be of an `accepted` media type;
    BodyTooLarge(`too_large`) beyond `max_bytes`; InputError("Content-Type", `expected`)
    for a body of another type."""
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if isinstance(part, BodyPartReader) and part.filename:
                await _copy(part.read_chunk, sink, max_bytes, too_large)
                media_type = part.headers.get("Content-Type", "").split(";")[0].strip()
                return Upload(media_type.lower(), part.filename)
        raise InputError("body", "the multipart upload carries no file")
    if request.content_type in accepted:
        await _copy(request.content.read, sink, max_bytes, too_large)
        return Upload(request.content_type)
    raise InputError("Content-Type", expected)


async def _copy(read: Callable[[int], Awaitable[bytes]], sink: IO[bytes], max_bytes: int,
                too_large: str) -> None:
    size = 0
    while chunk := await read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(too_large)
        sink.write(chunk)
