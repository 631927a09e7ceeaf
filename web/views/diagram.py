"""The workflow diagram, generated from the definitions that run the engine.

The mermaid text comes from ``transitions``' own GraphMachine (mermaid engine, no graphviz);
the picture is drawn server-side as SVG by ``web.diagram`` from the same transition list, so
the page needs no CDN and no script.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from markupsafe import Markup
from transitions.extensions import GraphMachine

from web.diagram import render_svg
from web.labels import state_label, trigger_label
from workflow.definitions import DEFINITIONS, FINAL_STATES, STATES, Definition

bp = Blueprint("diagram", __name__)


def _edges(definition: Definition) -> list[tuple[str, str, str]]:
    edges = []
    for spec in definition.transitions:
        for source in spec.source:
            edges.append((spec.trigger, source, spec.dest or source))
    return edges


class _DiagramModel:
    """A throwaway model: GraphMachine needs one to draw (it reads models[0])."""


def mermaid_source(definition: Definition) -> str:
    model = _DiagramModel()
    GraphMachine(
        model=model,
        states=list(STATES),
        transitions=[
            {"trigger": trigger, "source": source, "dest": dest}
            for trigger, source, dest in _edges(definition)
        ],
        initial="draft",
        auto_transitions=False,
        graph_engine="mermaid",
        title=f"{definition.kind} v{definition.version}",
    )
    # GraphMachine adds get_graph to the model at run time.
    return str(model.get_graph().draw(None))  # type: ignore[attr-defined]


@bp.get("/workflow")
def page() -> str:
    diagrams = []
    for (kind, version), definition in sorted(
        DEFINITIONS.items(), key=lambda item: (item[0][0] != "pledge", item[0])
    ):
        svg = render_svg(
            list(STATES),
            _edges(definition),
            initial="draft",
            finals=FINAL_STATES,
            labels={s: state_label(s) for s in STATES},
            trigger_labels={t.trigger: trigger_label(t.trigger) for t in definition.transitions},
            title=f"{kind} v{version}",
        )
        diagrams.append(
            {
                "kind": kind,
                "version": version,
                "svg": Markup(svg),  # noqa: S704 - built by web.diagram, every text escaped there
                "mermaid": mermaid_source(definition),
                "transitions": definition.transitions,
            }
        )
    if not diagrams:
        abort(404)
    return render_template("diagram.html", diagrams=diagrams)
