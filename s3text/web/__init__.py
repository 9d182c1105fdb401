"""The review server and the portal's JSON API over the store (``s3text serve``).

``create_app(store_path, web_cfg, pipeline_cfg)`` returns a FastAPI application: server-rendered
review pages (queue, candidate, topic, region), the decision form (reviewer identity and CSRF
token required) and the read-only JSON API under ``/api/v1`` (see ``docs/API.md``). It needs the
``fastapi``, ``jinja2`` and ``uvicorn`` packages; ``plotly`` (its bundled plotly.min.js) draws the
charts, which fall back to tables without it.
"""

from s3text.web.app import create_app
from s3text.web.config import WebConfig, load_web_config
from s3text.web.schemas import API_SCHEMA_VERSION

__all__ = ["API_SCHEMA_VERSION", "WebConfig", "create_app", "load_web_config"]
