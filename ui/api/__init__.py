"""The HTTP API in parts: routers by feature (answers, OpenAI-compatible, documents, service), the
error mapping and the guard. `ui.server.create_app` assembles them."""
