"""The risk-committee page: one self-contained HTML file (figures embedded as PNG data URIs).

Every number on the page is formatted from ``forecast.json``'s dict by :func:`pct`, so the
page and the JSON cannot disagree (tested).
"""

from __future__ import annotations

import base64
import html
import io
from datetime import date

import matplotlib.pyplot as plt

from model.store import Fit
from outlook import figures

#: Plain names of the drivers for the committee's page.
DRIVER_NAMES = {d: label for d, (label, _) in figures.DRIVER_LABELS.items()}


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def triple(d: dict) -> str:
    return f"{pct(d['mean'])} <small>({pct(d['q05'])} – {pct(d['q95'])})</small>"


def embed(fig: plt.Figure, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def headline_table(forecast: dict) -> str:
    rows = [("baseline", "unconditional forecast", forecast["baseline"])]
    rows += [(n, s["description"], s) for n, s in forecast["scenarios"].items()]
    body = "".join(
        f"<tr><td><b>{html.escape(n)}</b><br><small>{html.escape(d)}</small></td>"
        f"<td class=num>{triple(r['p_liquidity_event'])}</td>"
        f"<td class=num>{triple(r['p_qe_restart'])}</td>"
        f"<td class=num>{triple(r['p_stress_path'][-1])}</td></tr>"
        for n, d, r in rows
    )
    h = forecast["horizon_weeks"]
    return (
        f"<table><tr><th>scenario</th><th>P(liquidity event within {h} weeks)</th>"
        f"<th>P(QE restart within {h} weeks)</th><th>P(stress) in week {h}</th></tr>"
        f"{body}</table>"
    )


def weeks_between(earlier: str, later: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days // 7


def answer_box(forecast: dict) -> str:
    """The first screen: how likely, against what base rate, how far to trust it, how fresh."""
    h = forecast["horizon_weeks"]
    base = forecast.get("base_rate", {})
    rows = []
    for key, label in (
        ("p_liquidity_event", f"Liquidity event starting within {h} weeks"),
        ("p_qe_restart", f"Fed QE restart within {h} weeks ({forecast['qe_definition']})"),
    ):
        d = forecast["baseline"][key]
        rate = f"{pct(base[key])}" if key in base else "not computed"
        rows.append(
            f"<tr><th scope=row>{html.escape(label)}</th><td><span class=big>{pct(d['mean'])}"
            f"</span><br><small>90%: {pct(d['q05'])} – {pct(d['q95'])}</small></td>"
            f"<td class=num>{rate}</td></tr>"
        )
    c = forecast.get("convergence", {})
    gate = (
        f"<b class=ok>passed</b> the convergence gate: largest R-hat {c['max_rhat']:.3f}, "
        f"smallest bulk / tail ESS {c['min_ess_bulk']:.0f} / {c['min_ess_tail']:.0f}, "
        f"{c['divergences']} divergent transitions"
        if c.get("passed")
        else "<b class=bad>FAILED</b> the convergence gate: not for decisions"
    )
    cutoff = forecast["data_cutoff"]
    fresh = []
    for driver, last in forecast.get("drivers_last_observed", {}).items():
        name = html.escape(DRIVER_NAMES.get(driver, driver))
        if last is None:
            fresh.append(f"<li>{name}: never observed in the fit's window (estimated)</li>")
        elif last == forecast["last_data_week"]:
            fresh.append(f"<li>{name}: observed {last}</li>")
        else:
            age = weeks_between(last, forecast["last_data_week"])
            fresh.append(
                f"<li>{name}: last observed {last}, {age} weeks before the last data week: "
                "<b>estimated</b> since then</li>"
            )
    return (
        "<section class=answer><table class=headline><tr><th></th><th>probability</th>"
        "<th>base rate<br><small>(past windows)</small></th></tr>" + "".join(rows) + "</table>"
        f"<p>Fit {gate}. The model has shown <b>no skill over the base rate</b> out of sample "
        "(README, Limitations); read the probability beside the base rate.</p>"
        f"<p>Data as known on <b>{cutoff}</b>, last data week {forecast['last_data_week']}:</p>"
        f"<ul class=fresh>{''.join(fresh)}</ul></section>"
    )


def attribution_table(forecast: dict) -> str:
    body = "".join(
        f"<tr><td>{html.escape(d)}</td><td class=num>{a['current_value']['mean']:.3g}"
        f"{'' if a['current_observed'] else ' (est.)'}</td>"
        f"<td class=num>{a['historical_mean']:.3g}</td>"
        f"<td class=num>{a['log_odds']['mean']:+.2f} ({a['log_odds']['q05']:+.2f} – "
        f"{a['log_odds']['q95']:+.2f})</td></tr>"
        for d, a in forecast["attribution"].items()
    )
    return (
        "<table><tr><th>driver</th><th>this week (own unit)</th><th>historical mean</th>"
        "<th>contribution to stress-entry log-odds (90%)</th></tr>" + body + "</table>"
    )


def change_table(forecast: dict) -> str:
    prev = forecast.get("previous")
    if not prev and forecast.get("previous_unavailable"):
        return (
            "<p>The previous passing fit cannot be compared with this one: "
            f"{html.escape(forecast['previous_unavailable'])}</p>"
        )
    if not prev:
        return "<p>No earlier passing fit in this fits directory: nothing to compare.</p>"
    cur = forecast
    rows = [
        ("P(liquidity event)", prev["p_liquidity_event"], cur["baseline"]["p_liquidity_event"]),
        ("P(QE restart)", prev["p_qe_restart"], cur["baseline"]["p_qe_restart"]),
        ("P(stress) now", prev["p_stress_now"], cur["p_stress_now"]),
    ]
    body = "".join(
        f"<tr><td>{n}</td><td class=num>{triple(a)}</td><td class=num>{triple(b)}"
        f"</td><td class=num>{100 * (b['mean'] - a['mean']):+.1f} pp</td></tr>"
        for n, a, b in rows
    )
    body += "".join(
        f"<tr><td>contribution: {html.escape(d)}</td><td class=num>{a['mean']:+.2f}</td>"
        f"<td class=num>{cur['attribution'][d]['log_odds']['mean']:+.2f}</td>"
        f"<td class=num>{cur['attribution'][d]['log_odds']['mean'] - a['mean']:+.2f}</td></tr>"
        for d, a in prev["attribution"].items()
        if d in cur["attribution"]
    )
    return (
        f"<p>Previous passing fit: <code>{html.escape(prev['fit_id'])}</code> (data to "
        f"{prev['data_cutoff']}).</p><table><tr><th></th><th>previous</th><th>this fit</th>"
        f"<th>change</th></tr>{body}</table>"
    )


def what_moved(forecast: dict) -> str:
    """A plain-language paragraph built from the numbers."""
    base = forecast["baseline"]
    h = forecast["horizon_weeks"]
    attr = forecast["attribution"]
    top = max(attr, key=lambda d: abs(attr[d]["log_odds"]["mean"]))
    direction = "raises" if attr[top]["log_odds"]["mean"] > 0 else "lowers"
    scen = forecast["scenarios"]
    worst = max(scen, key=lambda n: scen[n]["p_liquidity_event"]["mean"]) if scen else None
    text = (
        f"The model puts the probability of a catalogued-type liquidity event within "
        f"{h} weeks at {pct(base['p_liquidity_event']['mean'])} (90% interval "
        f"{pct(base['p_liquidity_event']['q05'])} to {pct(base['p_liquidity_event']['q95'])})"
        f", and of a QE restart ({forecast['qe_definition']} definition) at "
        f"{pct(base['p_qe_restart']['mean'])}. The stress regime's probability in the last "
        f"data week is {pct(forecast['p_stress_now']['mean'])}. Of the five drivers, "
        f"{top} {direction} the odds of entering stress most "
        f"({attr[top]['log_odds']['mean']:+.2f} log-odds vs its history)."
    )
    if worst:
        text += (
            f" The most severe scenario is {worst}: "
            f"{pct(scen[worst]['p_liquidity_event']['mean'])} for a liquidity event."
        )
    under_way = [k.replace("_", " ") for k, on in forecast.get("event_under_way", {}).items() if on]
    if under_way:
        text += (
            f" A catalogued {' and '.join(under_way)} event is under way in the last data "
            "week; the event probability includes its going on into the next week "
            "(the model's continuation probability, the same in calm and stress)."
        )
    if not forecast["qe_at_risk"]:
        text += (
            " The Fed is already buying under this QE definition, so no restart can occur "
            "in the horizon."
        )
    prev = forecast.get("previous")
    if prev:
        delta = base["p_liquidity_event"]["mean"] - prev["p_liquidity_event"]["mean"]
        text += (
            f" Since the previous passing fit the event probability moved "
            f"{100 * delta:+.1f} percentage points."
        )
    return text


STYLE = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px}
th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}img{max-width:100%}
.warn{background:#fee;border:2px solid #c00;padding:8px}.meta{color:#555}
.answer{border:2px solid #333;padding:4px 12px;margin:1em 0}.big{font-size:1.6em;font-weight:bold}
.ok{color:#060}.bad{color:#c00}.fresh{margin:0;padding-left:1.2em}
table{max-width:100%;overflow-x:auto;display:block}.headline{display:table}
@media (max-width:600px){body{margin:0.5em}.big{font-size:1.2em}.answer{padding:2px 6px}
.headline th,.headline td{padding:3px 4px}}"""


def render(forecast: dict, fit: Fit) -> str:
    warn = (
        ""
        if forecast["fit_convergence_passed"]
        else (
            "<p class=warn><b>This fit FAILED the convergence gate.</b> Its numbers are shown for "
            "review only and must not be used for decisions.</p>"
        )
    )
    missing = [d for d, a in forecast["attribution"].items() if not a["current_observed"]]
    missing_note = (
        f"<p class=meta>Not observed in the last data week (model estimate used, "
        f"with its uncertainty in every interval): {', '.join(missing)}.</p>"
        if missing
        else ""
    )
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>liqshock outlook {forecast['data_cutoff']}</title><style>{STYLE}</style>"
        "</head><body>",
        f"<h1>liqshock outlook: next {forecast['horizon_weeks']} weeks</h1>",
        warn,
        answer_box(forecast),
        f"<p class=meta>Data cut-off <b>{forecast['data_cutoff']}</b> (last data week "
        f"{forecast['last_data_week']}); fit <code>{html.escape(forecast['fit_id'])}</code>; "
        f"{forecast['draws']} posterior draws, seed {forecast['seed']}. Probabilities are "
        f"posterior means with 90% intervals across draws.</p>",
        "<h2>Headline and scenarios</h2>",
        headline_table(forecast),
        f"<p>{html.escape(what_moved(forecast))}</p>",
        missing_note,
        "<h2>P(stress) history</h2>",
        embed(figures.stress_history(fit, forecast), "P(stress) history"),
        "<h2>Scenario paths</h2>",
        embed(figures.stress_paths(forecast), "P(stress) paths"),
        embed(figures.first_event_chart(forecast), "weeks to first event"),
        "<h2>Drivers and attribution</h2>",
        attribution_table(forecast),
        embed(figures.attribution_chart(forecast), "attribution"),
        embed(figures.driver_fan_charts(fit, forecast), "driver fan charts"),
        "<h2>Change since the previous fit</h2>",
        change_table(forecast),
        "</body></html>",
    ]
    return "\n".join(parts)
