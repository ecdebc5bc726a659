"""Text as a terminal shows it: every name poolcli prints goes through :func:`printable`.

Kept free of every other module, so the command line can use it before it has work to do.
"""

from __future__ import annotations

import unicodedata

__all__ = ["printable"]

# Characters a terminal acts on or hides: controls (newline, escape, C1), format characters
# (right-to-left overrides), the surrogates standing for undecodable bytes, line separators.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    r"""``text`` with every character a terminal would act on or hide spelled out as Python
    does (``\n``, ``\x1b``, ``\u202e``): a name is one line and shows as it is. A byte of
    a file name that is not UTF-8 shows as ``\xNN``. Everything else is left as it is.

    >>> printable("photo.png"), printable("tab\there"), printable("\u202egnp.exe")
    ('photo.png', 'tab\\there', '\\u202egnp.exe')
    >>> printable(b"caf\xe9.png".decode("utf-8", "surrogateescape"))
    'caf\\xe9.png'
    """
    if text.isprintable():
        return text
    return "".join(_spelled(char) for char in text)


def _spelled(char: str) -> str:
    if unicodedata.category(char) not in _HIDDEN:
        return char
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # os.fsdecode's stand-in for the byte code - 0xDC00
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
