"""The one jinja2 environment, and safe Markdown.

Templates live in ``templates/`` (found with :func:`sdsaudit.resources.data_dir`).
Every template is autoescaped for HTML and uses ``StrictUndefined``, so a
missing value is an error, not an empty string. Templates get a prepared
view-model (see :mod:`sdsaudit.report`) and hold only loops and ifs.

Text from a model can be hostile. Three filters keep it inert:

* ``markdown`` renders Markdown (rationale, notes) to HTML with raw HTML shown
  as text and links and images reduced to their words (no URL survives);
* ``md`` escapes a plain string for *inline* use in a Markdown file (tables,
  list items): Markdown punctuation is backslash-escaped, ``<``, ``>`` and
  ``&`` become entities, and line breaks become spaces;
* ``md_block`` passes Markdown source into a Markdown file with raw HTML
  escaped and links reduced to their words.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache

import jinja2
import markdown as markdown_lib
from markupsafe import Markup, escape

from .resources import data_dir


class _NoLinks(markdown_lib.treeprocessors.Treeprocessor):
    """Replace links with their text and images with their alt text."""

    def run(self, root: ET.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "a":
                    span = ET.Element("span")
                    span.text, span.tail = child.text, child.tail
                    span.extend(list(child))
                    parent.remove(child)
                    parent.insert(index, span)
                elif child.tag == "img":
                    span = ET.Element("span")
                    span.text, span.tail = child.get("alt", ""), child.tail
                    parent.remove(child)
                    parent.insert(index, span)


class SafeMarkdown(markdown_lib.extensions.Extension):
    """Markdown without raw HTML, links, images or autolinks."""

    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:  # noqa: N802 - markdown's API
        md.preprocessors.deregister("html_block")
        for name in ("html", "autolink", "automail"):
            md.inlinePatterns.deregister(name)
        # after 'inline' (which builds links), before 'prettify'
        md.treeprocessors.register(_NoLinks(md), "no_links", 15)


def markdown_html(text: str | None) -> Markup:
    """Markdown to HTML, with raw HTML escaped and no links or images."""
    if not text:
        return Markup("")
    converter = markdown_lib.Markdown(extensions=[SafeMarkdown()], output_format="html")
    html = converter.convert(str(text))
    # belt and braces: nothing that could run or fetch may survive
    if re.search(
        r"<(script|iframe|object|embed|style|img|a)\b|<[^>]*\s(on\w+|href|src)=", html, re.I
    ):
        html = str(escape(text))
    return Markup(html)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LEADING = re.compile(r"^([#+\-=]|\d+(?=[.)](?:\s|$)))")


def md_inline(text: object) -> Markup:
    """A plain string made safe for inline Markdown (table cells, list items, headings).

    Emphasis, code, link brackets, table pipes and strikethrough are always
    backslash-escaped (so no link can form: ``[`` and ``]`` never survive);
    list, heading and numbering marks only where they would act, at the start.
    """
    flat = re.sub(r"\s+", " ", str(text if text is not None else "")).strip()
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    flat = _MD_SPECIAL.sub(r"\\\1", flat)
    match = _MD_LEADING.match(flat)
    if match:
        end = match.end()
        flat = f"\\{flat}" if not match.group(0)[0].isdigit() else f"{flat[:end]}\\{flat[end:]}"
    return Markup(flat)


_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$", re.M)


def md_block(text: object) -> Markup:
    """Markdown source for a Markdown file: raw HTML escaped, links reduced to their words."""
    source = str(text if text is not None else "")
    source = source.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    source = _LINK.sub(r"\1", source)
    source = _REF_DEF.sub("", source)
    return Markup(source.strip())


@cache
def environment() -> jinja2.Environment:
    """The one jinja2 environment: HTML autoescaping everywhere, ``StrictUndefined``."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["markdown"] = markdown_html
    env.filters["md"] = md_inline
    env.filters["md_block"] = md_block
    return env


def render(template: str, **context: object) -> str:
    """Render ``templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
