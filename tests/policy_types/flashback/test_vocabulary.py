"""Policy content → detectors: synonyms, plurals, longest phrases, uncovered terms, modes."""

from __future__ import annotations

import pytest

from policyhub.policy_types.flashback.detectors import ALL_PII, ALL_SECRETS, DETECTORS
from policyhub.policy_types.flashback.vocabulary import API_KEYS, CLOUD_KEYS, NATIONAL_IDS, VOCABULARY, select

SEED = (
    "Enhanced policy: Do not allow sharing of personally identifiable information including SSN, "
    "credit cards, addresses, phone numbers, or email addresses."
)


def test_the_issue_example_activates_cards_and_token_and_cloud_key_detectors() -> None:
    chosen = select("Block any prompt that contains credit card numbers or API keys")
    assert set(chosen.detectors) == {"payment_card", *API_KEYS}
    assert set(CLOUD_KEYS) <= set(chosen.detectors) and {"github_token", "slack_token", "jwt"} <= set(chosen.detectors)
    assert chosen.mode == "detectors" and chosen.uncovered == ()
    assert [(found, label) for found, label, _ in chosen.terms] == [
        ("credit card numbers", "payment card"),
        ("api keys", "API key"),
    ]


def test_the_seed_policy_uses_pii_detectors_and_names_what_only_a_judge_sees() -> None:
    chosen = select(SEED)
    assert chosen.detectors == ALL_PII
    assert chosen.uncovered == ("postal address",)
    assert chosen.mode == "detectors+judge"
    found = [t[0] for t in chosen.terms]
    assert "email addresses" in found and "addresses" in found  # the longer phrase wins where it applies
    described = chosen.describe()
    assert described["mode"] == "detectors+judge" and described["uncovered"] == ["postal address"]
    assert {"term": "ssn", "label": "US social security number", "detectors": ["us_ssn"]} in described["terms"]


@pytest.mark.parametrize(
    ("content", "detectors"),
    [
        ("Never paste e-mail addresses", {"email"}),
        ("no EMAILS", {"email"}),
        ("Block telephone numbers and mobile numbers", {"phone"}),
        ("Social Security Numbers must not leave", {"us_ssn"}),
        ("no national insurance numbers", {"uk_nino"}),
        ("no social insurance number", {"ca_sin"}),
        ("Government IDs are confidential", set(NATIONAL_IDS)),
        ("debit-card details", {"payment_card"}),
        ("IBANs and bank account numbers", {"iban"}),
        ("financial information", {"payment_card", "iban"}),
        ("do not share secrets", set(ALL_SECRETS)),
        ("no credentials in prompts", set(ALL_SECRETS)),
        ("passwords", {"generic_secret"}),
        ("SSH keys or PEM files", {"private_key"}),
        ("JWTs", {"jwt"}),
        ("AWS credentials", {"aws_access_key", "aws_secret_key"}),
        ("cloud keys", set(CLOUD_KEYS)),
        ("service account keys", {"gcp_key", "private_key"}),
        ("Azure connection strings", {"azure_key"}),
        ("GitHub personal access tokens", {"github_token"}),
        ("Slack webhooks", {"slack_token"}),
        ("OpenAI API keys", {"llm_api_key"}),
        (
            "auth tokens",
            {"github_token", "slack_token", "stripe_key", "llm_api_key", "jwt", "bearer_token", "generic_secret"},
        ),
        ("PII", set(ALL_PII)),
    ],
)
def test_synonyms_and_plurals(content: str, detectors: set[str]) -> None:
    assert set(select(content).detectors) == detectors


@pytest.mark.parametrize(
    ("content", "uncovered"),
    [
        ("Do not discuss competitor pricing", ()),
        ("No home addresses or dates of birth", ("postal address", "date of birth")),
        ("Keep IP addresses out", ("IP address",)),
        ("No customer names, passports or medical records", ("name", "passport number", "health information")),
    ],
)
def test_terms_no_detector_covers(content: str, uncovered: tuple[str, ...]) -> None:
    chosen = select(content)
    assert chosen.detectors == () and chosen.uncovered == uncovered and chosen.mode == "judge"


def test_words_inside_other_words_do_not_count() -> None:
    assert select("username, tokenizer, passwordless login, emailing lists").detectors == ()


def test_detectors_come_in_the_builtin_order_and_all_exist() -> None:
    chosen = select("API keys, emails and credit cards")
    order = list(DETECTORS)
    assert list(chosen.detectors) == sorted(chosen.detectors, key=order.index)
    assert {d for term in VOCABULARY for d in term.detectors} <= set(DETECTORS)
