"""Make the Chinese lab data in src/groundup/data/bundled/zh/ from ../shared/data/zh.

    python scripts/make_bundled_zh.py [SHARED_ZH_FOLDER]

Writes cmrc2017.txt.xz, tang.txt.xz, ud_gsdsimp_test_words.txt, ca8_morphological.txt.xz,
ca8_semantic.txt.xz and COS960_all.txt, and prints each file's sha256 (of the uncompressed
text), which bundled/zh/README.md records. The transformations are the functions below; the
sources, licenses and attribution are in that README.
"""
from __future__ import annotations

import glob
import hashlib
import json
import lzma
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src" / "groundup" / "data" / "bundled" / "zh"


def cmrc2017(src: Path) -> str:
    """The document lines of the two CMRC 2017 validation files (cloze, then user), without the
    ``N ||| `` prefix, the query lines and the lines holding the cloze blank ``XXXXX``; each
    line once, at its first appearance (the stories repeat in overlapping windows); the source's
    machine segmentation (single spaces) is kept."""
    seen, out = set(), []
    for name in ("cloze.valid.doc_query", "user.valid.doc_query"):
        for line in (src / "corpus" / "cmrc2017" / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("<qid_"):
                continue
            text = " ".join(line.partition(" ||| ")[2].split())
            if text and "XXXXX" not in text and text not in seen:
                seen.add(text)
                out.append(text)
    return "\n".join(out) + "\n"


REGULATED = re.compile(r"^(?:[\u4e00-\u9fff]{5}，[\u4e00-\u9fff]{5}。|[\u4e00-\u9fff]{7}，[\u4e00-\u9fff]{7}。)$")


def tang(src: Path, every: int = 3) -> str:
    """Quatrains and regulated verse of 全唐诗 (Simplified): poems of 2 or 4 couplets, every
    couplet ``5+5`` or every couplet ``7+7`` Han characters punctuated ``，…。``; each text once
    (first appearance, files in numeric order), then every ``every``-th poem; one poem a line."""
    files = sorted(glob.glob(str(src / "corpus" / "chinese-poetry" / "poet.tang.*.simplified.json")),
                   key=lambda f: int(f.split(".")[-3]))
    seen, poems = set(), []
    for f in files:
        for e in json.loads(Path(f).read_text(encoding="utf-8")):
            ps = e["paragraphs"]
            if len(ps) in (2, 4) and all(REGULATED.match(p) for p in ps) and len({len(p) for p in ps}) == 1:
                t = "".join(ps)
                if t not in seen:
                    seen.add(t)
                    poems.append(t)
    return "\n".join(poems[::every]) + "\n"


def ud_words(src: Path) -> str:
    """UD_Chinese-GSDSimp test: the gold words (FORM column) of every sentence, one sentence a
    line, separated by single spaces (no FORM holds a space; there are no multiword tokens)."""
    sents, cur = [], []
    for line in (src / "ud-gsdsimp" / "zh_gsdsimp-ud-test.conllu").read_text(encoding="utf-8").splitlines():
        if not line:
            if cur:
                sents.append(" ".join(cur))
            cur = []
        elif not line.startswith("#"):
            cols = line.split("\t")
            if "-" not in cols[0] and "." not in cols[0]:
                cur.append(cols[1])
    if cur:
        sents.append(" ".join(cur))
    return "\n".join(sents) + "\n"


def main() -> None:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data" / "zh"
    files = {
        "cmrc2017.txt.xz": cmrc2017(src).encode("utf-8"),
        "tang.txt.xz": tang(src).encode("utf-8"),
        "ud_gsdsimp_test_words.txt": ud_words(src).encode("utf-8"),
        "ca8_morphological.txt.xz": (src / "word-eval" / "CA8" / "morphological.txt").read_bytes(),
        "ca8_semantic.txt.xz": (src / "word-eval" / "CA8" / "semantic.txt").read_bytes(),
        "COS960_all.txt": (src / "word-eval" / "COS960" / "COS960_all.txt").read_bytes(),
    }
    for name, data in files.items():
        payload = lzma.compress(data, preset=9 | lzma.PRESET_EXTREME) if name.endswith(".xz") else data
        (OUT / name).write_bytes(payload)
        lines = data.count(b"\n")
        print(f"{name}: {len(payload):,} bytes, text sha256 {hashlib.sha256(data).hexdigest()}, {lines:,} lines")


if __name__ == "__main__":
    main()
