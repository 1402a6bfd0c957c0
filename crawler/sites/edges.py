"""What precedes and follows an article in trafilatura's text, on any page.

trafilatura stops at the article's container, but the container often holds
the site's own lines at its edges: "Comments", "You may also like:",
newsletter and follow-us pitches, "Like this story? Share it", a reporter's
address, credits ("Reporting by …; editing by …"), copyright lines; above the
article, "Print Article", reading times and date lines. A careful reader
leaves them out. Only the edges are trimmed, line by line from the outside
in, and only lines that say one of these things (a trailing list of tour dates
or qualified teams is article; a label is dropped only when it is one of the
known ones): the first line of article text stops the trimming, so nothing
inside the article is touched.

One kind of line goes wherever it stands: a link to another article, labelled
as one ("Read more: …", "Related: …", "延伸阅读：…"). It is the site's, not the
article's, and many sites pick it anew on every load, which a refresh would
record as an edit.
"""

from __future__ import annotations

import re

#: Lines after an article that are the site talking, not the article.
TAIL = re.compile(
    r"\b(?:subscrib\w*|newsletters?|sign up|delivered (?:to|through) your (?:inbox|letterbox)|"
    r"follow (?:us|him|her|them|@|\w+ on (?:twitter|facebook|instagram))|like this (?:story|article)|share (?:it|this)|"
    r"reach the reporters?|may be reached at|have a tip\?|email \w+(?: \w+)? at|"
    r"contributed (?:to )?(?:this )?report\w*|"
    r"additional reporting|reporting by|editing by|all rights reserved|copyright|this copy is for your personal|"
    r"if you enjoyed this article|tell us what you think|you may also like|letters to the editor|"
    r"(?:listen|download|itunes):\s*https?://)",
    re.I)
#: Lines before an article: page tools, reading times, date and byline lines.
HEAD = re.compile(
    r"^(?:[-–•|]\s*)?(?:print(?: article)?|order reprints?|share(?: this)?|reading time\b.*|tempo de leitura\b.*|"
    r"(?:published|updated|posted)\b.{0,60}|.{0,40}\b\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?\b.{0,40}|"
    r".{0,30}\b(?:19|20)\d{2}\b.{0,30})$",
    re.I)
SENTENCE = re.compile(r"[.!?…]['\"”’)]*$")
#: A label (a tag, a list title) is shorter than this and ends no sentence.
LABEL_CHARS = 60
#: The labels of what follows an article: its comment count, its tags, a related list.
LABEL = re.compile(r"^(?:\d*\s*comments?|tags|related(?: articles| stories| news)?|more on this story|"
                   r"you may also like|share(?: this)?(?: article| story)?|advertisement)\W*$", re.I)


#: A labelled link to another article: the label, a colon, a headline.
CROSS_LINK = re.compile(r"^(?:read more|read also|also read|more reading|see also|"
                        r"related(?: reading| coverage| content| stories| articles)?|"
                        r"相关阅读|延伸阅读|推荐阅读|相关新闻|相关报道|阅读更多)\s*[:：]\s*\S.{0,200}$", re.I)


def without_cross_links(lines: list[str]) -> list[str]:
    """``lines`` without labelled links to other articles (never all of them)."""
    kept = [line for line in lines if not CROSS_LINK.match(line.strip())]
    return kept or lines


def _tail_line(line: str) -> bool:
    text = line.strip()
    return bool(LABEL.match(text)) or (len(text) <= 300 and bool(TAIL.search(text)))


def _head_line(line: str) -> bool:
    text = line.strip()
    return len(text) < LABEL_CHARS * 2 and not SENTENCE.search(text) and bool(HEAD.match(text))


def trim(lines: list[str]) -> list[str]:
    """``lines`` without the site's lines at either edge (never all of them)."""
    start, end = 0, len(lines)
    while end - start > 1 and _tail_line(lines[end - 1]):
        end -= 1
    while end - start > 1 and _head_line(lines[start]):
        start += 1
    return lines[start:end]
