"""One test per segmentation rule of the codebook (section 1), on sentences written for the tests."""

from __future__ import annotations

import pytest

from pipeline.segment import SPLITTERS, is_boilerplate_line, segment_document, segment_spans


def units(text: str, splitter: str = "blingfire") -> list[str]:
    return [text[s:e] for s, e in segment_spans(text, splitter)]


@pytest.fixture(params=SPLITTERS)
def splitter(request) -> str:
    return request.param


def test_one_unit_per_sentence_semicolons_do_not_split(splitter):
    text = "The county pays for the beds; the state pays nothing. Sheriffs know this well. Do voters?"
    assert units(text, splitter) == [
        "The county pays for the beds; the state pays nothing.",
        "Sheriffs know this well.",
        "Do voters?",
    ]


def test_units_never_cross_a_line_break(splitter):
    text = "A title that keeps going without a stop\nand a second line that ends here."
    assert units(text, splitter) == [
        "A title that keeps going without a stop",
        "and a second line that ends here.",
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "The U.S. attorney in Tucson declined to comment on the detainers.",
        "Gov. Alvarez signed the bill on a Friday afternoon.",
        "Sen. Holt and Rep. Marsh both voted against the measure.",
        "The Washington, D.C. council met again in Sec. 4 of the hearing.",
        "The officers cited Ordinance No. 12 when they refused the hold.",
        "Some jurisdictions, e.g. Cook County, simply stopped honoring requests.",
        "Former Attorney General Janet M. Quincy testified twice.",
        "The jail billed $4.25 million for 3.5 percent more beds.",
        "The memo dated 2014-11-20 changed the priorities overnight.",
        "Dr. Reyes of St. Paul met Mr. Kim at 9 a.m. on Tuesday.",
    ],
)
def test_abbreviations_initials_decimals_and_dates_do_not_end_a_sentence(splitter, sentence):
    text = sentence + " The next sentence starts here."
    assert units(text, splitter) == [sentence, "The next sentence starts here."]


def test_abbreviation_at_a_real_sentence_end_still_splits(splitter):
    text = "Most of the detainees were eventually deported from the U.S. The county kept the bill."
    assert units(text, splitter) == [
        "Most of the detainees were eventually deported from the U.S.",
        "The county kept the bill.",
    ]


@pytest.mark.parametrize(
    "quote",
    [
        "The sheriff told reporters, “We hold people for ICE. That is the law. I did not write it.” ",
        'The chief put it bluntly: "Nobody calls us anymore. They are afraid. Can you blame them?" ',
        "A deputy's rule of thumb was 'A bad list is worse than none. With none, you check.' ",
        "She called the program ‘a net with no floor. It catches everyone.’ ",
    ],
)
def test_quotations_with_several_sentences_stay_in_their_sentence(splitter, quote):
    text = quote + "Nobody on the council answered."
    assert units(text, splitter) == [quote.strip(), "Nobody on the council answered."]


def test_apostrophes_do_not_open_a_quotation(splitter):
    text = "The officers' union objected. Don't ask why. It was the '90s, after all. Rock 'n' roll won."
    assert units(text, splitter) == ["The officers' union objected.", "Don't ask why.", "It was the '90s, after all.",
                                     "Rock 'n' roll won."]


def test_bracketed_sentence_stays_with_the_sentence_before(splitter):
    text = (
        "The county rented forty beds to the agency. (The contract ran for three years.) "
        "Then the money stopped."
    )
    assert units(text, splitter) == [
        "The county rented forty beds to the agency. (The contract ran for three years.)",
        "Then the money stopped.",
    ]


def test_dashes_do_not_split(splitter):
    text = "The program worked — at first. It cost more – much more – than promised."
    assert units(text, splitter) == ["The program worked — at first.", "It cost more – much more – than promised."]


@pytest.mark.parametrize(
    "line",
    [
        "Go To Homepage",
        "Before You Go",
        "Popular in the Community",
        "Read More",
        "Join the conversation as a VIP Member",
        "The Valley Ledger",
        "Opinion",
        "Share this:",
        "Tweet",
        "Advertisement",
        "Comments (14)",
        "Subscribe to our newsletter",
        "Related: Why the county jail is full again",
        "Photo: A deputy at the booking desk.",
        "By Lucia Herrera",
        "By TOM WALSH, Guest Columnist",
        "Posted March 3, 2013",
        "Updated 4:15 p.m.",
        "date 2012-05-07",
        "Copyright 2015 The Harbor Times. All rights reserved.",
        "On Detainers",
        "A Letter From the County Jail",
    ],
)
def test_page_furniture_and_bare_titles_are_dropped(line):
    assert is_boilerplate_line(line)
    assert units(f"{line}\n\nThe program grew fast.") == ["The program grew fast."]


def test_platform_notice_sentences_are_dropped():
    text = (
        "The program grew fast.\n"
        "This post was published on the now-closed Townsquare Voices platform. Contributors control "
        "their own work and posted freely to our site. If you need to flag this entry as abusive, "
        "send us an email."
    )
    assert units(text) == ["The program grew fast."]


def test_furniture_glued_to_a_paragraph_end_is_dropped():
    text = "Maria Ruiz writes about county budgets. Read More"
    assert units(text) == ["Maria Ruiz writes about county budgets."]


def test_metadata_prefix_is_skipped_and_offsets_stay_exact():
    text = " date 2013-02-14 The board voted four to one. It was close."
    spans = segment_spans(text)
    assert [text[s:e] for s, e in spans] == ["The board voted four to one.", "It was close."]
    assert spans[0][0] == text.index("The board")


@pytest.mark.parametrize(
    "title, kept",
    [
        ("Sheriffs Should Honor Every Detainer", True),
        ("Secure Communities Is Neither Secure Nor Communal", True),
        ("Harbor Times", False),
        ("On Immigration", False),
        ("Why My County Still Honors Detainers", True),
        ("What I Saw at the County Jail on Tuesday", False),
        ("What the Constitution Says About Detainers", False),
    ],
)
def test_headlines_are_units_only_when_they_make_a_claim(title, kept):
    got = units(f"{title}\n\nThe program grew fast.")
    assert (title in got) is kept


def test_author_bio_at_the_end_is_a_unit():
    text = "The program grew fast.\n\nAna Diaz is a policy analyst at the Center for Local Budgets."
    assert units(text)[-1] == "Ana Diaz is a policy analyst at the Center for Local Budgets."


def test_offsets_index_the_decoded_text_exactly():
    text = "Caf\u00e9 owners\u00a0complained. \u201cWe lost customers.\u201d\r\n\r\nThe fee was $2.50 per stop."
    for unit in segment_document("doc", text):
        assert text[unit.start : unit.end] == unit.text
    assert [u.unit_id for u in segment_document("doc", text)] == ["doc:0", "doc:1", "doc:2"]


def test_markdown_heading_markers_are_not_part_of_the_unit():
    text = "# Counties Must Keep Control of Their Jails\n\nThe board agreed."
    assert units(text) == ["Counties Must Keep Control of Their Jails", "The board agreed."]


def test_empty_and_whitespace_text_give_no_units():
    assert segment_spans("") == []
    assert segment_spans("\n\n   \n") == []


@pytest.mark.parametrize(
    "line",
    [
        "Published May 2, 2013 | Updated 9:10 a.m.",
        "« Previous post | Next post »",
        "Share: Facebook · Twitter · Email",
        "EDITORIAL  /  County Government",
        "The Lakeside Courier-Journal",
        "Heartland Fiscal Policy Institute",
        "MAIN STREET NOTEBOOK — Notes from a small-town desk",
        "To the editor:",
        "Fort Collins, Colo.",
        "by Ana \"Nana\" Ortiz",
        "Like this: Like · 5 bloggers like this.",
        "7 Responses to \"Why the Jail Is Full\"",
        "This commentary is part of the institute's series on local budgets.",
        "A blog about courts, counties and the people in between",
        "— Marta Reyes, Glenwood",
        "Opinion › Guest Commentary",
        "By the Rev. Thomas B. Ware",
        "Published 8:15 a.m. ET May 4, 2016",
        "Institute for Rural Policy Studies",
        "A Retired Sheriff Weighs In on Detainers",
        "Submit a letter to the editor",
        "Download the full report (PDF, 2.3 MB)",
        "What My Deputies Learned on Route 9",
        "A Rancher's Two Cents on the Detainer Fight",
        "A line-by-line look at the county's jail contract",
        "Letters may be edited for length and clarity.",
        "Send yours to letters@valleyledger.example.com.",
        "The Cascade Institute for Public Budgets",
    ],
)
def test_more_page_furniture_is_dropped(line):
    assert units(f"{line}\n\nThe program grew fast.") == ["The program grew fast."]


def test_a_quotation_that_opens_a_sentence_keeps_its_attribution():
    text = "“Why me? I was born here!” Ms. Ortiz asked the deputy. He had no answer."
    assert units(text) == ["“Why me? I was born here!” Ms. Ortiz asked the deputy.", "He had no answer."]


def test_an_already_attributed_quotation_ends_its_sentence():
    text = 'The deputy asked him, "Where were you born?" He said, "Here." Then he drove off.'
    assert units(text) == ['The deputy asked him, "Where were you born?"', 'He said, "Here."', "Then he drove off."]


def test_a_short_sentence_after_a_lowercase_word_is_split_but_not_after_an_abbreviation():
    text = "They blamed outside agitators, not the law. Sure. The bill ran approx. Ten pages, said Gov. Lane."
    assert units(text) == ["They blamed outside agitators, not the law.", "Sure.",
                           "The bill ran approx. Ten pages, said Gov. Lane."]


def test_a_capitalised_word_can_end_a_sentence_but_a_state_abbreviation_does_not():
    text = "He was arrested at the Valley Mart. Routine case. She moved to Fresno, Calif. Gov. Ruiz spoke."
    assert units(text) == ["He was arrested at the Valley Mart.", "Routine case.",
                           "She moved to Fresno, Calif. Gov. Ruiz spoke."]


def test_a_descriptive_title_with_a_claim_after_its_colon_is_kept():
    title = "A sheriff's view of the new program: better, not yet good enough"
    assert units(f"{title}\n\nThe program grew fast.")[0] == title


@pytest.mark.parametrize(
    "line",
    [
        "Follow the Editorial Board on Twitter @ourpaper and Facebook",
        "Get our weekly Viewpoints newsletter",
        "Sign up for the morning briefing",
        "No comments:",
        "Log Out /  Change )",
        "Cancel reply",
        "▲ Return to Top",
        "Last Modified: Tuesday, March 3, 2015 at 6:12 p.m.",
        "May 4, 2012 Friday",
        "Re \"County should end jail deal,\" Feb. 2 editorial:",
        "Dana Whitfield, Marble Falls, TX",
        "Cedar Hollow, Aug. 9",
        # comment widgets and reprint notices
        "You are commenting using your WordPress.com account.",
        "Fill in your details below to post as a guest",
        "Notify me of new comments via email.",
        "Reader comments posted to this story may be printed in the weekend edition.",
        "This article may not be reproduced without permission.",
    ],
)
def test_web_page_furniture_lines_are_dropped(line):
    body = "The county should stop renting jail beds to ICE."
    assert units(f"{line}\n{body}\n{line}") == [body]  # above the piece or below it


def test_list_markers_are_not_units():
    text = "1.\nThe holds cost the county money.\n2)\nThe holds cost the county trust."
    assert units(text) == ["The holds cost the county money.", "The holds cost the county trust."]


def test_a_claim_headline_after_a_section_tag_is_a_unit():
    text = ("Letter: The sheriff is right to honor every detainer\nLetter: Detainers\n"
            "OPINION | Criminal Justice and County Budgets\nBody.")
    assert units(text) == ["Letter: The sheriff is right to honor every detainer", "Body."]


@pytest.mark.parametrize(
    "sentence",
    [
        "The ICE briefing to county commissioners left out the jail costs entirely.",
        "Our county newsletter never mentioned the detainer contract.",
        "Follow the money at X County jail and you find the ICE contract.",
        "Public comments have been closed since March, and the council voted anyway.",
        "The story may not be published anywhere else, the sheriff insisted.",
        "Fill in the blanks and the budget still does not add up.",
    ],
)
def test_body_sentences_that_mention_furniture_words_are_kept(sentence):
    text = f"The county should stop renting jail beds to ICE. {sentence}"
    assert units(text) == ["The county should stop renting jail beds to ICE.", sentence]
