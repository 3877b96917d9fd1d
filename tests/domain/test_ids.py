"""One rule for "is this an id": the canonical text the services write; dialects that read any spelling
(Syft Space) canonicalise first."""

from __future__ import annotations

import pytest

from policyhub.domain.ids import canonical_uuid, is_canonical_uuid

ID = "6966920c-6286-4155-9a3c-df726b450e47"  # fixed: parametrised ids must be the same in every xdist worker


def test_an_id_is_the_canonical_text_only() -> None:
    assert is_canonical_uuid(ID)
    spellings = [ID.upper(), ID.replace("-", ""), "{" + ID + "}", "urn:uuid:" + ID, ID[:-1], ID + "\x00"]
    spellings.append(ID.replace("-", "")[:32].ljust(36, "-"))  # 36 characters that uuid.UUID reads
    assert not any(is_canonical_uuid(s) for s in spellings)


@pytest.mark.parametrize("spelling", [ID, ID.upper(), ID.replace("-", ""), "{" + ID + "}", "urn:uuid:" + ID])
def test_any_spelling_is_canonicalised_for_the_dialects_that_accept_it(spelling: str) -> None:
    assert canonical_uuid(spelling) == ID


@pytest.mark.parametrize("text", ["", "payments", ID[:-1], "g" * 32])
def test_what_is_not_a_uuid_is_none(text: str) -> None:
    assert canonical_uuid(text) is None and not is_canonical_uuid(text)
