"""The changed-paragraph diff: difflib + our cleanup against diff-match-patch.

Makes edited versions of real paragraphs (the seed articles' 123 paragraphs,
Chinese, diffed character by character; the README's English paragraphs,
diffed word by word): a typo fixed, a number corrected, a sentence inserted, one removed,
four scattered word changes, half the sentences rewritten, the punctuation
changed throughout. Diffs each pair with

- ``ours``: crawler.diff.compare.inline_diff (difflib's SequenceMatcher, then
  the semantic-cleanup rule in our own code);
- ``dmp``: diff-match-patch's diff_main (no time limit, so the result does not
  depend on the machine's speed) and diff_cleanupSemantic, words mapped to
  characters the way its line mode does;
- ``dmp+ours``: diff-match-patch's diff_main, then our cleanup;

and prints, per engine and edit kind, the time, the characters marked, the
change runs a reader sees, and the chance equalities (an unchanged run of
one or two characters between two changes: noise to a reader). A pair whose
segments do not rebuild both sides is counted as wrong.

    .venv/bin/python bench/diff_inline.py [--repeat 5]

Needs ``pip install diff-match-patch`` (not a dependency of the crawler).
Printed, never asserted in a timed test.
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from diff_match_patch import diff_match_patch  # noqa: E402

from crawler.core.digest import article_parts  # noqa: E402
from crawler.diff import compare  # noqa: E402
from crawler.diff.compare import DELETE, EQUAL, INSERT  # noqa: E402

DMP = diff_match_patch()
DMP.Diff_Timeout = 0  # deterministic: the whole diff, however long it takes
DMP_TAG = {0: EQUAL, -1: DELETE, 1: INSERT}


def dmp_diff(old: str, new: str, mode: str, cleanup: str = "dmp") -> tuple[tuple[str, str], ...]:
    """diff-match-patch's diff, then its semantic cleanup (``cleanup="ours"``: our own)."""
    if mode == "char":
        diffs = DMP.diff_main(old, new, False)
    else:
        table: dict[str, str] = {}
        tokens: list[str] = []

        def encode(text):
            out = []
            for token in compare._WORD_TOKEN_RE.findall(text):
                if token not in table:
                    table[token] = chr(0xF0000 + len(tokens))
                    tokens.append(token)
                out.append(table[token])
            return "".join(out)

        diffs = DMP.diff_main(encode(old), encode(new), False)
        diffs = [(op, "".join(tokens[ord(c) - 0xF0000] for c in text)) for op, text in diffs]
    if cleanup == "ours":
        return tuple(compare._cleanup([(DMP_TAG[op], text) for op, text in diffs]))
    DMP.diff_cleanupSemantic(diffs)
    return tuple((DMP_TAG[op], text) for op, text in diffs if text)


ENGINES = {
    "ours": compare.inline_diff,
    "dmp": dmp_diff,
    "dmp+ours": lambda old, new, mode: dmp_diff(old, new, mode, cleanup="ours"),
}


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[。！？!?.;；])\s*", text) if s]


def edits(paragraph: str, other: str, rng: random.Random, cjk: bool) -> dict[str, str]:
    """The edited versions of ``paragraph`` (``other``: a paragraph to borrow from)."""
    words = list(re.finditer(r"[\u4e00-\u9fff]{2}" if cjk else r"[A-Za-z]{3,}", paragraph))
    sent, borrowed = sentences(paragraph), sentences(other)
    out = {}
    i = rng.randrange(len(paragraph))
    out["typo"] = paragraph[:i] + ("的" if cjk else "x") + paragraph[i + 1:]
    out["number"] = re.sub(r"\d+", lambda m: str(int(m.group()) + 7), paragraph, count=1) \
        if re.search(r"\d", paragraph) else paragraph + ("2" if cjk else " 2")
    k = rng.randrange(len(sent) + 1)
    out["insert sentence"] = ("" if cjk else " ").join(sent[:k] + [rng.choice(borrowed)] + sent[k:])
    if len(sent) > 1:
        k = rng.randrange(len(sent))
        out["delete sentence"] = ("" if cjk else " ").join(sent[:k] + sent[k + 1:])
    if len(words) >= 4:
        text = paragraph
        for m in sorted(rng.sample(words, 4), key=lambda m: -m.start()):
            text = text[:m.start()] + ("改动" if cjk else "changed") + text[m.end():]
        out["4 words"] = text
    if len(sent) > 1:
        rewritten = [rng.choice(borrowed) if n % 2 else s for n, s in enumerate(sent)]
        out["rewrite half"] = ("" if cjk else " ").join(rewritten)
    out["punctuation"] = paragraph.replace("，", ",").replace("、", ",") if cjk \
        else paragraph.replace(", ", "; ").replace(".", "!")
    return {kind: text for kind, text in out.items() if text != paragraph}


def pairs(rng: random.Random):
    """(kind, mode, old, new) from the seeds and the README; the mode is the
    one the crawler chooses (a seed's paragraph of CSS is diffed by word)."""
    for cjk, paragraphs in ((True, seed_paragraphs()), (False, readme_paragraphs())):
        for n, paragraph in enumerate(paragraphs):
            other = paragraphs[(n + len(paragraphs) // 2) % len(paragraphs)]
            for kind, new in edits(paragraph, other, rng, cjk).items():
                yield kind, compare.diff_mode(paragraph, new), paragraph, new


def seed_paragraphs() -> list[str]:
    out = []
    for seed in sorted((ROOT / "seeds").glob("*.txt")):
        out += [p for p in article_parts(seed.read_text(encoding="utf-8"))[1]
                if len(p) >= 40 and not p.startswith("![")]
    return out


def readme_paragraphs() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)
            if len(p) >= 200 and p[0].isalpha() and "|" not in p and "`" not in p[:40]]


def quality(segments, old: str, new: str) -> tuple[int, int, int, int]:
    """(wrong, characters marked, change runs, chance equalities)."""
    a = "".join(t for tag, t in segments if tag != INSERT)
    b = "".join(t for tag, t in segments if tag != DELETE)
    marked = sum(len(t) for tag, t in segments if tag != EQUAL)
    runs, chance, previous_edit = 0, 0, False
    for n, (tag, text) in enumerate(segments):
        if tag == EQUAL:
            after_edit = n + 1 < len(segments)
            chance += previous_edit and after_edit and len(text.strip()) <= 2
            previous_edit = False
        else:
            runs += not previous_edit
            previous_edit = True
    return int((a, b) != (old, new)), marked, runs, chance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    work = list(pairs(random.Random(22)))
    print(f"{platform.node()} {platform.machine()} Python {platform.python_version()}; "
          f"{len(work)} pairs ({sum(m == 'char' for _, m, _, _ in work)} char mode), "
          f"{sum(len(o) for _, _, o, _ in work):,} old characters")
    rows, times = {}, {}
    for engine, diff in ENGINES.items():
        for kind, mode, old, new in work:
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                segments = diff(old, new, mode)
                best = min(best, time.perf_counter() - start)
            times.setdefault((engine, mode), []).append(best)
            row = rows.setdefault((engine, mode, kind), [0.0, 0, 0, 0, 0, 0])
            row[0] += best
            row[1] += 1
            for k, v in enumerate(quality(segments, old, new)):
                row[2 + k] += v
    print(f"{'engine':8} {'mode':5} {'edit':16} {'pairs':>5} {'ms':>8} {'wrong':>5} "
          f"{'marked':>7} {'runs':>5} {'chance':>6}")
    totals = {}
    for (engine, mode, kind), (secs, count, wrong, marked, runs, chance) in sorted(
            rows.items(), key=lambda r: (r[0][1], r[0][2], r[0][0])):
        print(f"{engine:8} {mode:5} {kind:16} {count:5} {secs * 1000:8.1f} {wrong:5} "
              f"{marked:7} {runs:5} {chance:6}")
        total = totals.setdefault((engine, mode), [0.0, 0, 0, 0, 0])
        for k, v in enumerate((secs, wrong, marked, runs, chance)):
            total[k] += v
    for (engine, mode), (secs, wrong, marked, runs, chance) in sorted(totals.items()):
        print(f"{engine:8} {mode:5} {'ALL':16} {'':5} {secs * 1000:8.1f} {wrong:5} "
              f"{marked:7} {runs:5} {chance:6}")
    for (engine, mode), spent in sorted(times.items()):
        print(f"{engine:8} {mode:5} per pair: median {statistics.median(spent) * 1e6:.0f} µs, "
              f"slowest {max(spent) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
