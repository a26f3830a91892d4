"""The Litestar app: REST over storage, the live WebSocket stream, OpenAPI, the web UI.

The API reads storage and subscribes to the live hub; it never imports the poller.
"""
