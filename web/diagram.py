"""Server-side SVG of a workflow definition: no CDN, no JavaScript, CSP-clean.

Nodes are laid out in columns by their breadth-first distance from the initial state;
states at the same distance stack in rows. Forward edges between neighbours are straight,
edges that skip columns arc above, edges back to an earlier state arc below, and a
state's self-transitions are listed in one loop above it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

NODE_W = 120
NODE_H = 46
COL_GAP = 84
ROW_GAP = 92
MARGIN_X = 24
TOP = 70  # room for self-loop labels and forward arcs
ARC_STEP = 26


@dataclass(frozen=True)
class Edge:
    source: str
    dest: str
    triggers: tuple[str, ...]


def merge_edges(transitions: Iterable[tuple[str, str, str]]) -> list[Edge]:
    """(trigger, source, dest) triples -> one edge per (source, dest) with every trigger."""
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for trigger, source, dest in transitions:
        if trigger not in grouped[(source, dest)]:
            grouped[(source, dest)].append(trigger)
    return [Edge(s, d, tuple(t)) for (s, d), t in grouped.items()]


def _layout(
    states: Sequence[str], edges: Sequence[Edge], initial: str
) -> dict[str, tuple[int, int]]:
    distance = {initial: 0}
    queue = deque([initial])
    succ: dict[str, list[str]] = defaultdict(list)
    for edge in edges:
        if edge.source != edge.dest:
            succ[edge.source].append(edge.dest)
    while queue:
        node = queue.popleft()
        for nxt in succ[node]:
            if nxt not in distance:
                distance[nxt] = distance[node] + 1
                queue.append(nxt)
    last = max(distance.values(), default=0)
    for state in states:  # unreachable states still get drawn, after the rest
        if state not in distance:
            last += 1
            distance[state] = last
    rows: dict[int, int] = defaultdict(int)
    place: dict[str, tuple[int, int]] = {}
    for state in states:
        col = distance[state]
        place[state] = (col, rows[col])
        rows[col] += 1
    return place


def _text(x: float, y: float, anchor: str, label: str, *, stacked: bool) -> str:
    """An edge label; ``stacked`` puts each trigger on its own line, growing upwards."""
    parts = label.split(" / ") if stacked else [label]
    lines = "".join(
        f'<tspan x="{x:.1f}" y="{y - 13 * (len(parts) - 1 - i):.1f}">{part}</tspan>'
        for i, part in enumerate(parts)
    )
    return f'<text text-anchor="{anchor}">{lines}</text>'


def render_svg(
    states: Sequence[str],
    transitions: Iterable[tuple[str, str, str]],
    *,
    initial: str,
    finals: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    trigger_labels: Mapping[str, str] | None = None,
    title: str = "",
) -> str:
    """The state diagram as a standalone ``<svg>`` element (styled by the site's CSS)."""
    labels = labels or {}
    trigger_labels = trigger_labels or {}
    finals = set(finals)
    edges = merge_edges(transitions)
    place = _layout(states, edges, initial)
    cols = max(c for c, _ in place.values()) + 1
    rows = max(r for _, r in place.values()) + 1
    back_edges = [e for e in edges if place[e.dest][0] < place[e.source][0]]
    # Back edges arc below the main line; other rows start below the lowest arc.
    row_gap = max(ROW_GAP, 70 + ARC_STEP * len(back_edges))
    width = MARGIN_X * 2 + cols * NODE_W + (cols - 1) * COL_GAP
    height = TOP + rows * NODE_H + (rows - 1) * row_gap + 30

    def name(edge: Edge) -> str:
        return escape(" / ".join(trigger_labels.get(t, t) for t in edge.triggers))

    def box(state: str) -> tuple[float, float]:
        col, row = place[state]
        return MARGIN_X + col * (NODE_W + COL_GAP), TOP + row * (NODE_H + row_gap)

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z"/></marker></defs>',
    ]
    # Longest back edges get the deepest arcs, so arcs nest instead of crossing.
    back_rank = {
        (e.source, e.dest): i
        for i, e in enumerate(
            sorted(back_edges, key=lambda e: place[e.source][0] - place[e.dest][0])
        )
    }
    above = 0
    labelled: set[tuple[str, str]] = set()
    for edge in edges:
        label = name(edge)
        if drow_differs := place[edge.source][1] != place[edge.dest][1]:
            # Several states lead to the same off-line state by one trigger (cancel): say it once.
            if (edge.dest, label) in labelled:
                label = ""
            labelled.add((edge.dest, label))
        sx, sy = box(edge.source)
        dx, dy = box(edge.dest)
        (scol, srow), (dcol, drow) = place[edge.source], place[edge.dest]
        data = f'data-source="{escape(edge.source)}" data-dest="{escape(edge.dest)}"'
        anchor = "middle"
        stacked = False
        if edge.source == edge.dest:
            cx = sx + NODE_W / 2
            path = f"M{cx - 22} {sy} C{cx - 30} {sy - 42} {cx + 30} {sy - 42} {cx + 22} {sy}"
            lx, ly = cx, sy - 38
        elif srow == drow and dcol == scol + 1:
            path = f"M{sx + NODE_W} {sy + NODE_H / 2} L{dx} {dy + NODE_H / 2}"
            lx, ly = (sx + NODE_W + dx) / 2, sy + NODE_H / 2 - 7
            stacked = True  # the gap between neighbours is narrow: one trigger per line
        elif (edge.source, edge.dest) in back_rank:
            k = back_rank[(edge.source, edge.dest)] + 1
            drop = 18 + k * ARC_STEP
            base = max(sy, dy) + NODE_H
            x1 = sx + NODE_W * 0.3
            x2 = dx + NODE_W * (0.95 - 0.12 * k)
            path = f"M{x1} {sy + NODE_H} C{x1} {base + drop} {x2} {base + drop} {x2} {dy + NODE_H}"
            lx, ly = (x1 + x2) / 2, base + drop * 0.75 + 4
        elif drow_differs:
            # Down to another row: leave from the bottom, enter from the top; label near the end.
            x1, y1 = sx + NODE_W / 2, sy + NODE_H
            x2, y2 = dx + NODE_W / 2, dy
            path = f"M{x1} {y1} C{x1} {y1 + 40} {x2} {y2 - 40} {x2} {y2}"
            lx, ly = x1 + (x2 - x1) * 0.85 + 6, y2 - 12
            anchor = "start"
        else:
            above += 1
            lift = 18 + above * ARC_STEP
            x1, x2 = sx + NODE_W * 0.7, dx + NODE_W * 0.3
            path = f"M{x1} {sy} C{x1} {sy - lift} {x2} {sy - lift} {x2} {dy}"
            lx, ly = (x1 + x2) / 2, sy - lift * 0.75 - 3
        out.append(
            f'<g class="edge" {data}><path d="{path}" marker-end="url(#arrow)"/>'
            f"{_text(lx, ly, anchor, label, stacked=stacked)}</g>"
        )
    for state in states:
        x, y = box(state)
        kind = "initial" if state == initial else "final" if state in finals else ""
        text = escape(labels.get(state, state))
        out.append(
            f'<g class="node {kind}" data-state="{escape(state)}">'
            f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6"/>'
            f'<text x="{x + NODE_W / 2}" y="{y + 20}" text-anchor="middle">{text}</text>'
            f'<text class="state-id" x="{x + NODE_W / 2}" y="{y + 36}" '
            f'text-anchor="middle">{escape(state)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
