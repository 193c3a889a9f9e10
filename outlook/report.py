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

from model.records.store import Fit
from outlook import figures

#: Plain names of the drivers for the committee's page.
DRIVER_NAMES = {d: label for d, (label, _) in figures.DRIVER_LABELS.items()}


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def pp(d: dict, decimals: int = 1) -> str:
    """A change in probability, in percentage points, with its 90% interval."""
    m, lo, hi = (100 * d[k] for k in ("mean", "q05", "q95"))
    return f"{m:+.{decimals}f} pp <small>({lo:+.{decimals}f} to {hi:+.{decimals}f})</small>"


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
        f"<tr><td><b>{html.escape(n.replace('_', ' '))}</b><br><small>{html.escape(d)}</small></td>"
        f"<td class=num>{triple(r['p_liquidity_event'])}</td>"
        f"<td class=num>{triple(r['p_qe_restart'])}</td>"
        f"<td class=num>{triple(r['p_stress_path'][-1])}</td></tr>"
        for n, d, r in rows
    )
    h = forecast["horizon_weeks"]
    return (
        f"<table><tr><th>scenario</th><th>P(liquidity event within {h} weeks)</th>"
        f"<th>P(QE restart within {h} weeks)</th><th>P(stress regime) in week {h}</th></tr>"
        f"{body}</table>"
    )


def weeks_between(earlier: str, later: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days // 7


def review_href(forecast: dict) -> str:
    return html.escape(forecast.get("review_href", ""), quote=True)


def change_cell(forecast: dict, key: str) -> str:
    """Change of a headline probability since the previous report, in percentage points."""
    prev = forecast.get("previous")
    if not prev:
        return "<small>no earlier report</small>"
    delta = forecast["baseline"][key]["mean"] - prev[key]["mean"]
    return f"{100 * delta:+.1f} pp<br><small>since {html.escape(prev['data_cutoff'])}</small>"


def _scores_sentence(part: dict, events: str = "an event onset") -> str:
    skill, auroc = part["brier_skill"], part["auroc"]
    return (
        f"{part['n_origins']} forecasts, {part['n_onsets']} with {events}: Brier skill "
        f"vs base rate {skill['mean']:+.2f} (90%: {skill['q05']:+.2f} to {skill['q95']:+.2f}), "
        f"AUROC {auroc['mean']:.2f} ({auroc['q05']:.2f} to {auroc['q95']:.2f}; 0.5 = no "
        "ranking skill)"
    )


def track_record_line(forecast: dict) -> str:
    """How the model did out of sample (the period that chose nothing), the whole period
    beside it, its onsets and the years it had no forecast."""
    record = forecast.get("track_record", {})
    if not record.get("available"):
        return (
            "<p data-check=track_record><b>Track record:</b> "
            "no backtest of this model version was found "
            f"({html.escape(record.get('reason', 'none given'))}); nothing shows this model "
            "beats the base rate.</p>"
        )
    whose = (
        "<b>track record of the previous model version</b> (this version has no backtest yet), "
        if record.get("previous_version")
        else ""
    )
    verdict = html.escape(record["verdict"])
    if record["verdict"] != "better than the base rate":
        verdict = f"<b>{verdict}</b>"
    parts = [
        f"<p data-check=track_record><b>Track record</b> ({whose}each forecast from a fit "
        "that saw only its own past). "
    ]
    if record.get("out_of_sample"):
        parts.append(
            "Out of sample, origins from 2020-01 (after the variant was chosen): "
            f"{_scores_sentence(record['out_of_sample'])}: {verdict}. "
        )
    else:
        parts.append(f"No out-of-sample score; whole period: {verdict}. ")
    whole = record["whole"]
    parts.append(f"Whole period: {_scores_sentence(whole)}: {html.escape(whole['verdict'])}.")
    if record.get("missing_years"):
        years = ", ".join(str(y) for y in record["missing_years"])
        parts.append(f" No model forecast in {years} (no refit had passed the gate yet).")
    parts.append("</p>")
    return "".join(parts)


def qe_table(forecast: dict) -> str:
    """Both QE definitions: what each counts, its base rate and this model's probability
    where the fit was trained on it; below, each one's track record on at-risk origins."""
    definitions = forecast.get("qe_definitions")
    if not definitions:
        return ""
    h = forecast["horizon_weeks"]
    rows, records = [], []
    for name, d in definitions.items():
        if not d["at_risk"]:
            model = "the Fed is buying under this definition: no restart can occur"
        elif d["modelled"]:
            p = forecast["baseline"]["p_qe_restart"]
            model = f"<b>{pct(p['mean'])}</b> (90%: {pct(p['q05'])} – {pct(p['q95'])})"
        else:
            model = f"not modelled by this fit (refit with --qe-definition {name})"
        rows.append(
            f"<tr data-check=qe_{name}><th scope=row>{name}</th>"
            f"<td>{html.escape(d['what'])}</td><td class=num>{pct(d['base_rate'])}</td>"
            f"<td>{model}</td></tr>"
        )
        record = d["track_record"]
        if record.get("available"):
            whose = "previous model version, " if record.get("previous_version") else ""
            track = (
                f"{whose}at-risk origins: {_scores_sentence(record['whole'], 'a restart')}: "
                f"<b>{html.escape(record['whole']['verdict'])}</b>"
            )
        else:
            track = "no backtest of this definition"
        records.append(f"<li data-check=qe_record_{name}><b>{name}</b>: {track}.</li>")
    return (
        f"<h2>Fed QE restart within {h} weeks: two definitions</h2>"
        "<table data-check=qe_definitions><tr><th>definition</th><th>what counts</th>"
        f"<th>base rate</th><th>this model</th></tr>{''.join(rows)}</table>"
        "<p>Track record (backtest, whole period):</p>"
        f"<ul>{''.join(records)}</ul>"
    )


def answer_box(forecast: dict) -> str:
    """The first screen: how likely, against what base rate, how far to trust it, how fresh,
    what changed."""
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
            f"<tr data-check={key}><th scope=row>{html.escape(label)}</th>"
            f"<td><span class=big>{pct(d['mean'])}"
            f"</span><br><small>90%: {pct(d['q05'])} – {pct(d['q95'])}</small></td>"
            f"<td class=num>{rate}</td><td class=num>{change_cell(forecast, key)}</td></tr>"
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
        "<th>base rate<br><small>(past windows)</small></th><th>change</th></tr>"
        + "".join(rows)
        + "</table>"
        + track_record_line(forecast)
        + f"<p data-check=gate>Fit {gate} "
        f"(<a href='{review_href(forecast)}'>reviewer's page</a>).</p>"
        f"<p>Data as known on <b>{cutoff}</b>, last data week {forecast['last_data_week']}:</p>"
        f"<ul class=fresh data-check=freshness>{''.join(fresh)}</ul></section>"
    )


def mid_sentence(label: str) -> str:
    """'Basis-trade size' -> 'basis-trade size'; a proper name ('Treasury General Account')
    keeps its capitals."""
    words = label.split()
    return label if len(words) > 1 and words[1][0].isupper() else label[0].lower() + label[1:]


#: The stress observables a scenario may assume, in the words of the page.
OBSERVED_WORDS = {"log_move": "MOVE", "funding_spread": "the funding spread"}


def kind_words(kind: dict) -> str:
    """A scenario's kind in plain words (forecast.json's ``kind``)."""

    def words(names: list[str]) -> str:
        return ", ".join(mid_sentence(DRIVER_NAMES.get(d, d).split(":")[0]) for d in names)

    observed = [OBSERVED_WORDS[d] for d in kind.get("observes", [])]
    if kind.get("observes_move"):  # forecasts written before funding could be observed
        observed = ["MOVE"]
    parts = [f"observes {' and '.join(observed)}: a conditional forecast"] if observed else []
    if kind.get("moves_drivers"):
        parts.append("moves " + words(kind["moves_drivers"]))
    if kind.get("not_read"):
        parts.append("sets " + words(kind["not_read"]) + ", which this model does not read")
    return "; ".join(parts)


def scenario_table(forecast: dict) -> str:
    """Scenarios as their effect on the baseline, paired draw by draw, largest rise first."""
    scen = forecast["scenarios"]
    if not scen:
        return "<p>No scenarios were given.</p>"
    order = sorted(scen, key=lambda n: -scen[n]["change_vs_baseline"]["p_liquidity_event"]["mean"])
    body = "".join(
        f"<tr><td><b>{html.escape(n.replace('_', ' '))}</b><br>"
        f"<small>{html.escape(scen[n]['description'])}</small><br>"
        f"<small><i>{html.escape(kind_words(scen[n].get('kind', {})))}</i></small></td>"
        f"<td class=num>{pp(scen[n]['change_vs_baseline']['p_liquidity_event'])}</td>"
        f"<td class=num>{pct(scen[n]['p_liquidity_event']['mean'])}</td>"
        f"<td class=num>{pp(scen[n]['change_vs_baseline']['p_qe_restart'])}</td></tr>"
        for n in order
    )
    return (
        "<table><tr><th>scenario</th><th>change in P(event) vs baseline (90%)</th>"
        "<th>P(event)</th><th>change in P(QE restart) (90%)</th></tr>" + body + "</table>"
        "<p class=meta>Each scenario reuses the baseline's posterior draws and driver shocks, "
        "so the interval is of the scenario's own effect, not of the forecast's noise. A "
        "scenario that sets MOVE or the funding spread is a conditional forecast: those "
        "weeks enter the regime filter as observations, so a value the model reads as "
        "stress raises P(stress) and P(event); a scenario on a driver moves the "
        "transitions; one on a series the model does not read changes nothing.</p>"
    )


def attribution_table(forecast: dict) -> str:
    """Reference probability, each driver's share, and the total they add up to."""
    attribution = forecast["attribution"]
    body = "".join(
        f"<tr><td>{html.escape(DRIVER_NAMES.get(d, d))}</td>"
        f"<td class=num>{a['current_value']['mean']:.3g}"
        f"{'' if a['current_observed'] else ' <b>(estimated)</b>'}</td>"
        f"<td class=num>{a['historical_mean']:.3g}</td><td class=num>{pp(a['share'], 2)}</td></tr>"
        for d, a in attribution["drivers"].items()
    )
    reference = attribution["reference"]
    total = forecast["baseline"]["p_liquidity_event"]
    return (
        "<table><tr><th>driver</th><th>now (own unit)</th><th>historical mean</th>"
        "<th>share of P(event) (90%)</th></tr>"
        f"<tr><td><i>all drivers at their historical mean</i></td><td></td><td></td>"
        f"<td class=num>{triple(reference)}</td></tr>{body}"
        f"<tr><td><b>total: this forecast</b></td><td></td><td></td>"
        f"<td class=num><b>{triple(total)}</b></td></tr></table>"
        f"<p class=meta>Shares are exact Shapley values over the {len(attribution['drivers'])} "
        "drivers: they add up "
        "to the forecast minus the reference draw by draw; the regime probability at the "
        "cut-off is held as it is.</p>"
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
    shares = {d: a["share"] for d, a in cur["attribution"]["drivers"].items()}
    rows = [
        ("P(liquidity event)", prev["p_liquidity_event"], cur["baseline"]["p_liquidity_event"]),
        ("P(QE restart)", prev["p_qe_restart"], cur["baseline"]["p_qe_restart"]),
        ("P(stress regime) now", prev["p_stress_now"], cur["p_stress_now"]),
    ]
    body = "".join(
        f"<tr><td>{n}</td><td class=num>{triple(a)}</td><td class=num>{triple(b)}"
        f"</td><td class=num>{100 * (b['mean'] - a['mean']):+.1f} pp</td></tr>"
        for n, a, b in rows
    )
    body += "".join(
        f"<tr><td>share: {html.escape(DRIVER_NAMES.get(d, d))}</td>"
        f"<td class=num>{100 * a['mean']:+.2f} pp</td>"
        f"<td class=num>{100 * shares[d]['mean']:+.2f} pp</td>"
        f"<td class=num>{100 * (shares[d]['mean'] - a['mean']):+.2f} pp</td></tr>"
        for d, a in prev["attribution"].items()
        if d in shares
    )
    source = (
        "as its report showed them"
        if prev.get("source") == "stored"
        else "<b>recomputed with today's code</b> (no stored report of it was found)"
    )
    return (
        f"<p>Previous passing fit: <code>{html.escape(prev['fit_id'])}</code> (data to "
        f"{prev['data_cutoff']}), its numbers {source}.</p>"
        "<table><tr><th></th><th>previous</th><th>this fit</th>"
        f"<th>change</th></tr>{body}</table>"
    )


def revision_table(forecast: dict) -> str:
    """The change of each headline probability split into steps that add up: code and
    settings since the previous report, new and revised data under the previous
    parameters, re-estimation (the split statsmodels' ``news`` makes of a revision)."""
    prev, rev = forecast.get("previous"), forecast.get("revision")
    if not prev or not rev:
        reason = forecast.get("revision_unavailable")
        return f"<p class=meta>No split of the change: {html.escape(reason)}</p>" if reason else ""
    rows = []
    for key, label in (
        ("p_liquidity_event", "P(liquidity event)"),
        ("p_qe_restart", "P(QE restart)"),
    ):
        shown = prev[key]["mean"]
        again = rev["recomputed"][key]["mean"]
        new_data = rev["previous_parameters_new_data"][key]["mean"]
        now = forecast["baseline"][key]["mean"]
        steps = (
            ("code and settings since that report", again - shown),
            ("new and revised data, previous parameters", new_data - again),
            ("re-estimation on the new data", now - new_data),
        )
        cells = "".join(f"<td class=num>{100 * d:+.2f} pp</td>" for _, d in steps)
        rows.append(
            f"<tr><td>{label}</td><td class=num>{pct(shown)}</td>{cells}"
            f"<td class=num>{pct(now)}</td></tr>"
        )
    return (
        "<table><tr><th></th><th>previous report</th><th>code and settings</th>"
        "<th>new and revised data (previous parameters)</th><th>re-estimation</th>"
        "<th>this report</th></tr>" + "".join(rows) + "</table>"
        "<p class=meta>The steps add up to the change; each is a difference of posterior "
        "means from the same draws count and seed.</p>"
    )


def what_moved(forecast: dict) -> str:
    """A plain-language paragraph built from the numbers."""
    base = forecast["baseline"]
    h = forecast["horizon_weeks"]
    attr = forecast["attribution"]["drivers"]
    top = max(attr, key=lambda d: abs(attr[d]["share"]["mean"]))
    direction = "raises" if attr[top]["share"]["mean"] > 0 else "lowers"
    scen = forecast["scenarios"]
    change = {n: scen[n]["change_vs_baseline"]["p_liquidity_event"] for n in scen}
    measurable = [n for n in scen if change[n]["q05"] > 0 or change[n]["q95"] < 0]
    raisers = [n for n in measurable if change[n]["q05"] > 0]
    worst = max(raisers, key=lambda n: change[n]["mean"]) if raisers else None
    text = (
        f"The model puts the probability of a catalogued-type liquidity event within "
        f"{h} weeks at {pct(base['p_liquidity_event']['mean'])} (90% interval "
        f"{pct(base['p_liquidity_event']['q05'])} to {pct(base['p_liquidity_event']['q95'])})"
        f", and of a QE restart ({forecast['qe_definition']} definition) at "
        f"{pct(base['p_qe_restart']['mean'])}. Of the {len(attr)} drivers, "
        f"{DRIVER_NAMES.get(top, top).split(':')[0].lower()} {direction} the event "
        f"probability most ({100 * attr[top]['share']['mean']:+.2f} percentage points against "
        "its historical mean)."
    )
    if scen and not measurable:
        text += (
            " No scenario changes the event probability measurably: the 90% interval of "
            "every scenario's change includes zero."
        )
    elif scen and worst is None:
        text += " No scenario raises the event probability measurably."
    elif worst:
        text += (
            f" The scenario that raises it most is {worst.replace('_', ' ')}: "
            f"{pct(scen[worst]['p_liquidity_event']['mean'])} for a liquidity event "
            f"({100 * scen[worst]['change_vs_baseline']['p_liquidity_event']['mean']:+.1f} "
            "percentage points)."
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
table{max-width:100%;overflow-x:auto;display:block}.headline{display:table}h1,.meta{overflow-wrap:anywhere}
@media (max-width:600px){body{margin:0.5em}.big{font-size:1.2em}.answer{padding:2px 6px}
.headline th,.headline td{padding:3px 4px}.headline{font-size:0.85em}
.headline td.num{white-space:normal}}"""


def episode_sentence(forecast: dict) -> str:
    """P(an objective episode starts), the episode rules applied to the simulated paths,
    against the base rate of such starts."""
    odds = forecast["observables"].get("p_episode_start")
    if not odds:
        return ""
    base = forecast.get("objective_base_rate")
    against = (
        f" (base rate {pct(base['p'])}: the share of past {forecast['horizon_weeks']}-week "
        f"windows with one, as the backtest knew it on {base['origin']})"
        if base
        else " (no backtest gives its base rate)"
    )
    return (
        "Applying the objective-episode rules to these paths, a funding or volatility episode "
        f"starts within {forecast['horizon_weeks']} weeks on {pct(odds['any'])} of them "
        f"(funding {pct(odds['funding'])}, volatility {pct(odds['volatility'])}){against}. "
    )


def observables_note(forecast: dict) -> str:
    """What the fans are, and how far to trust them (docs/backtest.md, stress-at-risk)."""
    fans = forecast["observables"]
    funding, move = fans["funding_spread_max"]["horizon_max"], fans["move"]["horizon_max"]
    return (
        "<p data-check=observables>Simulated from the model: regimes, then each week's "
        "funding spread and MOVE from the regime's emission. Over the next "
        f"{forecast['horizon_weeks']} weeks the weekly maximum funding spread peaks at "
        f"{funding['q50']:.0f} bp (90% of paths: {funding['q05']:.0f} to {funding['q95']:.0f}"
        f" bp) and MOVE at {move['q50']:.0f} ({move['q05']:.0f} to {move['q95']:.0f}); "
        f"{100 * fans['p_stress_any_week']:.0f}% of paths pass through the stress regime. "
        f"{episode_sentence(forecast)}"
        "<b>Read with care:</b> the model's emissions have no level persistence of their "
        "own (calm weeks scatter around the 2006-2026 calm mean), so its fan is centred on "
        "the long-run calm level, not on today's; in the backtest, the series' own recent "
        "past (persistence) forecasts these measures well and the drivers add nothing to it "
        "(docs/backtest.md).</p>"
    )


def render(forecast: dict, fit: Fit) -> str:
    """The committee page (self-contained HTML). Names from the user's scenario file reach
    the figures' labels: matplotlib must print them as typed, never read ``$...$`` in them
    as mathematics (an unknown symbol would stop the report)."""
    import matplotlib.pyplot as plt

    with plt.rc_context({"text.parse_math": False}):
        return page(forecast, fit)


def details_section(forecast: dict, fit: Fit) -> list[str]:
    """The page's last section: the data and draws behind every number, the headline table,
    the drivers' fans, the stress regime, and the link to the reviewer's page."""
    return [
        "<h2>Details</h2>",
        f"<p class=meta>Data cut-off <b>{forecast['data_cutoff']}</b> (last data week "
        f"{forecast['last_data_week']}); fit <code>{html.escape(forecast['fit_id'])}</code>; "
        f"{forecast['draws']} posterior draws, seed {forecast['seed']}. Probabilities are "
        f"posterior means with 90% intervals across draws.</p>",
        headline_table(forecast),
        embed(figures.first_event_chart(forecast), "weeks to first event"),
        embed(figures.driver_fan_charts(fit, forecast), "driver fan charts"),
        "<h3>The stress regime</h3><p class=meta>The model's stress regime is a "
        "rate-volatility state, not an event: it is how the drivers reach the event "
        "probability above.</p>",
        embed(figures.stress_history(fit, forecast), "stress regime history"),
        embed(figures.stress_paths(forecast), "stress regime paths"),
        f"<p id=review>Reviewer's page of this fit: <a href='{review_href(forecast)}'>"
        "convergence, predictive checks, calibration</a> (written by "
        "<code>python -m diagnostics review</code>).</p>",
    ]


def page(forecast: dict, fit: Fit) -> str:
    warn = (
        ""
        if forecast["fit_convergence_passed"]
        else (
            "<p class=warn><b>This fit FAILED the convergence gate.</b> Its numbers are shown for "
            "review only and must not be used for decisions.</p>"
        )
    )
    history = figures.event_probability_history(forecast)
    driver_paths = figures.scenario_driver_paths(forecast)
    parts = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>liqshock outlook {forecast['data_cutoff']}</title><style>{STYLE}</style>"
        "</head><body>",
        f"<h1>liqshock outlook: next {forecast['horizon_weeks']} weeks</h1>",
        warn,
        answer_box(forecast),
        f"<p>{html.escape(what_moved(forecast))}</p>",
        qe_table(forecast),
        "<h2>Scenarios: change against the baseline</h2>",
        scenario_table(forecast),
        "<h2>The stress the model measures, over the horizon</h2>",
        observables_note(forecast),
        embed(figures.observable_fans(forecast), "stress observable fans"),
        "<h2>The event probability as it was known each month</h2>",
        embed(history, "P(event) at each backtest origin")
        if history
        else "<p>No backtest of this model version: no history of the forecast to show.</p>",
        "<h2>Scenarios in detail</h2>",
        embed(figures.scenario_effects_chart(forecast), "scenario effects")
        if forecast["scenarios"]
        else "",
        embed(figures.scenario_event_paths(forecast), "P(event) paths by scenario"),
        embed(driver_paths, "scenario driver paths") if driver_paths else "",
        "<h2>Which drivers make the probability</h2>",
        attribution_table(forecast),
        embed(figures.attribution_chart(forecast), "attribution of P(event)"),
        "<h2>What changed since the previous report</h2>",
        change_table(forecast),
        revision_table(forecast),
        *details_section(forecast, fit),
        "</body></html>",
    ]
    return "\n".join(parts)
