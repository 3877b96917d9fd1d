"""The built-in detectors: what each finds, the look-alikes each rejects, positions and masking."""

from __future__ import annotations

import itertools
import json
import random
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyhub.policy_types.flashback import checks
from policyhub.policy_types.flashback.detectors import DETECTORS, find_all
from policyhub.policy_types.flashback.masking import mask, mask_everything, report

_rng = random.Random(7)


def rnd(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


GITHUB = "ghp_" + rnd(36)
GITHUB_PAT = "github_pat_" + rnd(22) + "_" + rnd(59)
SLACK = "xoxb-123456789012-1234567890123-" + rnd(24)
STRIPE = "sk_live_" + rnd(24)
OPENAI = "sk-proj-" + rnd(48)
ANTHROPIC = "sk-ant-api03-" + rnd(80, string.ascii_letters + string.digits + "_-")
HF = "hf_" + rnd(34)
AWS_ID = "AKIA" + rnd(16, string.ascii_uppercase + "234567")
AWS_SECRET = rnd(40, string.ascii_letters + string.digits + "/+")
GCP = "AIza" + rnd(35, string.ascii_letters + string.digits + "_-")
AZURE_ACCOUNT_KEY = rnd(86, string.ascii_letters + string.digits + "+/") + "=="
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt\n"
    "-----END RSA PRIVATE KEY-----"
)

FOUND = [
    # (detector, text, the exact value it must report)
    ("email", "reach me at jane.roe@example.org today", "jane.roe@example.org"),
    ("email", "Jane <jane+work@mail.example.co.uk>.", "jane+work@mail.example.co.uk"),
    ("phone", "call +44 20 7946 0958 now", "+44 20 7946 0958"),
    ("phone", "office (415) 555-2671.", "(415) 555-2671"),
    ("phone", "cell 415.555.2671", "415.555.2671"),
    ("phone", "de +4915112345678", "+4915112345678"),
    ("us_ssn", "my ssn: 123-45-6789", "123-45-6789"),
    ("us_ssn", "SSN: 123456789.", "123456789"),
    ("us_ssn", "social security number is 219099998", "219099998"),
    ("uk_nino", "NI AB 12 34 56 C please", "AB 12 34 56 C"),
    ("uk_nino", "nino AB123456C", "AB123456C"),
    ("ca_sin", "SIN 130 692 544", "130 692 544"),
    ("payment_card", "card 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("payment_card", "mc 5555-5555-5555-4444", "5555-5555-5555-4444"),
    ("payment_card", "amex 378282246310005", "378282246310005"),
    ("payment_card", "discover 6011111111111117", "6011111111111117"),
    ("payment_card", "jcb 3530111333300000", "3530111333300000"),
    ("payment_card", "mc2 2223003122003222", "2223003122003222"),
    ("iban", "pay DE89 3704 0044 0532 0130 00 today", "DE89 3704 0044 0532 0130 00"),
    ("iban", "to GB82WEST12345698765432.", "GB82WEST12345698765432"),
    ("iban", "NL91ABNA0417164300", "NL91ABNA0417164300"),
    ("iban", "FR1420041010050500013M02606 EUR", "FR1420041010050500013M02606"),
    ("aws_access_key", f"key {AWS_ID} in prod", AWS_ID),
    ("aws_secret_key", f'aws_secret_access_key = "{AWS_SECRET}"', AWS_SECRET),
    ("gcp_key", f"maps key={GCP}", GCP),
    ("azure_key", f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE_ACCOUNT_KEY}", AZURE_ACCOUNT_KEY),
    ("private_key", f"here:\n{PEM}\nthanks", PEM),
    ("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAE", None),
    ("github_token", f"token {GITHUB}", GITHUB),
    ("github_token", f"pat={GITHUB_PAT}", GITHUB_PAT),
    ("slack_token", f"slack {SLACK}", SLACK),
    ("slack_token", "hook https://hooks.slack.com/services/T0000ABCD/B0000WXYZ/" + rnd(24), None),
    ("stripe_key", f"stripe {STRIPE}", STRIPE),
    ("llm_api_key", f"OPENAI_KEY {OPENAI}", OPENAI),
    ("llm_api_key", f"anthropic {ANTHROPIC}", ANTHROPIC),
    ("llm_api_key", f"hf {HF}", HF),
    ("jwt", f"token {JWT} expired", JWT),
    ("bearer_token", "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZ", "9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZ"),
    ("generic_secret", 'password = "S3cr3t!Passw0rd"', "S3cr3t!Passw0rd"),
    ("generic_secret", '{"api_key": "q8Z2xV7mN4pL9sK1"}', "q8Z2xV7mN4pL9sK1"),
    ("generic_secret", "the password is Tr0ub4dor&3 ok", "Tr0ub4dor&3"),
]

NOT_FOUND = [
    ("email", "see logo@2x.png and icon@3x.svg"),
    ("email", "git clone git@github.com:acme/repo.git"),
    ("email", "npm i react@18.2.0 and @types/node"),
    ("email", "ssh user@localhost"),
    ("phone", "delta +12345678"),
    ("phone", "released 2024-05-17, version 1.2.3, host 192.168.100.200"),
    ("us_ssn", "000-12-3456 666-12-3456 900-12-3456"),
    ("us_ssn", "123-00-4567 and 123-45-0000"),
    ("us_ssn", "078-05-1120 219-09-9999"),
    ("us_ssn", "order 123456789 shipped"),
    ("us_ssn", "call 123-456-7890"),
    ("uk_nino", "GB123456A BG123456A ZZ123456A QQ 12 34 56 C"),
    ("uk_nino", "DA123456A AO123456A AB123456E"),
    ("ca_sin", "130 692 545 and 046 454 286"),
    ("payment_card", "card 4111 1111 1111 1112"),
    ("payment_card", "0000 0000 0000 0000"),
    ("payment_card", "4111-1111 1111-1111"),
    ("payment_card", "invoice 9999999999999995 and 1234 5678 9012 3456"),
    ("iban", "DE89 3704 0044 0532 0130 01"),
    ("iban", "GB82WEST1234569876543 XX89370400440532013000"),
    ("iban", "DE89370400440532013000123"),
    ("aws_access_key", "AKIAIOSFODNN7EXAMPLE"),
    ("aws_access_key", f"X{AWS_ID} and {AWS_ID[:-1]}"),
    ("aws_secret_key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("gcp_key", "AIzaShort and XAIza" + GCP[4:]),
    ("azure_key", "AccountKey=short=="),
    ("private_key", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----"),
    ("private_key", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"),
    ("github_token", "ghp_" + "x" * 36 + " and ghp_short"),
    ("slack_token", "xoxb-xxxxxxxxxxxxxxx"),
    ("stripe_key", "pk_live_" + rnd(24)),
    ("llm_api_key", "sk-learn and sk-" + "a" * 40),
    ("jwt", "eyJmb28iOiJiYXIifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV"),
    ("bearer_token", "Bearer <token> and Bearer ${ACCESS_TOKEN_VALUE} and bearer YOUR_ACCESS_TOKEN_HERE_PLEASE"),
    ("bearer_token", "bearer token authentication is common"),
    ("generic_secret", "password: ${DB_PASSWORD} and password: <your-password>"),
    ("generic_secret", "api_key = os.environ['API_KEY'] and secret = settings.SECRET_KEY"),
    ("generic_secret", "the password is required; password=changeme123"),
]


@pytest.mark.parametrize(("name", "text", "value"), FOUND)
def test_each_detector_finds_real_instances(name: str, text: str, value: str | None) -> None:
    found = DETECTORS[name].find(text)
    assert len(found) == 1, found
    f = found[0]
    if value is not None:
        assert text[f.start : f.end] == value
    assert f.detector == name


@pytest.mark.parametrize(("name", "text"), NOT_FOUND)
def test_each_detector_rejects_look_alikes(name: str, text: str) -> None:
    assert DETECTORS[name].find(text) == []


def test_every_detector_has_true_and_false_cases() -> None:
    assert {n for n, _, _ in FOUND} == set(DETECTORS) == {n for n, _ in NOT_FOUND}


def test_kinds_name_the_card_network_and_iban_country() -> None:
    kinds = {(f.detector, f.kind) for f in find_all("4111111111111111 378282246310005 GB82WEST12345698765432")}
    assert kinds == {("payment_card", "visa"), ("payment_card", "amex"), ("iban", "GB")}


def test_overlaps_keep_the_more_specific_finding() -> None:
    found = find_all(f"Authorization: Bearer {JWT}")
    assert [(f.detector, f.start) for f in found] == [("jwt", 22)]


def test_positions_are_code_point_offsets() -> None:
    text = "Grüße 🙂 — card 4111111111111111"
    (f,) = find_all(text)
    assert text[f.start : f.end] == "4111111111111111"


def test_clean_prose_with_numbers_finds_nothing() -> None:
    text = "In 2024 we shipped 15 releases to 3 regions; revenue grew 12% to 4.5M, see ticket 4821. " * 12
    assert find_all(text) == []


# -- masking -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("4111111111111111", "41************11"),
        ("123-45-6789", "1*********9"),
        ("short", "*****"),
        ("AKIAZ7XQ3LMN4PQR5STU", "AK****************TU"),
        ("x" * 500, "xxxx" + "*" * 24 + "xxxx"),
    ],
)
def test_mask_keeps_at_most_an_eighth_at_each_end(value: str, masked: str) -> None:
    assert mask(value) == masked


@given(st.text(min_size=1, max_size=300))
def test_mask_never_reveals_the_value(value: str) -> None:
    masked = mask(value)
    assert masked != value or set(value) == {"*"}
    revealed = len(masked) - masked.count("*") + value.count("*")
    assert revealed <= 2 * min(4, len(value) // 8) + value.count("*")


def test_reports_never_echo_a_secret_and_excerpts_mask_neighbours() -> None:
    text = f"use {GITHUB} with card 4111 1111 1111 1111 and {AWS_ID}"
    findings = DETECTORS["payment_card"].find(text)
    (item,) = report(text, findings)
    assert item["detector"] == "payment_card" and item["kind"] == "visa"
    assert (item["start"], item["end"]) == (text.index("4111"), text.index("4111") + 19)
    assert item["masked"] == "41***************11"
    dumped = json.dumps(item)
    for secret in (GITHUB, AWS_ID, "4111 1111 1111 1111"):
        assert secret not in dumped and secret[4:-4] not in dumped
    assert "card 41***************11 and" in item["excerpt"]


def test_mask_everything_masks_what_any_detector_finds() -> None:
    text = f"mail jane.roe@example.org, key {AWS_ID}, pem:\n{PEM}\nend"
    masked = mask_everything(text)
    assert "jane.roe@example.org" not in masked and AWS_ID not in masked and "MIIEowIBAAKCAQEA" not in masked
    assert masked.startswith("mail ") and masked.endswith("\nend")
    assert mask_everything("nothing to see") == "nothing to see"


# -- checksums (algebraic properties) ----------------------------------------------------------------
def _with_check_digit(payload: str) -> str:
    return next(payload + d for d in string.digits if checks.luhn_valid(payload + d))


@given(st.text(alphabet=string.digits, min_size=11, max_size=18), st.data())
def test_luhn_catches_every_single_digit_error(payload: str, data: st.DataObject) -> None:
    number = _with_check_digit(payload)
    assert checks.luhn_valid(number)
    index = data.draw(st.integers(0, len(number) - 1))
    replacement = data.draw(st.sampled_from([d for d in string.digits if d != number[index]]))
    assert not checks.luhn_valid(number[:index] + replacement + number[index + 1 :])


@given(st.sampled_from(["DE89370400440532013000", "GB82WEST12345698765432", "NO9386011117947"]), st.data())
def test_iban_mod97_catches_every_single_digit_error(iban: str, data: st.DataObject) -> None:
    assert checks.iban_valid(iban)
    index = data.draw(st.sampled_from([i for i, c in enumerate(iban) if i >= 2 and c.isdigit()]))
    replacement = data.draw(st.sampled_from([d for d in string.digits if d != iban[index]]))
    assert not checks.iban_valid(iban[:index] + replacement + iban[index + 1 :])


@given(st.text(max_size=400))
def test_detectors_never_fail_and_findings_are_ordered_and_disjoint(text: str) -> None:
    found = find_all(text)
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start
    assert all(0 <= f.start < f.end <= len(text) for f in found)
