"""HTTP API for the verification service (FastAPI): the spec's routes on CodeService, JWT auth.

`create_app(service, settings)` builds the app; `serve()` runs it under uvicorn.
"""
