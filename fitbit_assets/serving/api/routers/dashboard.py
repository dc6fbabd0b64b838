"""The coordinator dashboard: plain HTML/JS with vendored uPlot under ``static/``, no build step; ``/signin`` is
its sign-in page."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html")


@router.get("/signin")
def sign_in_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "signin.html")
