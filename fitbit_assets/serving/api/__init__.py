"""HTTP API (FastAPI) and coordinator dashboard over the read-only query layer; see ``app.create_app``."""

from fitbit_assets.serving.api.app import ApiConfig, create_app

__all__ = ["ApiConfig", "create_app"]
