"""/docs: the OpenAPI document rendered as plain HTML by the server (no scripts, no third party).

Swagger UI would load its scripts from a CDN; this page needs none, and is served with a
Content-Security-Policy that forbids any. It is off unless CODE_CONSOLE_API_DOCS=true.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

_STYLE = """
body{font:14px/1.5 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222}
h2{border-top:1px solid #ccc;padding-top:1em}code,pre{background:#f4f4f4;padding:0 .2em}
pre{padding:.5em;overflow:auto}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}
.m{font-weight:bold;text-transform:uppercase}
"""


def _schema(schema: Any) -> str:
    return f"<pre>{escape(json.dumps(schema, indent=2, sort_keys=True))}</pre>"


def render(spec: dict[str, Any]) -> str:
    info = spec.get("info", {})
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(info.get('title', 'API'))} {escape(str(info.get('version', '')))}</h1>",
        f"<p>{escape(info.get('summary', '') or info.get('description', ''))}</p>",
        "<p>Machine-readable: <a href='openapi.json'>openapi.json</a>.</p>",
    ]
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            out.append(f"<h2><span class='m'>{escape(method)}</span> <code>{escape(path)}</code></h2>")
            out.append(f"<p>{escape(op.get('summary', ''))}</p>")
            if op.get("description"):
                out.append(f"<p>{escape(op['description'])}</p>")
            params = op.get("parameters", [])
            if params:
                out.append("<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>")
                for p in params:
                    out.append(
                        f"<tr><td><code>{escape(p.get('name', ''))}</code></td><td>{escape(p.get('in', ''))}</td>"
                        f"<td>{'yes' if p.get('required') else 'no'}</td><td><code>{escape(json.dumps(p.get('schema', {})))}</code></td>"
                        f"<td>{escape(p.get('description', ''))}</td></tr>"
                    )
                out.append("</table>")
            body = op.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                out.append(f"<p>Body <code>{escape(media)}</code>:</p>{_schema(content.get('schema', {}))}")
            for status, response in op.get("responses", {}).items():
                out.append(f"<p>Response <b>{escape(str(status))}</b>: {escape(response.get('description', ''))}</p>")
    out.append("</body></html>")
    return "".join(out)
