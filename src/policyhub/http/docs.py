"""``/docs`` and ``/redoc`` that work offline: Swagger UI and ReDoc from the assets installed with
``fastapi-offline`` (served under ``/static-docs``), never from a CDN."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS = Path(str(files("fastapi_offline") / "static"))
PREFIX = "/static-docs"
#: The pages may fetch only from this server: ReDoc's bundle shows a logo from cdn.redoc.ly, which the
#: browser now never requests (an offline machine would wait on it; an online one would call out).
OFFLINE = {"Content-Security-Policy": "img-src 'self' data:; font-src 'self' data:; connect-src 'self'"}


def install_docs(app: FastAPI) -> None:
    """Serve the API documentation pages (the app is built with ``docs_url=None, redoc_url=None``)."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="static-docs")
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _offline(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=title,
                swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
                swagger_css_url=f"{PREFIX}/swagger-ui.css",
                swagger_favicon_url=f"{PREFIX}/favicon.png",
                oauth2_redirect_url="/docs/oauth2-redirect",
                swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from validator.swagger.io
            )
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return _offline(
            get_redoc_html(
                openapi_url=openapi_url,
                title=title,
                redoc_js_url=f"{PREFIX}/redoc.standalone.js",
                redoc_favicon_url=f"{PREFIX}/favicon.png",
                with_google_fonts=False,
            )
        )


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers.update(OFFLINE)
    return page
