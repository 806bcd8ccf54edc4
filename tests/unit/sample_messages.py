"""Chat-neutral messages for the renderers' tests: a digest with its chart, and Hypothesis
strategies for arbitrary messages.

The arbitrary texts mix the characters each platform's markup reserves with any Unicode;
lists and values run past every platform's limits.
"""

from __future__ import annotations

from hypothesis import strategies as st

from workflows.messages import Action, Bar, BarPanel, Chart, Fact, Message, Progress, Section, Verb

APPROVAL = Message(
    kind="approval",
    title="Eve Adams asks for +$150 a month",
    text="Request #7 · embedded · standard seat",
    facts=(
        Fact(label="What", value="+$150 a month ($85 → $235)"),
        Fact(label="For", value="until Sat 12 Dec"),
        Fact(
            label="Reason",
            value="Release crunch <!channel> & the *firmware* build [here](https://evil.example)",
        ),
        Fact(label="Asked before", value="first request"),
    ),
    progress=Progress(label="Spent this month", used_cents=6290, limit_cents=8500),
    actions=(
        Action(verb=Verb.APPROVE, label="Approve", value="7", style="primary"),
        Action(verb=Verb.DENY, label="Deny", value="7", style="danger"),
    ),
    footer="Approved by Dana Okafor at 14:02",
)
"""An approval card, with a reason that tries a mention, markup and a disguised link."""

BUTTON_TOO_LONG = Message(
    kind="x",
    title="Buttons",
    actions=(
        Action(verb=Verb.CONFIRM_MANUAL, label="Done", value="x" * 3000),
        Action(verb=Verb.RETRY_OPERATION, label="Retry", value="12"),
    ),
)
"""Two buttons, the first with a value too long for any platform to carry whole."""

CHART = Chart(
    title="Spend this month",
    panels=(
        BarPanel(
            title="Spend by group against budget",
            bars=(
                Bar(label="software", value_cents=450000, limit_cents=425000),
                Bar(label="embedded", value_cents=100000, limit_cents=160000),
            ),
        ),
        BarPanel(title="Top spenders against their cap", bars=()),
    ),
)
"""Two groups, one over its budget, and a panel with no bars yet."""

DIGEST = Message(
    kind="digest",
    title="Morning digest",
    text="3 alerts since yesterday",
    sections=(
        Section(text="Near their cap", heading=True),
        Section(
            text="*Alice Wong* is at 92% of $85 <script>",
            action=Action(verb=Verb.RAISE_CAP, label="Raise cap", value="alice@example.com"),
        ),
        Section(
            text="*Bob Stone* is at 97% of $85",
            action=Action(verb=Verb.NUDGE, label="Nudge", value="bob@example.com"),
        ),
        Section(text="Idle seats", heading=True),
        Section(text="*Rita Lenz*: no activity for 30 days"),
    ),
    chart=CHART,
)
"""Headings, items with and without a button, markup to convert or escape, and a chart."""

texts = st.text(
    alphabet=st.one_of(
        st.sampled_from('<>&*_`~[]()!\\"#- \n\r\t'),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=4000,
)
shorts = st.text(max_size=300)
actions = st.builds(
    Action,
    verb=st.sampled_from(Verb),
    label=shorts,
    value=st.text(max_size=2500),
    style=st.sampled_from(["primary", "danger", None]),
)
_bars = st.builds(
    Bar,
    label=shorts,
    value_cents=st.integers(-(10**9), 10**12),
    limit_cents=st.none() | st.integers(0, 10**12),
)
messages = st.builds(
    Message,
    kind=st.just("any"),
    title=texts,
    text=texts,
    facts=st.lists(st.builds(Fact, label=shorts, value=texts), max_size=80).map(tuple),
    progress=st.none()
    | st.builds(
        Progress,
        label=shorts,
        used_cents=st.integers(-(10**12), 10**12),
        limit_cents=st.integers(-(10**6), 10**12),
    ),
    actions=st.lists(actions, max_size=60).map(tuple),
    footer=texts,
    sections=st.lists(
        st.builds(Section, text=texts, action=st.none() | actions, heading=st.booleans()),
        max_size=60,
    ).map(tuple),
    chart=st.none()
    | st.builds(
        Chart,
        title=shorts,
        panels=st.lists(
            st.builds(BarPanel, title=shorts, bars=st.lists(_bars, max_size=30).map(tuple)),
            max_size=3,
        ).map(tuple),
    ),
)
"""Any message: every field filled at random, lists up to and past what a platform holds."""
