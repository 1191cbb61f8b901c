"""Lay out a sacrebleu cache for WMT22 en-zh/zh-en from a local mirror, so tests and demos run offline.

sacrebleu downloads nothing when ``$SACREBLEU/wmt22/raw/wmt22.v1.1.tar.gz`` exists and reads
each pair's XML under ``raw/wmt22-news-systems-1.1/xml/``. The mirror (``../shared/data/wmt22``)
holds the official en-zh XML; zh-en comes as plain text (source, references A and B, one file
per system), which is assembled here into a WMT XML file of one document.

    python -m mteval.testing.sacrebleu_mirror ../shared/data/wmt22 /tmp/sacrebleu
    SACREBLEU=/tmp/sacrebleu make demo
"""
from __future__ import annotations

import argparse
import io
import shutil
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from mteval.data.sacrebleu_cache import read_lines

RELEASE = "wmt22-news-systems-1.1"
TARBALL = "wmt22.v1.1.tar.gz"  # sacrebleu's name for the v1.1 release: "<test set>." + the URL's basename


def _add_segs(parent: ET.Element, lines: list[str]) -> None:
    p = ET.SubElement(parent, "p")
    for i, line in enumerate(lines, 1):
        ET.SubElement(p, "seg", id=str(i)).text = line


def text_to_xml(folder: Path, src_lang: str, tgt_lang: str, out: Path) -> int:
    """Write a WMT XML file (one document) from ``generaltest2022.<pair>.{src,ref.*,hyp.*}`` text files."""
    pair = f"{src_lang}-{tgt_lang}"
    src = read_lines(folder / f"generaltest2022.{pair}.src.{src_lang}")
    dataset = ET.Element("dataset", id="wmttest2022")
    doc = ET.SubElement(ET.SubElement(dataset, "collection", id="general"), "doc",
                        id=f"mirror-{pair}", origlang=src_lang)
    _add_segs(ET.SubElement(doc, "src", lang=src_lang), src)
    for ref in sorted(folder.glob(f"generaltest2022.{pair}.ref.*.{tgt_lang}")):
        translator = ref.name.split(".ref.")[1].rsplit(".", 1)[0]
        _add_segs(ET.SubElement(doc, "ref", lang=tgt_lang, translator=translator), read_lines(ref))
    for hyp in sorted((folder / "system-outputs").glob(f"generaltest2022.{pair}.hyp.*.{tgt_lang}")):
        system = hyp.name.split(".hyp.")[1].rsplit(".", 1)[0]
        _add_segs(ET.SubElement(doc, "hyp", system=system, lang=tgt_lang), read_lines(hyp))
    out.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(dataset).write(out, encoding="utf-8", xml_declaration=True)
    return len(src)


def _placeholder_tarball(path: Path) -> None:
    """A small, valid tarball in place of the release: sacrebleu only checks that the file exists."""
    note = b"Local mirror of the WMT22 release laid out by mteval.testing.sacrebleu_mirror; see raw/.\n"
    info = tarfile.TarInfo("MIRROR.txt")
    info.size = len(note)
    with tarfile.open(path, "w:gz") as tar:
        tar.addfile(info, io.BytesIO(note))


def _xml_dir(root: Path) -> Path:
    xml = root / "wmt22" / "raw" / RELEASE / "xml"
    xml.mkdir(parents=True, exist_ok=True)
    return xml


def lay_out(mirror: Path, root: Path) -> Path:
    """Fill ``root`` (a sacrebleu cache directory) with WMT22 en-zh and zh-en from ``mirror``; returns ``root``."""
    xml = _xml_dir(root)
    shutil.copyfile(mirror / "en-zh" / "wmttest2022.en-zh.all.xml", xml / "wmttest2022.en-zh.all.xml")
    zh_en = mirror / "zh-en" / "wmttest2022.zh-en.all.xml"
    if zh_en.is_file():
        shutil.copyfile(zh_en, xml / zh_en.name)
    else:
        text_to_xml(mirror / "zh-en", "zh", "en", xml / zh_en.name)
    _placeholder_tarball(root / "wmt22" / "raw" / TARBALL)
    return root


def copy_release(xml_files: list[Path], root: Path) -> Path:
    """Fill ``root`` with the given XML files of the real release (from another sacrebleu cache); returns ``root``."""
    xml = _xml_dir(root)
    for path in xml_files:
        shutil.copyfile(path, xml / path.name)
    _placeholder_tarball(root / "wmt22" / "raw" / TARBALL)
    return root


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mteval.testing.sacrebleu_mirror", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mirror", type=Path, help="the local WMT22 mirror (en-zh/ and zh-en/ folders)")
    parser.add_argument("root", type=Path, help="the sacrebleu cache to fill (then export SACREBLEU=<root>)")
    args = parser.parse_args(argv)
    print(lay_out(args.mirror, args.root))


if __name__ == "__main__":
    main()
