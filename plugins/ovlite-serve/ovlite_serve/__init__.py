"""``ovlite serve``: ovlite devices behind the KServe v2 (Triton) inference protocol.

The server is started with ``ovlite serve -m name=model.onnx -d DEVICE`` (or the
``ovlite-serve`` script); :func:`ovlite_serve.app.build_app` builds the ASGI application for
embedding.  Importing this package imports nothing of the server.
"""

__version__ = "0.1.0"
