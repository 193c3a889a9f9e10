"""liqshock data layer: raw sources -> validated series -> weekly as-known panel + events.

Public interface: :func:`data.panel.build_panel`, :class:`data.panel.Panel`,
:func:`data.sources.resolve_source`, :mod:`data.catalogue`, :class:`data.errors.DataError`.
"""
