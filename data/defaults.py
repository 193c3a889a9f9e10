"""Defaults shared by the data layer, the model and every command line (a light module).

``DEFAULT_START``: the first week of the panel and of every fit. The CFTC, TGA and TIC
series the drivers need are all published from 2006, and MOVE, the funding-spread rates and
the H.4.1 balance sheet long before.
"""

from pathlib import Path

DEFAULT_START = "2006-01-04"

#: The forecast horizon in weeks: the committee's quarter, the backtest's window, the fans.
HORIZON_WEEKS = 13
#: Posterior draws behind the committee's forecast (all of a default fit's 4 x 1000).
FORECAST_DRAWS = 4000
#: Every seeded computation's default seed (sampler, refits, forecasts, searches).
DEFAULT_SEED = 20061
#: The QE-restart definitions (data/catalogue.py says what each counts) and the default.
QE_DEFINITION_NAMES = ("strict", "broad")
DEFAULT_QE_DEFINITION = "strict"

#: Paths of defaults resolve against the repository, wherever a command is run from.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: The public-data snapshot beside the repository (``--data`` or ``LIQSHOCK_DATA`` override).
DEFAULT_SNAPSHOT = REPO_ROOT.parent / "shared" / "data" / "raw"
#: Downloaded FRED series (git-ignored).
DEFAULT_CACHE = REPO_ROOT / ".cache" / "fred"
