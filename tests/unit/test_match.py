"""Lead-to-account matching without an engine: company-name keys (icpkit.enrich.names),
e-mail domains and mailbox lists (icpkit.io.mail), and the matcher's rules
(icpkit.enrich.match) on small hand-written cases, one lead at a time and as a table."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from icpkit.enrich import match as m
from icpkit.enrich.match import AccountIndex, Match
from icpkit.enrich.names import block_keys, company_key, typo_close
from icpkit.errors import DataError
from icpkit.intent.record import FREE_MAIL
from icpkit.io.mail import disposable_domains, email_domain, free_mail_domains, is_disposable, is_free_mail, mail_host

# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", [
    "Acme", "ACME", "acme", "Acme Inc", "Acme, Inc.", "Acme Inc.", "Acme Corp.", "Acme Corporation", "Acme LLC",
    "Acme, L.L.C.", "Acme Ltd", "Acme Limited", "Acme plc", "Acme PLC", "Acme GmbH", "Acme AG", "Acme S.A.",
    "Acme SA", "Acme S.p.A.", "Acme B.V.", "Acme N.V.", "Acme Pty Ltd", "Acme Pty. Ltd.", "Acme Oy", "Acme AB",
    "Acme K.K.", "Acme Co., Ltd.", "Acme GmbH & Co. KG", "Acme S.A. de C.V.", "Acme Ltda.", "Acme Sdn. Bhd.",
    "Acme Pvt. Ltd.", "Acme Private Limited", "Acme A/S", "The Acme Company", "  The ACME company  ", "Acme & Co.",
])
def test_legal_forms_case_and_punctuation_fold_to_one_key(name: str) -> None:
    assert company_key(name) == "acme"


@pytest.mark.parametrize(("name", "key"), [
    ("Société Générale S.A.", "societe generale"),  # accents folded
    ("Nestlé", "nestle"),
    ("Ørsted A/S", "orsted"),  # a letter NFKD leaves alone
    ("Straße AG", "strasse"),  # casefold
    ("Wendy’s", "wendys"),  # a curly apostrophe joins
    ("Procter & Gamble", "procter and gamble"),
    ("Procter and Gamble Co.", "procter and gamble"),
    ("Wells Fargo & Company", "wells fargo"),  # no dangling "and"
    ("AT&T Inc.", "at and t"),
    ("U.S. Bank", "us bank"),  # dots join
    ("Coca-Cola", "coca cola"),
    ("Amazon.com, Inc.", "amazon"),  # a web suffix ending a word
    ("Booking.com", "booking"),
    ("Canadian Natural Resources Limited (CNRL)", "canadian natural resources"),  # brackets out
    ("Acme Intl", "acme international"),  # abbreviations written out
    ("Acme Int'l", "acme international"),
    ("Acme Tech", "acme technology"),
    ("Acme Technologies Inc", "acme technology"),  # number merged where an abbreviation blurs it
    ("Little Co. of Mary Hospital", "little company of mary hospital"),
    ("Holdings Inc", "holdings"),  # never empty: a suffix-like word alone stays
    ("Acme Holdings Inc", "acme holdings"),  # a holding company is not its operating company
    ("Acme Group", "acme group"),
    ("The Company", "company"),
    ("Inc.", "inc"),
    ("The", "the"),
    ("東京電力", "東京電力"),  # other scripts kept
])
def test_company_keys(name: str, key: str) -> None:
    assert company_key(name) == key


@pytest.mark.parametrize("value", [None, "", "   ", "---", "&", 42, ["Acme"]])
def test_blank_wordless_or_non_text_names_have_no_key(value: Any) -> None:
    assert company_key(value) == ""


def test_typo_close_allows_a_typo_per_word_but_not_another_word() -> None:
    assert typo_close("hyatt gotels", "hyatt hotels")  # one edit in a 6-letter word
    assert typo_close("university of wet georgia", "university of west georgia")
    assert typo_close("colorado state univrsity", "colorado state university")
    assert typo_close("media markt", "mediamarkt")  # a space lost
    assert not typo_close("university of north alabama", "university of south alabama")  # two edits in 5 letters
    assert not typo_close("deutsche bahn", "deutsche bank")  # two edits in 4 letters
    assert not typo_close("endeavor ait", "endeavor air")  # 3 letters: none
    assert not typo_close("wake technical college", "ozarks technical college")
    assert not typo_close("acme", "acme widgets")  # a word more is no typo
    assert typo_close("lpl ifbancial", "lpl financial")  # two edits in a 9-letter word of a longer name
    assert not typo_close("interbrand", "interbank")  # but not in a name of one word
    assert typo_close("cencosdu", "cencosud")  # a swap is one edit


def test_block_keys_take_words_ends_and_first_letters_with_length() -> None:
    keys = block_keys("acme widgets of the world")
    assert {"w:acme", "w:widgets", "w:world", "p:acme", "s:orld", "f:ac:21"} <= set(keys)
    assert "w:of" not in keys and "w:the" not in keys
    assert [k for k in block_keys("acme", spread=1) if k.startswith("f:")] == ["f:ac:3", "f:ac:4", "f:ac:5"]


# ------------------------------------------------------------------------------ mail


@pytest.mark.parametrize(("email", "domain"), [
    ("ann@acme.com", "acme.com"),
    ("Ann@UK.Acme.COM", "acme.com"),  # a subdomain rolls up; case folds
    ("  bob@mail.acme.co.uk ", "acme.co.uk"),  # a multi-label public suffix
    ("x@www.acme.com.", "acme.com"),
    ("x@shop.acme.myshopify.com", "acme.myshopify.com"),  # a hosting platform's customer
    ("x@münchen.de", "münchen.de"),
    ("x@gmail.com", "gmail.com"),
])
def test_email_domain(email: str, domain: str) -> None:
    assert email_domain(email) == domain


@pytest.mark.parametrize("email", [None, 5, "", "   ", "garbage", "acme.com", "@acme.com", "ann@", "a@@acme.com",
                                   "a b@acme.com", "ann@acme", "ann@1.2.3.4", "ann@-.com", "ann@acme..com",
                                   "ann@a_b.com", "n/a"])
def test_email_domain_is_none_for_garbage(email: Any) -> None:
    assert email_domain(email) is None


def test_mail_host_keeps_the_host_as_written() -> None:
    assert mail_host(" Ann@UK.Acme.com\t") == "UK.Acme.com"
    assert mail_host("no at sign") is None


def test_free_mail_list_holds_the_projects_hand_list_and_subdomains_count() -> None:
    assert FREE_MAIL <= free_mail_domains()
    assert len(free_mail_domains()) > 5000
    for domain in ("gmail.com", "yahoo.co.uk", "GMX.de", "mail.gmx.de", "outlook.com", "web.de"):
        assert is_free_mail(domain), domain
    for domain in ("acme.com", "gmail.com.acme.com", "com", "", None):
        assert not is_free_mail(domain), domain


def test_disposable_list_joins_both_packages_and_subdomains_count() -> None:
    assert len(disposable_domains()) > 5000
    for domain in ("mailinator.com", "x.mailinator.com", "guerrillamail.com", "yopmail.com"):
        assert is_disposable(domain), domain
    assert not is_disposable("acme.com") and not is_disposable("gmail.com")


def test_the_mail_lists_load_without_importing_freemail_or_tldextract() -> None:
    import subprocess
    import sys

    code = ("import sys; from icpkit.io.mail import is_free_mail, is_disposable; "
            "is_free_mail('gmail.com'); is_disposable('mailinator.com'); "
            "print(sorted(m for m in ('freemail', 'tldextract', 'requests') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ----------------------------------------------------------------------------- matcher

ACCOUNTS = [
    {"domain": "acme.com", "name": "Acme Inc.", "country": "United States"},
    {"domain": "https://www.acme.com/", "name": "Acme Europe Ltd", "country": "GB"},  # a subsidiary, same domain
    {"domain": "globex.de", "name": "Globex GmbH", "country": "Germany"},
    {"domain": "globex.fr", "name": "Globex SA", "country": "France"},  # one name, two countries
    {"domain": "initech.io", "name": "Initech", "country": None},
    {"domain": "umbrella-corp.com", "name": "Umbrella Pharmaceuticals Corporation", "country": "US"},
    {"domain": "hooli.xyz", "name": "Hooli", "country": "US"},
    {"domain": "yahoo.com", "name": "Yahoo", "country": "US"},  # its domain is a free-mail provider's
    {"domain": "", "name": "No Domain Ltd", "country": "GB"},  # left out: a match names a domain
    {"domain": "vandelay.com", "name": "Vandelay Industries", "country": "US"},
    {"domain": "vandelay-imports.com", "name": "Vandelay Imports", "country": "US"},
]


@pytest.fixture(scope="module")
def index() -> AccountIndex:
    return AccountIndex.from_records(ACCOUNTS)


def test_accounts_without_a_domain_are_left_out(index: AccountIndex) -> None:
    assert len(index) == 10 and index.skipped == 1
    assert index.by_domain["acme.com"] == [0, 1]


@pytest.mark.parametrize(("lead", "domain", "method", "confidence"), [
    ({"email": "ann@acme.com"}, "acme.com", "email_domain", 1.0),
    ({"E-Mail": "Ann@UK.ACME.com"}, "acme.com", "email_domain", 1.0),  # alias, subdomain, case
    ({"email_address": "x@gmail.com", "company_website": "https://www.initech.io/about"}, "initech.io", "website",
     0.95),
    ({"Email": "x@gmail.com", "Company Name": "INITECH, LLC"}, "initech.io", "exact_name", 0.9),
    ({"email": "x@gmail.com", "organization": "Umbrela Pharmaceuticals Corp"}, "umbrella-corp.com", "fuzzy_name",
     None),
    ({"email": "x@newco.com"}, None, None, 0.0),
    ({}, None, None, 0.0),
])
def test_each_method(index: AccountIndex, lead: dict[str, Any], domain: str | None, method: str | None,
                     confidence: float | None) -> None:
    found = index.match(lead)
    assert (found.domain, found.method) == (domain, method)
    if confidence is not None:
        assert found.confidence == confidence
    else:
        assert 0.5 < found.confidence < m.EXACT_CONFIDENCE


def test_a_free_mail_address_is_matched_by_name_only(index: AccountIndex) -> None:
    assert index.match({"email": "jane@yahoo.com"}).domain is None  # yahoo.com is Yahoo's, but a mailbox
    found = index.match({"email": "jane@yahoo.com", "company": "Yahoo!"})
    assert (found.domain, found.method) == ("yahoo.com", "exact_name")
    assert index.match({"email": "jane@gmail.com", "company": "Hooli"}).method == "exact_name"


def test_a_disposable_address_is_matched_by_name_only(index: AccountIndex) -> None:
    assert index.match({"email": "x@mailinator.com"}).domain is None
    assert index.match({"email": "x@mailinator.com", "company": "Hooli Inc"}).method == "exact_name"
    disposable = AccountIndex.from_records([{"domain": "mailinator.com", "name": "Mailinator"}])
    assert disposable.match({"email": "x@mailinator.com"}).domain is None


def test_a_free_mail_website_names_no_employer(index: AccountIndex) -> None:
    assert index.match({"email": "x@gmail.com", "website": "yahoo.com"}).domain is None


def test_subsidiaries_sharing_a_domain_are_one_answer_and_the_lead_picks_the_account(index: AccountIndex) -> None:
    uk = index.match({"email": "ann@acme.com", "company": "Acme Europe"})
    us = index.match({"email": "ann@acme.com", "company": "Acme"})
    assert (uk.domain, uk.account, uk.name) == ("acme.com", 1, "Acme Europe Ltd")
    assert (us.domain, us.account, us.name) == ("acme.com", 0, "Acme Inc.")
    by_country = index.match({"email": "ann@acme.com", "country": "United Kingdom"})
    assert by_country.account == 1
    assert index.match({"email": "ann@acme.com"}).account == 0  # nothing to tell: the first in input order
    # names of one domain never make the name ambiguous
    twins = AccountIndex.from_records([{"domain": "acme.com", "name": "Acme", "country": "US"},
                                       {"domain": "acme.com", "name": "Acme", "country": "GB"}])
    assert twins.match({"company": "ACME Inc"}).method == "exact_name"


def test_a_name_of_several_domains_is_tie_broken_by_country_or_left_unmatched(index: AccountIndex) -> None:
    fr = index.match({"company": "Globex", "country": "FR"})
    assert (fr.domain, fr.method, fr.confidence) == ("globex.fr", "exact_name", m.EXACT_BY_COUNTRY_CONFIDENCE)
    assert index.match({"company": "Globex", "country": "Deutschland"}).domain == "globex.de"
    ambiguous = index.match({"company": "Globex"})
    assert ambiguous.domain is None and {c.domain for c in ambiguous.candidates} == {"globex.de", "globex.fr"}
    assert index.match({"company": "Globex", "country": "Italy"}).domain is None


def test_an_exact_name_in_another_country_matches_with_less_confidence(index: AccountIndex) -> None:
    found = index.match({"company": "Hooli", "country": "India"})
    assert (found.domain, found.confidence) == ("hooli.xyz", m.EXACT_OTHER_COUNTRY_CONFIDENCE)


def test_a_fuzzy_match_abroad_must_be_closer_and_is_less_sure(index: AccountIndex) -> None:
    lead = {"company": "Umbrela Pharmaceuticals Corp"}  # one letter off a US account's name
    home = index.match(lead | {"country": "US"})
    abroad = index.match(lead | {"country": "France"})
    assert (home.method, abroad.method) == ("fuzzy_name", "fuzzy_name") and abroad.domain == home.domain
    assert abroad.confidence == pytest.approx(home.confidence * m.ABROAD_FACTOR)
    # three letters off (0.87 similar): close enough at home, not from another country
    far = {"company": "Umbrela Pharmacuticls Corp"}
    assert index.match(far | {"country": "US"}).method == "fuzzy_name"
    assert index.match(far | {"country": "France"}).domain is None


def test_a_name_match_with_a_work_address_elsewhere_is_less_sure(index: AccountIndex) -> None:
    plain = index.match({"email": "x@gmail.com", "company": "Initech"})
    elsewhere = index.match({"email": "x@initrode.com", "company": "Initech"})
    assert elsewhere.domain == "initech.io"
    assert elsewhere.confidence == round(plain.confidence * m.OTHER_DOMAIN_FACTOR, 4)


@pytest.mark.parametrize("company", [
    "Vandelay Industries Intl",  # a word more
    "Vandelay Imports Industries",
    "Globox",  # short: exact or nothing
    "Hoolie",
    "Initrode",
    "Umbrella Cosmetics Corporation",  # another word, however long the rest
])
def test_near_miss_negatives_stay_unmatched(index: AccountIndex, company: str) -> None:
    assert index.match({"email": "x@gmail.com", "company": company}).domain is None


def test_two_close_candidates_leave_a_fuzzy_name_unmatched() -> None:
    close = AccountIndex.from_records([{"domain": "a.com", "name": "Northwind Traders"},
                                       {"domain": "b.com", "name": "Northwind Tradars"}])
    found = close.match({"company": "Northwind Tradirs"})  # one edit from both
    assert found.domain is None and [c.domain for c in found.candidates] == ["a.com", "b.com"]
    assert close.match({"company": "Northwind Tradeers"}).domain == "a.com"  # one edit from one, more from the other


def test_unicode_names_and_hosts(index: AccountIndex) -> None:
    accents = AccountIndex.from_records([{"domain": "societegenerale.fr", "name": "Société Générale S.A."},
                                         {"domain": "münchen.de", "name": "Stadt München"}])
    assert accents.match({"company": "SOCIETE GENERALE"}).domain == "societegenerale.fr"
    assert accents.match({"email": "x@MÜNCHEN.de"}).domain == "münchen.de"
    assert accents.match({"company": "Stadt Munchen"}).method == "exact_name"


@pytest.mark.parametrize("lead", [
    {"email": "n/a", "company": "n/a", "website": "-", "country": "null"},
    {"email": "not an address", "company": "   "},
    {"email": None, "company": None},
    {"email": 12, "company": 3.5, "website": True},
    {"company": "\u202e\u0000"},
    {"website": "http://", "company": "---"},
])
def test_empty_and_garbage_leads_stay_unmatched(index: AccountIndex, lead: dict[str, Any]) -> None:
    assert index.match(lead) == Match(None, None, 0.0)


def test_confidence_is_ordered_by_method(index: AccountIndex) -> None:
    assert m.EMAIL_CONFIDENCE > m.WEBSITE_CONFIDENCE > m.EXACT_CONFIDENCE > m.EXACT_BY_COUNTRY_CONFIDENCE
    assert m.fuzzy_confidence(1.0, 1.0) == m.FUZZY_MAX_CONFIDENCE < m.EXACT_CONFIDENCE
    assert m.fuzzy_confidence(0.9, 0.05) < m.fuzzy_confidence(0.9, 0.2) < m.fuzzy_confidence(0.95, 0.2)


# -------------------------------------------------------------------------- as a table

LEADS = [
    {"Email": "ann@acme.com", "Company": None, "Website": None, "Country": None},
    {"Email": "Ann@UK.ACME.com ", "Company": "", "Website": None, "Country": None},
    {"Email": "x@gmail.com", "Company": "INITECH, LLC", "Website": None, "Country": None},
    {"Email": "x@gmail.com", "Company": None, "Website": "https://www.initech.io/about", "Country": None},
    {"Email": "x@gmail.com", "Company": "Umbrela Pharmaceuticals Corp", "Website": None, "Country": "US"},
    {"Email": "x@gmail.com", "Company": "Umbrela Pharmaceuticals Corp", "Website": None, "Country": "FR"},
    {"Email": "jane@yahoo.com", "Company": None, "Website": None, "Country": None},
    {"Email": "x@mailinator.com", "Company": "Hooli", "Website": None, "Country": None},
    {"Email": "x@initrode.com", "Company": "Initech", "Website": None, "Country": None},
    {"Email": None, "Company": "Globex", "Website": None, "Country": "France"},
    {"Email": None, "Company": "Globex", "Website": None, "Country": None},
    {"Email": "n/a", "Company": "n/a", "Website": "-", "Country": None},
    {"Email": None, "Company": None, "Website": None, "Country": None},
]


def test_a_table_is_matched_by_the_same_rules_as_one_lead(index: AccountIndex) -> None:
    table = pa.Table.from_pylist(LEADS)
    got = AccountIndex.from_arrow(pa.Table.from_pylist(ACCOUNTS)).match_table(table).to_pylist()
    assert len(got) == len(LEADS)
    for lead, row in zip(LEADS, got):
        one = index.match(lead)
        assert (row["domain"], row["match_method"], row["confidence"]) == (one.domain, one.method, one.confidence), lead
    assert [r["email"] for r in got[:3]] == ["ann@acme.com", "ann@uk.acme.com", "x@gmail.com"]
    assert [r["match_method"] for r in got] == ["email_domain", "email_domain", "exact_name", "website", "fuzzy_name",
                                                "fuzzy_name", None, "exact_name", "exact_name", "exact_name", None, None,
                                                None]


def test_the_table_reports_what_each_address_is(index: AccountIndex) -> None:
    got = index.match_table(pa.Table.from_pylist(LEADS), mail_kind=True).column("mail_kind").to_pylist()
    assert got[:8] == ["work", "work", "free_mail", "free_mail", "free_mail", "free_mail", "free_mail", "disposable"]
    assert got[-3:] == [None, None, None]


def test_a_table_of_typed_columns_and_several_aliases(index: AccountIndex) -> None:
    table = pa.table({"work_email": pa.array([None, "x@gmail.com"], pa.string()),
                      "email": pa.array(["ann@acme.com", None]), "company_name": pa.array([None, "hooli"]),
                      "employees": pa.array([1, 2]), "country": pa.array([None, None], pa.string())})
    got = index.match_table(table).to_pylist()
    assert [(r["domain"], r["match_method"]) for r in got] == [("acme.com", "email_domain"),
                                                               ("hooli.xyz", "exact_name")]


def test_a_table_without_email_or_company_is_an_error(index: AccountIndex) -> None:
    with pytest.raises(DataError, match="neither an e-mail nor a company column"):
        index.match_table(pa.table({"name": ["Ann"], "website": ["acme.com"]}))


def test_an_empty_table_and_an_empty_index() -> None:
    empty = AccountIndex.from_records([])
    got = empty.match_table(pa.table({"email": pa.array([], pa.string())}))
    assert got.num_rows == 0 and got.column_names == ["email", "domain", "match_method", "confidence"]
    assert empty.match({"email": "a@acme.com", "company": "Acme"}).domain is None


def test_accounts_from_arrow_need_a_domain_column() -> None:
    with pytest.raises(DataError, match="no 'domain' column"):
        AccountIndex.from_arrow(pa.table({"name": ["Acme"]}))
    by_site = AccountIndex.from_arrow(pa.table({"site": ["https://www.acme.com/x"], "name": ["Acme"]}),
                                      domain="domain", website="site")
    assert by_site.domains == ["acme.com"]


def test_thresholds_are_documented_constants() -> None:
    for name in ("FUZZY_MIN_SCORE", "FUZZY_MIN_MARGIN", "FUZZY_MIN_LENGTH", "FUZZY_BLOCK_MAX", "FUZZY_LENGTH_SPREAD",
                 "EXACT_CONFIDENCE", "WEBSITE_CONFIDENCE", "OTHER_DOMAIN_FACTOR"):
        assert name in m.__all__
    assert 0.5 < m.FUZZY_MIN_SCORE < 1 and 0 < m.FUZZY_MIN_MARGIN < 0.5


def test_a_country_breaks_a_tie_only_when_the_other_domains_are_known_to_be_elsewhere() -> None:
    index = AccountIndex.from_records([{"domain": "pmc-a.com", "name": "PMC", "country": "US"},
                                       {"domain": "pmc-b.com", "name": "PMC", "country": None}])
    assert index.match({"company": "PMC", "country": "US"}).domain is None  # pmc-b.com may be in the US too
