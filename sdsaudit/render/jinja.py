"""The one jinja2 environment, and safe Markdown.

Templates live in ``templates/`` (found with :func:`sdsaudit.resources.data_dir`).
Every template is autoescaped for HTML and uses ``StrictUndefined``, so a
missing value is an error, not an empty string. Templates get a prepared
view-model (see :mod:`sdsaudit.render.report`) and hold only loops and ifs.

Text from a model can be hostile. Three filters keep it inert:

* ``markdown`` renders Markdown (rationale, notes) to HTML with raw HTML shown
  as text and links and images reduced to their words (no URL survives);
* ``md`` escapes a plain string for *inline* use in a Markdown file (tables,
  list items): Markdown punctuation is backslash-escaped, ``<``, ``>`` and
  ``&`` become entities, line breaks become spaces, and anything a Markdown
  renderer would turn into a link by itself (``https://...``, ``www....``, an
  e-mail address: GitHub and GitLab do) is shown as code, which never links;
* ``md_block`` writes longer text (a model's description) into a Markdown file
  as plain paragraphs: links reduced to their words, then each paragraph as
  ``md`` writes it, so no link, image, code block or HTML can form.

Figures, plurals and lists are written by :mod:`sdsaudit.words`, registered as the
filters ``number``, ``plural`` (``3|plural("step")`` is ``3 steps``), ``plural_word``
(the word alone) and ``join_and`` (``a, b and c``; safe with links). ``link_to`` makes
an in-page link (``3|link_to("finding-{}", "problem {}")``), so a list of links is
``numbers|map("link_to", "finding-{}")|join_and``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from functools import cache, lru_cache

import jinja2
import markdown as markdown_lib
from markupsafe import Markup, escape

from .. import words
from ..resources import data_dir


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
    return Markup(_markdown_html(str(text)))


@lru_cache(maxsize=512)
def _markdown_html(text: str) -> str:
    # A report renders the same rationale and evidence for every finding of a rule:
    # converting each text once (and reusing one converter) keeps a large report fast.
    converter = _converter()
    html = converter.reset().convert(text)
    # belt and braces: nothing that could run or fetch may survive
    if re.search(
        r"<(script|iframe|object|embed|style|img|a)\b|<[^>]*\s(on\w+|href|src)=", html, re.I
    ):
        html = str(escape(text))
    return html


@cache
def _converter() -> markdown_lib.Markdown:
    return markdown_lib.Markdown(extensions=[SafeMarkdown()], output_format="html")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MD_LEADING = re.compile(r"^([#+\-=]|\d+(?=[.)](?:\s|$)))")


_AUTOLINK = re.compile(
    r"(?:\b(?:[a-z][a-z0-9+.-]*:/{1,3}|www\.|mailto:)(?:[^\s<>`]*[^\s<>`.,;:!?)\]'\"])?"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
    re.I,
)
"""What GitHub's and GitLab's Markdown turn into links with no brackets at all."""


def md_inline(text: object) -> Markup:
    """A plain string made safe for inline Markdown (table cells, list items, headings).

    Emphasis, code, link brackets, table pipes and strikethrough are always
    backslash-escaped (so no link can form: ``[`` and ``]`` never survive);
    list, heading and numbering marks only where they would act, at the start.
    Addresses a renderer would link by themselves are written as code spans.
    """
    flat = re.sub(r"\s+", " ", str(text if text is not None else "")).strip()
    parts, done = [], 0
    for match in _AUTOLINK.finditer(flat):
        parts.append(_escaped(flat[done : match.start()], at_start=done == 0))
        parts.append("`" + match.group(0).replace("|", "\\|") + "`")
        done = match.end()
    parts.append(_escaped(flat[done:], at_start=done == 0))
    return Markup("".join(parts))


def _escaped(text: str, *, at_start: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    match = _MD_LEADING.match(text) if at_start else None
    if match:
        end = match.end()
        text = f"\\{text}" if not match.group(0)[0].isdigit() else f"{text[:end]}\\{text[end:]}"
    return text


_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*\S+.*$", re.M)


def md_block(text: object) -> Markup:
    """Longer text for a Markdown file: paragraphs (split at blank lines), links reduced
    to their words, each paragraph escaped as :func:`md_inline` does."""
    source = _REF_DEF.sub("", _LINK.sub(r"\1", str(text if text is not None else "")))
    paragraphs = (p for p in re.split(r"\n\s*\n", source) if p.strip())
    return Markup("\n\n".join(md_inline(p) for p in paragraphs))


@jinja2.pass_eval_context
def join_and(eval_ctx: jinja2.nodes.EvalContext, items: Iterable[object]) -> str:
    """:func:`sdsaudit.words.join_and` as a filter: ``a, b and c``. With autoescaping on,
    each item is escaped unless it is already markup (a link), and the result is markup."""
    if not eval_ctx.autoescape:
        return words.join_and(str(item) for item in items)
    return Markup(words.join_and(str(escape(item)) for item in items))


def link_to(value: object, anchor: str, text: str = "{}") -> Markup:
    """An in-page link: ``anchor`` and ``text`` with ``{}`` standing for ``value``, both
    escaped (``3|link_to("finding-{}", "problem {}")`` is
    ``<a href="#finding-3">problem 3</a>``)."""
    return Markup('<a href="#{}">{}</a>').format(anchor.format(value), text.format(value))


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
    env.filters["number"] = words.number
    env.filters["plural"] = words.plural
    env.filters["plural_word"] = words.plural_word
    env.filters["join_and"] = join_and
    env.filters["link_to"] = link_to
    return env


def render(template: str, **context: object) -> str:
    """Render ``templates/<template>`` with ``context``."""
    return environment().get_template(template).render(**context)
