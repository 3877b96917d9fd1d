"""Reading the multipart body of ``PUT /policies/{org}``: ``payload`` (JSON text) and ``policy_file`` (YAML).

``payload`` may arrive as a plain form field without a content type (the Kosli CLI) or as a file part;
``policy_file`` normally as a file part (CLI: the file's base name; Terraform: ``policy.yaml``). An
unknown part is refused rather than ignored: a misspelt ``policy_file`` would otherwise turn a new
version into a silent metadata-only update.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile

from policyhub.errors import FieldError, InvalidInput, PayloadTooLarge
from policyhub.http.compat.kosli.errors import FILE_LIMIT_BYTES, FILE_TOO_LARGE
from policyhub.http.compat.kosli.translate import FILE_FIELD
from policyhub.http.json_body import parse_json
from policyhub.settings import Settings

PARTS = ("payload", FILE_FIELD)
MAX_PAYLOAD_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PutForm:
    """The parsed parts: the payload as JSON (not yet validated) and the YAML text, if a file came."""

    payload: object
    policy_yaml: str | None


async def read_put_form(request: Request) -> PutForm:
    """Parse the multipart (or urlencoded) body; 400 naming the part for anything malformed."""
    settings: Settings = request.app.state.container.settings
    form = await request.form(max_files=len(PARTS) + 1, max_fields=len(PARTS) + 1, max_part_size=MAX_PAYLOAD_BYTES)
    try:
        unknown = sorted({key for key in form if key not in PARTS})
        if unknown:
            expected = "expected 'payload' and optionally 'policy_file'"
            raise InvalidInput(
                f"unknown form field(s): {', '.join(unknown)}",
                [FieldError(k, f"unknown form field; {expected}") for k in unknown],
            )
        for part in PARTS:
            if len(form.getlist(part)) > 1:
                raise InvalidInput.field(part, "sent more than once")
        if "payload" not in form:
            raise InvalidInput.field("payload", "field required")
        raw_payload = await _read(form["payload"], MAX_PAYLOAD_BYTES, "payload")
        payload = parse_json(raw_payload, max_depth=settings.max_json_depth, field="payload")
        file_part = form.get(FILE_FIELD)
        policy_yaml = None if file_part is None else await _read_file(file_part)
    finally:
        await form.close()
    return PutForm(payload=payload, policy_yaml=policy_yaml)


async def _read(part: UploadFile | str, limit: int, field: str) -> bytes:
    if isinstance(part, str):
        data = part.encode("utf-8", "surrogatepass")
    else:
        data = await part.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput.field(field, f"larger than {limit} bytes")
    return data


async def _read_file(part: UploadFile | str) -> str | None:
    """The policy YAML as text; an empty, unnamed file part (an HTML form left blank) counts as absent."""
    if isinstance(part, str):
        data = part.encode("utf-8", "surrogatepass")
    else:
        data = await part.read(FILE_LIMIT_BYTES + 1)
        if not data and not part.filename:
            return None
    if len(data) > FILE_LIMIT_BYTES:
        raise PayloadTooLarge(FILE_TOO_LARGE)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput.field(FILE_FIELD, f"must be UTF-8 text (invalid byte at offset {exc.start})") from None
