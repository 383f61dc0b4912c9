"""diagrams.net (draw.io) drawings, both ways: a drawing read into a draft model, and a
model written as a drawing laid out to be edited.

Reading (:func:`read`) takes a ``.drawio`` or ``.xml`` file: an ``<mxfile>`` with one or
more pages (``<diagram>``), each a plain ``<mxGraphModel>`` or compressed text (base64 of
raw-deflated, URL-encoded XML), or a bare ``<mxGraphModel>``. Every piece of XML goes
through defusedxml with document types refused (so no entity is expanded and nothing is
fetched), and a compressed page is inflated only up to :data:`MAX_INFLATED` bytes.

What becomes what:

* swimlanes become teams (``actors``): a lane's kind comes from its data property
  ``kind``, or is guessed from its name (``council`` when nothing in it says otherwise);
  a lane that holds other lanes (a pool) is no team;
* shapes become steps: the label (HTML stripped) is the name; the id is the data property
  ``sdsaudit_id`` or the name made into an id; the kind is the data property ``kind`` or
  is guessed from the shape and the words (a diamond is a decision, "panel" or "sign off"
  an approval ...); every other key of a step can be a data property too (``days``,
  ``person``, ``forms``, ``asks``, ``tells`` ...); a time in the label ("(10 days)") is
  the step's days when no property gives them, otherwise ``days: unknown``;
* connectors become transitions: the label is ``when``, a percentage in it ("Yes 85%")
  the share; a dashed connector, or one whose label says "sent back" or "rework", is
  rework; data properties ``when``, ``share`` and ``rework`` win over the label;
* a parallel gateway (a diamond with a "+", or the BPMN parallel gateway shape) is a
  format-1.1 parallel step; its join is the data property ``join``, or where its branches
  meet again (through a joining parallel gateway, which is no step);
* a "Start" shape (or a circle nothing leads into) marks where cases begin; without one,
  the steps nothing leads into are the start (several: one group of people each);
* the page's own data (Edit Data with nothing selected) gives the council, title, date,
  sign-off levels and the other top-level keys.

Writing (:func:`write`) puts every team in a swimlane and every step where the process map
puts it (the map's layout, by ``dot``), with each step's kind and other keys as data
properties, so that reading the file back gives the same model.
"""

from __future__ import annotations

from .drawio_read import read
from .drawio_words import (
    ACTOR_WORDS,
    END_WORDS,
    STEP_WORDS,
    guess_actor_kind,
    guess_outcome,
    guess_step_kind,
)
from .drawio_write import write

__all__ = [
    "ACTOR_WORDS",
    "END_WORDS",
    "STEP_WORDS",
    "guess_actor_kind",
    "guess_outcome",
    "guess_step_kind",
    "read",
    "write",
]
