"""Quality assurance: evaluation forms (scorecards), evaluations of contacts, disputes,
calibration and the weekly random sample. Imported by callcenter.models (one app)."""

__all__: list[str] = []
