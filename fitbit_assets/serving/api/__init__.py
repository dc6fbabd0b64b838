"""HTTP API (FastAPI) and coordinator dashboard over the read-only query layer; see ``app.create_app``."""

from fitbit_assets.serving.api.app import create_app
from fitbit_assets.serving.api.config import ApiConfig

__all__ = ["ApiConfig", "create_app"]
