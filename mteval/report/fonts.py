"""Fonts for Chinese text: the CSS font stack, and a CJK font for matplotlib when a plot holds Chinese."""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

log = logging.getLogger(__name__)

# Simplified Chinese faces the common systems ship, best first: Noto/Source Han (Linux, Android;
# Debian fonts-noto-cjk), PingFang and Hiragino (macOS), Microsoft YaHei (Windows), WenQuanYi and
# Droid Sans Fallback (older Linux). The same list drives the page's CSS and matplotlib.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "PingFang SC",
                "Hiragino Sans GB", "Microsoft YaHei", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                "Droid Sans Fallback", "Noto Sans CJK JP", "Source Han Sans", "SimHei")
LATIN_FAMILIES = ("system-ui", "-apple-system", "Segoe UI", "Roboto", "Noto Sans", "DejaVu Sans", "Helvetica",
                  "Arial")
INSTALL_HINT = "install a CJK font (Debian/Ubuntu: apt-get install fonts-noto-cjk)"

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef\U00020000-\U0002fa1f]")
# Font files named like these hold CJK glyphs; matplotlib's font cache may predate their install.
_FILE_HINTS = ("cjk", "wqy", "wenquanyi", "sourcehan", "droidsansfallback", "uming", "ukai", "simhei", "msyh",
               "yahei", "pingfang", "hiragino", "notosanssc", "notoserifsc")


def css_stack(*, cjk_first: bool) -> str:
    """A CSS ``font-family`` value; ``cjk_first`` for text marked Chinese, so its punctuation and
    digits come from the Chinese face too."""
    families = (*CJK_FAMILIES, *LATIN_FAMILIES) if cjk_first else (*LATIN_FAMILIES, *CJK_FAMILIES)
    quoted = [f if f in ("system-ui", "-apple-system") else f'"{f}"' for f in families]
    return ",".join([*quoted, "sans-serif"])


def html_lang(lang: str) -> str:
    """A BCP 47 tag for a language code of a direction: Chinese targets are Simplified (``zh-Hans``),
    so browsers pick the SC face of a CJK font, not its Japanese one."""
    return "zh-Hans" if lang == "zh" else lang


def has_cjk(texts: Iterable[str]) -> bool:
    return any(_HAN.search(t) for t in texts)


@lru_cache(maxsize=1)
def cjk_family() -> str | None:
    """The installed CJK font family matplotlib can use, or None; registers font files matplotlib's
    cache does not know yet (a font installed after matplotlib first ran)."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in CJK_FAMILIES if n in names), None)

    found = known()
    if found:
        return found
    for path in font_manager.findSystemFonts():
        key = re.sub(r"[-_ ]", "", os.path.basename(path).lower())
        if any(h in key for h in _FILE_HINTS):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return known()


@contextmanager
def fonts_for(texts: Iterable[str]) -> Iterator[None]:
    """Draw with a CJK font after the default one when ``texts`` hold Chinese (matplotlib falls back
    per glyph), so names in Chinese are not drawn as boxes; warns once when no CJK font is installed."""
    import matplotlib

    if not has_cjk(texts):
        yield
        return
    family = cjk_family()
    if family is None:
        _warn_no_font()
        yield
        return
    from matplotlib import font_manager

    # Fallback runs over a list of named families, not over the generic "sans-serif" list: name the
    # face matplotlib uses now (DejaVu Sans by default), then the CJK one.
    latin = font_manager.FontProperties(fname=font_manager.findfont(font_manager.FontProperties())).get_name()
    with matplotlib.rc_context({"font.family": [latin, family]}):
        yield


@lru_cache(maxsize=1)
def _warn_no_font() -> None:
    log.warning("a plot holds Chinese text but matplotlib finds no CJK font, so it is drawn as boxes: %s",
                INSTALL_HINT)
